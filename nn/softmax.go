package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/tensor"
)

// Softmax turns one axis into probabilities:
// y_i = exp(x_i - max x) / sum_j exp(x_j - max x).
// In training with a cross-entropy loss, the graph fuses a final softmax
// with the loss (see LogitsLoss), so its own Backward only runs with other
// losses or inside a network.
type Softmax struct {
	unary
	// Axis is the normalised axis: 0 or -1 mean the last (the default, as
	// Keras' axis=-1), a positive k axis k, a negative -k the k-th from the
	// end.
	Axis int `json:"axis,omitempty"`
}

// NewSoftmax returns a softmax over the last axis.
func NewSoftmax() *Softmax { return &Softmax{} }

func (s *Softmax) Kind() string { return "Softmax" }

// axis resolves Axis for a tensor of the given rank.
func (s *Softmax) axis(rank int) int {
	switch {
	case s.Axis == 0:
		return rank - 1
	case s.Axis < 0:
		return rank + s.Axis
	}
	return s.Axis
}

// lastAxis reports whether the softmax normalises the last axis of a
// rank-dimensional tensor (so it can be fused into a cross-entropy loss).
func (s *Softmax) lastAxis(rank int) bool { return s.axis(rank) == rank-1 }

func (s *Softmax) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	r := len(in[0])
	if a := s.axis(r); r < 2 || a < 1 || a >= r {
		return nil, fmt.Errorf("Softmax: axis %d does not fit input %s (want an axis after the batch axis)", s.Axis, shapeText(in[0]))
	}
	return [][]int{in[0]}, nil
}

// dims splits a shape around the axis: outer x c x inner.
func (s *Softmax) dims(shape []int) (outer, c, inner int) {
	a := s.axis(len(shape))
	return tensor.Numel(shape[:a]), shape[a], tensor.Numel(shape[a+1:])
}

func (s *Softmax) Forward(c *Call, in, out []*tensor.Tensor) error {
	outer, n, inner := s.dims(in[0].Shape)
	if inner == 1 {
		SoftmaxRows(out[0].Data, in[0].Data, n)
		return nil
	}
	x, y := in[0].Data, out[0].Data
	for o := range outer {
		for i := range inner {
			base := o*n*inner + i
			m := x[base]
			for j := 1; j < n; j++ {
				m = max(m, x[base+j*inner])
			}
			var sum float32
			for j := range n {
				e := float32(math.Exp(float64(x[base+j*inner] - m)))
				y[base+j*inner] = e
				sum += e
			}
			inv := 1 / sum
			for j := range n {
				y[base+j*inner] *= inv
			}
		}
	}
	return nil
}

// Backward applies the softmax Jacobian: dx_i = y_i (dy_i - sum_j dy_j y_j).
func (s *Softmax) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	outer, n, inner := s.dims(out[0].Shape)
	y, g, d := out[0].Data, dout[0].Data, din[0].Data
	for o := range outer {
		for i := range inner {
			base := o*n*inner + i
			var dot float32
			for j := range n {
				k := base + j*inner
				dot += y[k] * g[k]
			}
			for j := range n {
				k := base + j*inner
				d[k] = y[k] * (g[k] - dot)
			}
		}
	}
	return nil
}

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
