package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/tensor"
)

// Flatten reshapes (N, d1, d2, ...) to (N, d1*d2*...). NHWC order is
// kept, so a following Dense sees features ordered (y, x, channel), as in
// Keras. With Axis k > 1 the output is (d0*...*d(k-1), dk*...), ONNX
// Flatten's axis (0 or 1 is the default split after the batch axis). The
// output is a view of the input (Aliaser): nothing is copied.
type Flatten struct {
	noParams
	Axis int `json:"axis,omitempty"`
}

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
	k := max(f.Axis, 1)
	if k > len(s) {
		return nil, fmt.Errorf("Flatten: axis %d is beyond input shape %s", f.Axis, shapeText(s))
	}
	prod := func(ds []int) int {
		n := 1
		for _, d := range ds {
			if d < 0 {
				return -1
			}
			n *= d
		}
		return n
	}
	if k == 1 {
		return [][]int{{s[0], prod(s[1:])}}, nil
	}
	return [][]int{{prod(s[:k]), prod(s[k:])}}, nil
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
