package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/tensor"
)

// Dropout zeroes each value with probability Rate while training and
// scales the survivors by 1/(1-Rate) ("inverted" dropout), so inference is
// the identity and needs no rescaling. The mask comes from the node's
// generator (Call.RNG), which the model seeds: the same seed gives the same
// masks.
type Dropout struct {
	noParams
	Rate float32 `json:"rate"`
}

// dropoutState is the mask of the last training Forward.
type dropoutState struct {
	mask     []float32 // 0 or 1/(1-Rate) per value
	training bool
}

// NewDropout returns a dropout op dropping a fraction rate in [0, 1).
func NewDropout(rate float32) *Dropout { return &Dropout{Rate: rate} }

func (d *Dropout) Kind() string { return "Dropout" }

func (d *Dropout) InPlace() bool { return true }

// Saves: nothing; Backward reads the mask.
func (d *Dropout) Saves() (inputs, outputs bool) { return false, false }

func (d *Dropout) Shapes(in [][]int) ([][]int, error) {
	if !(d.Rate >= 0 && d.Rate < 1) {
		return nil, fmt.Errorf("Dropout: rate %v must be in [0, 1)", d.Rate)
	}
	return unary{}.Shapes(in)
}

// Forward copies x at inference; in training it applies a fresh mask.
func (d *Dropout) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[dropoutState](c)
	x, y := in[0].Data, out[0].Data
	st.training = c.Train
	if !c.Train {
		copy(y, x)
		return nil
	}
	if c.RNG == nil {
		c.RNG = NewRNG(0)
	}
	if cap(st.mask) < len(x) {
		st.mask = make([]float32, len(x))
	}
	st.mask = st.mask[:len(x)]
	scale := 1 / (1 - d.Rate)
	for i, v := range x {
		if c.RNG.Float32() < d.Rate {
			st.mask[i] = 0
		} else {
			st.mask[i] = scale
		}
		y[i] = v * st.mask[i]
	}
	return nil
}

func (d *Dropout) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	st := stateOf[dropoutState](c)
	dy, dx := dout[0].Data, din[0].Data
	if !st.training || len(st.mask) != len(dy) {
		copy(dx, dy)
		return nil
	}
	for i, v := range dy {
		dx[i] = v * st.mask[i]
	}
	return nil
}
