package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Softmax turns the last axis into probabilities:
// y_i = exp(x_i - max x) / sum_j exp(x_j - max x).
// In training with a cross-entropy loss, Sequential fuses it with the loss
// (see LogitsLoss), so its own Backward only runs with other losses.
type Softmax struct {
	y, dx *tensor.Tensor
}

// NewSoftmax returns a softmax over the last axis.
func NewSoftmax() *Softmax { return &Softmax{} }

func (s *Softmax) Kind() string { return "Softmax" }

func (s *Softmax) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || in[len(in)-1] < 1 {
		return nil, fmt.Errorf("Softmax: input shape %s has no last axis to normalise", tensor.ShapeString(in))
	}
	return append([]int(nil), in...), nil
}

func (s *Softmax) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if x.Dims() < 2 {
		return nil, fmt.Errorf("Softmax: input shape %s, want (batch, ..., classes)", tensor.ShapeString(x.Shape))
	}
	s.y = tensor.Reuse(s.y, x.Shape...)
	SoftmaxRows(s.y.Data, x.Data, x.Shape[x.Dims()-1])
	return s.y, nil
}

// Backward applies the softmax Jacobian: dx_i = y_i (dy_i - sum_j dy_j y_j).
func (s *Softmax) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if s.y == nil || !dy.SameShape(s.y) {
		return nil, fmt.Errorf("Softmax: gradient shape %s does not match output %v", tensor.ShapeString(dy.Shape), s.y)
	}
	s.dx = tensor.Reuse(s.dx, dy.Shape...)
	c := dy.Shape[dy.Dims()-1]
	for r := 0; r < len(dy.Data); r += c {
		y, g, d := s.y.Data[r:r+c], dy.Data[r:r+c], s.dx.Data[r:r+c]
		var dot float32
		for j := range y {
			dot += y[j] * g[j]
		}
		for j := range y {
			d[j] = y[j] * (g[j] - dot)
		}
	}
	return s.dx, nil
}

func (s *Softmax) Params() []*Param { return nil }

// SoftmaxRows writes the softmax of each row of c values of src into dst
// (which may alias src).
func SoftmaxRows(dst, src []float32, c int) {
	for r := 0; r+c <= len(src); r += c {
		x, y := src[r:r+c], dst[r:r+c]
		m := x[0]
		for _, v := range x[1:] {
			m = max(m, v)
		}
		var sum float32
		for j, v := range x {
			e := float32(math.Exp(float64(v - m)))
			y[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range y {
			y[j] *= inv
		}
	}
}
