package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Element-wise activations. They work on any shape, may write over their
// input (InPlace) and, where the derivative can be written from the output
// y alone, keep only y for Backward (for LeakyReLU and ELU this needs
// alpha >= 0, which Shapes checks, as Keras does).

// unary is the shared part of the element-wise ops.
type unary struct{ noParams }

func (unary) InPlace() bool { return true }

// Saves: the output only; ops whose derivative needs the input override it.
func (unary) Saves() (inputs, outputs bool) { return false, true }

func (unary) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if len(in[0]) == 0 {
		return nil, fmt.Errorf("input is a scalar; want a batch axis")
	}
	return [][]int{in[0]}, nil
}

// ewGrain is the smallest share of an element-wise pass worth handing to
// another core (about 10-20us of memory traffic).
const ewGrain = 1 << 15

// actTask applies an Act (or its derivative from the output) over index
// ranges, so that kernels.Parallel can split it over cores.
type actTask struct {
	a          Act
	grad       bool
	dst, x, dy []float32 // forward: dst = f(x); grad: dst = dy * f'(from x = y)
}

func (t *actTask) Run(lo, hi int) {
	if t.grad {
		t.a.GradFromOutput(t.dst[lo:hi], t.dy[lo:hi], t.x[lo:hi])
		return
	}
	if &t.dst[lo] != &t.x[lo] {
		copy(t.dst[lo:hi], t.x[lo:hi])
	}
	t.a.Apply(t.dst[lo:hi])
}

// runAct computes out = a(in) over all cores.
func runAct(c *Call, a Act, in, out []float32) {
	if len(in) == 0 {
		return
	}
	t := stateOf[actTask](c)
	*t = actTask{a: a, dst: out, x: in}
	kernels.Parallel(len(in), ewGrain, t)
	*t = actTask{}
}

// runActGrad computes din = dout * a'(from y).
func runActGrad(c *Call, a Act, din, dout, y []float32) {
	if len(din) == 0 {
		return
	}
	t := stateOf[actTask](c)
	*t = actTask{a: a, grad: true, dst: din, x: y, dy: dout}
	kernels.Parallel(len(din), ewGrain, t)
	*t = actTask{}
}

// actOp is an activation described entirely by an Act: it fuses into the
// layer before it, and its Backward reads the output.
type actOp struct {
	unary
	act Act
}

func (o *actOp) FusedAct() (Act, bool) { return o.act, true }

func (o *actOp) Forward(c *Call, in, out []*tensor.Tensor) error {
	runAct(c, o.act, in[0].Data, out[0].Data)
	return nil
}

func (o *actOp) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		runActGrad(c, o.act, din[0].Data, dout[0].Data, out[0].Data)
	}
	return nil
}

// ReLU is max(0, x).
type ReLU struct{ actOp }

// NewReLU returns a ReLU.
func NewReLU() *ReLU { return &ReLU{actOp{act: Act{Kind: "relu"}}} }

func (l *ReLU) Kind() string { return "ReLU" }

// DefaultLeakyReLUAlpha is Keras' default negative slope. PyTorch's
// nn.LeakyReLU defaults to 0.01 instead.
const DefaultLeakyReLUAlpha = 0.3

// LeakyReLU is x for x > 0 and Alpha*x otherwise.
type LeakyReLU struct {
	unary
	Alpha float32 `json:"alpha"`
}

// NewLeakyReLU returns a leaky ReLU with negative slope alpha (Keras uses
// DefaultLeakyReLUAlpha = 0.3, PyTorch 0.01). alpha must be >= 0.
func NewLeakyReLU(alpha float32) *LeakyReLU { return &LeakyReLU{Alpha: alpha} }

func (l *LeakyReLU) Kind() string { return "LeakyReLU" }

func (l *LeakyReLU) act() Act { return Act{Kind: "leaky_relu", Alpha: l.Alpha} }

func (l *LeakyReLU) FusedAct() (Act, bool) { return l.act(), true }

func (l *LeakyReLU) Shapes(in [][]int) ([][]int, error) {
	if !(l.Alpha >= 0) {
		return nil, fmt.Errorf("LeakyReLU: alpha %v must be >= 0", l.Alpha)
	}
	return l.unary.Shapes(in)
}

func (l *LeakyReLU) Forward(c *Call, in, out []*tensor.Tensor) error {
	runAct(c, l.act(), in[0].Data, out[0].Data)
	return nil
}

func (l *LeakyReLU) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		runActGrad(c, l.act(), din[0].Data, dout[0].Data, out[0].Data)
	}
	return nil
}

// ELU is x for x > 0 and Alpha*(exp(x)-1) otherwise.
type ELU struct {
	unary
	Alpha float32 `json:"alpha"`
}

// NewELU returns an ELU (Keras and PyTorch default alpha: 1). alpha must be
// >= 0.
func NewELU(alpha float32) *ELU { return &ELU{Alpha: alpha} }

func (l *ELU) Kind() string { return "ELU" }

func (l *ELU) Shapes(in [][]int) ([][]int, error) {
	if !(l.Alpha >= 0) {
		return nil, fmt.Errorf("ELU: alpha %v must be >= 0", l.Alpha)
	}
	return l.unary.Shapes(in)
}

func (l *ELU) Forward(c *Call, in, out []*tensor.Tensor) error {
	a := float64(l.Alpha)
	x, y := in[0].Data, out[0].Data
	for i, v := range x {
		if v <= 0 {
			y[i] = float32(a * math.Expm1(float64(v)))
		} else {
			y[i] = v
		}
	}
	return nil
}

// Backward uses d/dx alpha*(exp(x)-1) = alpha*exp(x) = y + alpha.
func (l *ELU) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	a := l.Alpha
	y, dy, dx := out[0].Data, dout[0].Data, din[0].Data
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		dx[i] = dy[i] * pick(posMask(v), 1, v+a)
	}
	return nil
}

// Sigmoid is 1 / (1 + exp(-x)).
type Sigmoid struct{ actOp }

// NewSigmoid returns a logistic sigmoid.
func NewSigmoid() *Sigmoid { return &Sigmoid{actOp{act: Act{Kind: "sigmoid"}}} }

func (l *Sigmoid) Kind() string { return "Sigmoid" }

// Tanh is the hyperbolic tangent.
type Tanh struct{ actOp }

// NewTanh returns a tanh.
func NewTanh() *Tanh { return &Tanh{actOp{act: Act{Kind: "tanh"}}} }

func (l *Tanh) Kind() string { return "Tanh" }
