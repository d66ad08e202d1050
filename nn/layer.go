package nn

import (
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Layer is one stage of a network.
type Layer interface {
	// Kind is the layer's type name as shown by Summary, e.g. "Conv2D".
	Kind() string
	// Build prepares the layer for inputs of shape in (without the batch
	// dimension), initialises its weights from rng, and returns the output
	// shape (without the batch dimension). It returns an error that names
	// the shape or the setting when they do not fit.
	Build(in []int, rng *rand.Rand) (out []int, err error)
	// Forward computes the output for a batch x of shape (N, in...).
	// training selects training behaviour (dropout active, batch norm
	// using and updating batch statistics).
	Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error)
	// Backward takes dL/dy for the last Forward, adds dL/dparam into each
	// Param's Grad, and returns dL/dx.
	Backward(dy *tensor.Tensor) (*tensor.Tensor, error)
	// Params lists the layer's parameters and state (nil if none).
	Params() []*Param
}

// InputGradSkipper is implemented by layers that can skip computing dL/dx
// when nothing needs it (the first layer of a model). Backward then returns
// a nil tensor.
type InputGradSkipper interface {
	SkipInputGrad(skip bool)
}

// RNGUser is implemented by layers that draw random numbers while training
// (Dropout). The model seeds them so that runs are reproducible.
type RNGUser interface {
	SetRNG(rng *rand.Rand)
}

// Param is a named weight tensor with its gradient. Non-trainable params
// (batch-norm running statistics) have a nil Grad and are skipped by
// optimizers but saved with the model.
type Param struct {
	Name      string // e.g. "kernel", "bias", "gamma", "moving_mean"
	Value     *tensor.Tensor
	Grad      *tensor.Tensor
	Trainable bool
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
