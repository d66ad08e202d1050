package nn

import (
	"github.com/dlcv-go/dlcv/tensor"
)

// Layer is an Op used as one stage of a Sequential model: one input, one
// output. Every Op with one input and one output is a Layer.
type Layer = Op

// Param is a named weight tensor with its gradient. Non-trainable params
// (batch-norm running statistics, frozen weights) have a nil Grad and are
// skipped by optimizers but saved with the model.
type Param struct {
	Name      string // e.g. "kernel", "bias", "gamma", "moving_mean"
	Value     *tensor.Tensor
	Grad      *tensor.Tensor
	Trainable bool

	derived *derived // a copy for frozen graphs (frozen.go)
}

// NewParam makes a trainable parameter with a zeroed gradient.
func NewParam(name string, value *tensor.Tensor) *Param {
	return &Param{Name: name, Value: value, Grad: tensor.New(value.Shape...), Trainable: true}
}

// NewState makes a non-trainable parameter (no gradient).
func NewState(name string, value *tensor.Tensor) *Param {
	return &Param{Name: name, Value: value}
}

// ZeroGrads clears the gradients of params.
func ZeroGrads(params []*Param) {
	for _, p := range params {
		if p.Grad != nil {
			p.Grad.Zero()
		}
	}
}
