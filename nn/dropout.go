package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Dropout zeroes each value with probability Rate while training and
// scales the survivors by 1/(1-Rate) ("inverted" dropout), so inference is
// the identity and needs no rescaling. The mask is drawn from the
// generator set by SetRNG (Sequential seeds it); the same generator state
// gives the same mask.
type Dropout struct {
	Rate float32 `json:"rate"`

	rng      *rand.Rand
	training bool
	mask     []float32 // 0 or 1/(1-Rate) per value, from the last training Forward
	y, dx    *tensor.Tensor
}

// NewDropout returns a dropout layer dropping a fraction rate in [0, 1).
func NewDropout(rate float32) *Dropout { return &Dropout{Rate: rate} }

func (d *Dropout) Kind() string { return "Dropout" }

// SetRNG sets the generator the masks are drawn from.
func (d *Dropout) SetRNG(rng *rand.Rand) { d.rng = rng }

func (d *Dropout) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(d.Rate >= 0 && d.Rate < 1) {
		return nil, fmt.Errorf("Dropout: rate %v must be in [0, 1)", d.Rate)
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("Dropout: empty input shape %s", tensor.ShapeString(in))
	}
	return append([]int(nil), in...), nil
}

func (d *Dropout) Params() []*Param { return nil }

// Forward copies x at inference; in training it applies a fresh mask. A
// layer used without SetRNG draws from NewRNG(0).
func (d *Dropout) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if x == nil || x.Dims() == 0 {
		return nil, fmt.Errorf("Dropout: input %v has no batch axis", x)
	}
	d.training = training
	d.y = tensor.Reuse(d.y, x.Shape...)
	if !training {
		copy(d.y.Data, x.Data)
		return d.y, nil
	}
	if d.rng == nil {
		d.rng = NewRNG(0)
	}
	if cap(d.mask) < len(x.Data) {
		d.mask = make([]float32, len(x.Data))
	}
	d.mask = d.mask[:len(x.Data)]
	scale := 1 / (1 - d.Rate)
	for i, v := range x.Data {
		if d.rng.Float32() < d.Rate {
			d.mask[i] = 0
		} else {
			d.mask[i] = scale
		}
		d.y.Data[i] = v * d.mask[i]
	}
	return d.y, nil
}

func (d *Dropout) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if d.y == nil {
		return nil, fmt.Errorf("Dropout: Backward before Forward")
	}
	if !dy.SameShape(d.y) {
		return nil, fmt.Errorf("Dropout: gradient shape %s does not match output shape %s",
			tensor.ShapeString(dy.Shape), tensor.ShapeString(d.y.Shape))
	}
	d.dx = tensor.Reuse(d.dx, dy.Shape...)
	if !d.training {
		copy(d.dx.Data, dy.Data)
		return d.dx, nil
	}
	for i, v := range dy.Data {
		d.dx.Data[i] = v * d.mask[i]
	}
	return d.dx, nil
}
