package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Element-wise activations. Each works on any shape and keeps only its
// output y: every derivative here can be written from y alone (for
// LeakyReLU and ELU this needs alpha >= 0, which Build checks, as Keras
// does), so no copy of the input is held.

// activation holds the buffers shared by the element-wise layers.
type activation struct {
	kind  string
	y, dx *tensor.Tensor
}

func (a *activation) Kind() string     { return a.kind }
func (a *activation) Params() []*Param { return nil }

func (a *activation) build(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: empty input shape %s", a.kind, tensor.ShapeString(in))
	}
	return append([]int(nil), in...), nil
}

// apply runs f over x into the layer's output buffer.
func (a *activation) apply(x *tensor.Tensor, f func(dst, src []float32)) (*tensor.Tensor, error) {
	if x == nil || x.Dims() == 0 {
		return nil, fmt.Errorf("%s: input %v has no batch axis", a.kind, x)
	}
	a.y = tensor.Reuse(a.y, x.Shape...)
	f(a.y.Data, x.Data)
	return a.y, nil
}

// grad writes dx = dy * f'(y) with df(y) giving f' from y.
func (a *activation) grad(dy *tensor.Tensor, df func(dx, dy, y []float32)) (*tensor.Tensor, error) {
	if a.y == nil {
		return nil, fmt.Errorf("%s: Backward before Forward", a.kind)
	}
	if !dy.SameShape(a.y) {
		return nil, fmt.Errorf("%s: gradient shape %s does not match output shape %s",
			a.kind, tensor.ShapeString(dy.Shape), tensor.ShapeString(a.y.Shape))
	}
	a.dx = tensor.Reuse(a.dx, dy.Shape...)
	df(a.dx.Data, dy.Data, a.y.Data)
	return a.dx, nil
}

// posMask is all ones when v > 0 and zero otherwise (0, -0, negative,
// NaN with the sign bit set). Backward passes use it instead of an if:
// the sign of activations is random, and mispredicted branches made them
// several times slower.
func posMask(v float32) uint32 {
	k := int32(math.Float32bits(v))
	return uint32((-k & ^k) >> 31) // sign of -k, except for k = MinInt32 (-0)
}

// pick returns a where mask is all ones and b where it is zero.
func pick(mask uint32, a, b float32) float32 {
	ba, bb := math.Float32bits(a), math.Float32bits(b)
	return math.Float32frombits(bb ^ (ba^bb)&mask)
}

// ReLU is max(0, x).
type ReLU struct {
	activation
	task ewTask
	// fused is set by Sequential when the layer before applies the ReLU
	// to its own output (see reluFuser): Forward then passes x through.
	fused bool
	// gradFused is set by Sequential when the next layer (a 2x2 max pool)
	// applies the ReLU's gradient mask itself: Backward passes dy through.
	gradFused bool
	own       *tensor.Tensor // output buffer when not fused (y may alias x)
}

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{activation: activation{kind: "ReLU"}} }

func (l *ReLU) Build(in []int, rng *rand.Rand) ([]int, error) { return l.build(in) }

func (l *ReLU) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if x == nil || x.Dims() == 0 {
		return nil, fmt.Errorf("%s: input %v has no batch axis", l.kind, x)
	}
	if l.fused {
		l.y = x // already max(x, 0); Backward reads the mask from it
		return x, nil
	}
	l.own = tensor.Reuse(l.own, x.Shape...)
	l.y = l.own
	l.task = ewTask{op: ewRelu, dst: l.y.Data, a: x.Data}
	kernels.Parallel(len(x.Data), ewGrain, &l.task)
	l.task = ewTask{}
	return l.y, nil
}

func (l *ReLU) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if l.y == nil {
		return nil, fmt.Errorf("%s: Backward before Forward", l.kind)
	}
	if !dy.SameShape(l.y) {
		return nil, fmt.Errorf("%s: gradient shape %s does not match output shape %s",
			l.kind, tensor.ShapeString(dy.Shape), tensor.ShapeString(l.y.Shape))
	}
	if l.gradFused {
		return dy, nil
	}
	l.dx = tensor.Reuse(l.dx, dy.Shape...)
	l.task = ewTask{op: ewReluGrad, dst: l.dx.Data, a: dy.Data, b: l.y.Data}
	kernels.Parallel(len(dy.Data), ewGrain, &l.task)
	l.task = ewTask{}
	return l.dx, nil
}

// ewGrain is the smallest share of an element-wise pass worth handing to
// another core (about 10-20us of memory traffic).
const ewGrain = 1 << 15

// Element-wise kernels ewTask can run.
const (
	ewRelu     = iota // dst = max(a, 0)
	ewReluGrad        // dst = a where b > 0, else 0
)

// ewTask runs an element-wise kernel over index ranges, so that
// kernels.Parallel can split it over cores.
type ewTask struct {
	op        int
	dst, a, b []float32
}

func (t *ewTask) Run(lo, hi int) {
	switch t.op {
	case ewRelu:
		kernels.Relu(t.dst[lo:hi], t.a[lo:hi])
	case ewReluGrad:
		kernels.ReluGrad(t.dst[lo:hi], t.a[lo:hi], t.b[lo:hi])
	}
}

// DefaultLeakyReLUAlpha is Keras' default negative slope. PyTorch's
// nn.LeakyReLU defaults to 0.01 instead.
const DefaultLeakyReLUAlpha = 0.3

// LeakyReLU is x for x > 0 and Alpha*x otherwise.
type LeakyReLU struct {
	activation
	Alpha float32 `json:"alpha"`
}

// NewLeakyReLU returns a leaky ReLU with negative slope alpha (Keras uses
// DefaultLeakyReLUAlpha = 0.3, PyTorch 0.01). alpha must be >= 0.
func NewLeakyReLU(alpha float32) *LeakyReLU {
	return &LeakyReLU{activation: activation{kind: "LeakyReLU"}, Alpha: alpha}
}

func (l *LeakyReLU) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Alpha >= 0) {
		return nil, fmt.Errorf("LeakyReLU: alpha %v must be >= 0", l.Alpha)
	}
	return l.build(in)
}

func (l *LeakyReLU) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	a := l.Alpha
	return l.apply(x, func(y, x []float32) {
		y = y[:len(x)] // no bounds checks in the loop
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = a * v
			}
		}
	})
}

func (l *LeakyReLU) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	a := l.Alpha
	return l.grad(dy, func(dx, dy, y []float32) {
		dx, dy = dx[:len(y)], dy[:len(y)]
		for i, v := range y {
			dx[i] = dy[i] * pick(posMask(v), 1, a)
		}
	})
}

// ELU is x for x > 0 and Alpha*(exp(x)-1) otherwise.
type ELU struct {
	activation
	Alpha float32 `json:"alpha"`
}

// NewELU returns an ELU layer (Keras and PyTorch default alpha: 1). alpha
// must be >= 0.
func NewELU(alpha float32) *ELU { return &ELU{activation: activation{kind: "ELU"}, Alpha: alpha} }

func (l *ELU) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Alpha >= 0) {
		return nil, fmt.Errorf("ELU: alpha %v must be >= 0", l.Alpha)
	}
	return l.build(in)
}

func (l *ELU) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	a := float64(l.Alpha)
	return l.apply(x, func(y, x []float32) {
		y = y[:len(x)] // no bounds checks in the loop
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = float32(a * math.Expm1(float64(v)))
			}
		}
	})
}

// Backward uses d/dx alpha*(exp(x)-1) = alpha*exp(x) = y + alpha.
func (l *ELU) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	a := l.Alpha
	return l.grad(dy, func(dx, dy, y []float32) {
		dx, dy = dx[:len(y)], dy[:len(y)]
		for i, v := range y {
			dx[i] = dy[i] * pick(posMask(v), 1, v+a)
		}
	})
}

// Sigmoid is 1 / (1 + exp(-x)).
type Sigmoid struct{ activation }

// NewSigmoid returns a logistic sigmoid layer.
func NewSigmoid() *Sigmoid { return &Sigmoid{activation{kind: "Sigmoid"}} }

func (l *Sigmoid) Build(in []int, rng *rand.Rand) ([]int, error) { return l.build(in) }

func (l *Sigmoid) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	return l.apply(x, func(y, x []float32) {
		y = y[:len(x)] // no bounds checks in the loop
		for i, v := range x {
			y[i] = sigmoid(v)
		}
	})
}

func (l *Sigmoid) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	return l.grad(dy, func(dx, dy, y []float32) {
		dx, dy = dx[:len(y)], dy[:len(y)]
		for i, v := range y {
			dx[i] = dy[i] * v * (1 - v)
		}
	})
}

// sigmoid never overflows: exp is only taken of a non-positive number.
func sigmoid(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

// Tanh is the hyperbolic tangent.
type Tanh struct{ activation }

// NewTanh returns a tanh layer.
func NewTanh() *Tanh { return &Tanh{activation{kind: "Tanh"}} }

func (l *Tanh) Build(in []int, rng *rand.Rand) ([]int, error) { return l.build(in) }

func (l *Tanh) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	return l.apply(x, func(y, x []float32) {
		y = y[:len(x)] // no bounds checks in the loop
		for i, v := range x {
			y[i] = float32(math.Tanh(float64(v)))
		}
	})
}

func (l *Tanh) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	return l.grad(dy, func(dx, dy, y []float32) {
		dx, dy = dx[:len(y)], dy[:len(y)]
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	})
}
