package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/tensor"
)

// Flatten reshapes (N, d1, d2, ...) to (N, d1*d2*...). NHWC order is
// kept, so a following Dense sees features ordered (y, x, channel), as in
// Keras. The output is a view of the input (Aliaser): nothing is copied.
type Flatten struct{ noParams }

// NewFlatten returns a Flatten op.
func NewFlatten() *Flatten { return &Flatten{} }

func (f *Flatten) Kind() string { return "Flatten" }

func (f *Flatten) Alias() bool { return true }

func (f *Flatten) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) < 2 {
		return nil, fmt.Errorf("Flatten: input shape %s has nothing to flatten after the batch axis", shapeText(s))
	}
	n := 1
	for _, d := range s[1:] {
		if d < 0 {
			n = -1
			break
		}
		n *= d
	}
	return [][]int{{s[0], n}}, nil
}

func (f *Flatten) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, in[0].Data) // only when run outside a Session
	return nil
}

func (f *Flatten) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		copy(din[0].Data, dout[0].Data)
	}
	return nil
}
