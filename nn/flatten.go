package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Flatten reshapes (N, d1, d2, ...) to (N, d1*d2*...). NHWC order is
// kept, so a following Dense sees features ordered (y, x, channel), as in
// Keras. Forward and Backward return views sharing the data of their input.
type Flatten struct {
	in    []int
	y, dx tensor.Tensor // headers only; Data aliases the input
}

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

func (f *Flatten) Kind() string { return "Flatten" }

func (f *Flatten) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("Flatten: input shape %s has nothing to flatten", tensor.ShapeString(in))
	}
	f.in = append([]int(nil), in...)
	return []int{tensor.Numel(in)}, nil
}

func (f *Flatten) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if f.in == nil {
		return nil, fmt.Errorf("Flatten: Forward before Build")
	}
	if x.Dims() != len(f.in)+1 || !tensor.EqualShape(x.Shape[1:], f.in) {
		return nil, fmt.Errorf("Flatten: input shape %s, built for %s", tensor.ShapeString(x.Shape), batchShape(f.in))
	}
	f.y.Shape = append(f.y.Shape[:0], x.Shape[0], tensor.Numel(f.in))
	f.y.Data = x.Data
	return &f.y, nil
}

func (f *Flatten) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if f.y.Data == nil || !dy.SameShape(&f.y) {
		return nil, fmt.Errorf("Flatten: gradient shape %s, want output shape %s", tensor.ShapeString(dy.Shape), tensor.ShapeString(f.y.Shape))
	}
	f.dx.Shape = append(append(f.dx.Shape[:0], dy.Shape[0]), f.in...)
	f.dx.Data = dy.Data
	return &f.dx, nil
}

func (f *Flatten) Params() []*Param { return nil }
