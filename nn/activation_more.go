package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// More element-wise activations: Clip and ReLU6, HardSigmoid, HardSwish,
// SiLU, GELU (all fusable into the layer before them, see ActOp) and PReLU
// (a learned slope per channel). Where the derivative is a function of
// the output (Clip, ReLU6, HardSigmoid), Backward reads the output, as the
// ops of activation.go do; HardSwish, SiLU and GELU are not invertible,
// so they keep their input instead.

func init() {
	mustRegister(
		func() Op { return NewClip(0, 6) },
		func() Op { return NewReLU6() },
		func() Op { return NewHardSigmoid() },
		func() Op { return NewHardSwish() },
		func() Op { return NewSiLU() },
		func() Op { return NewGELU("") },
		func() Op { return NewPReLU(false) },
	)
}

// finite reports whether v is neither infinite nor NaN.
func finite(v float32) bool { return !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v)) }

// Clip is min(max(x, Min), Max): ONNX Clip, PyTorch's hardtanh and clamp.
// Its derivative, 1 strictly inside (Min, Max) and 0 where the input was
// clipped (as PyTorch's hardtanh), is read from the output. The bounds
// must be finite (model files are JSON): give a one-sided clip a bound of
// ±math.MaxFloat32.
type Clip struct {
	unary
	Min float32 `json:"min"`
	Max float32 `json:"max"`
}

// NewClip returns a clip to [lo, hi].
func NewClip(lo, hi float32) *Clip { return &Clip{Min: lo, Max: hi} }

// Kind is "Clip", ONNX's name.
func (l *Clip) Kind() string { return "Clip" }

func (l *Clip) act() Act { return Act{Kind: "clip", Min: l.Min, Max: l.Max} }

// FusedAct implements ActOp: clip(Min, Max).
func (l *Clip) FusedAct() (Act, bool) { return l.act(), true }

// Shapes checks the bounds; the output has the input's shape.
func (l *Clip) Shapes(in [][]int) ([][]int, error) {
	if !finite(l.Min) || !finite(l.Max) || !(l.Min <= l.Max) {
		return nil, fmt.Errorf("Clip: bounds min %v, max %v must be finite with min <= max", l.Min, l.Max)
	}
	return l.unary.Shapes(in)
}

// Forward clips every value.
func (l *Clip) Forward(c *Call, in, out []*tensor.Tensor) error {
	runAct(c, l.act(), in[0].Data, out[0].Data)
	return nil
}

// Backward passes dy where the output is strictly inside (Min, Max).
func (l *Clip) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		runActGrad(c, l.act(), din[0].Data, dout[0].Data, out[0].Data)
	}
	return nil
}

// ReLU6 is min(max(x, 0), 6) (MobileNet's activation, Keras ReLU with
// max_value 6, PyTorch ReLU6): a Clip from 0 to 6 of its own kind, so that
// summaries and model files name it.
type ReLU6 struct{ actOp }

// NewReLU6 returns a ReLU6.
func NewReLU6() *ReLU6 { return &ReLU6{actOp{act: Act{Kind: "clip", Min: 0, Max: 6}}} }

// Kind is "ReLU6".
func (l *ReLU6) Kind() string { return "ReLU6" }

// Hard-sigmoid defaults: ONNX's (and Keras 2's). PyTorch's hardsigmoid is
// Alpha 1/6, Beta 0.5.
const (
	DefaultHardSigmoidAlpha = 0.2
	DefaultHardSigmoidBeta  = 0.5
)

// HardSigmoid is min(max(Alpha*x + Beta, 0), 1), a piecewise-linear
// sigmoid. Its derivative is Alpha where the output is strictly inside
// (0, 1) and 0 where it was clipped (PyTorch's convention at the kinks),
// read from the output.
type HardSigmoid struct {
	unary
	Alpha float32 `json:"alpha"`
	Beta  float32 `json:"beta"`
}

// NewHardSigmoid returns a hard sigmoid with ONNX's Alpha 0.2 and Beta 0.5
// (set Alpha to 1/6 for PyTorch's).
func NewHardSigmoid() *HardSigmoid {
	return &HardSigmoid{Alpha: DefaultHardSigmoidAlpha, Beta: DefaultHardSigmoidBeta}
}

// Kind is "HardSigmoid", ONNX's name.
func (l *HardSigmoid) Kind() string { return "HardSigmoid" }

func (l *HardSigmoid) act() Act { return Act{Kind: "hard_sigmoid", Alpha: l.Alpha, Beta: l.Beta} }

// FusedAct implements ActOp. The fused act is only used at inference
// (Act.FromOutput is false for it).
func (l *HardSigmoid) FusedAct() (Act, bool) { return l.act(), true }

// Shapes checks Alpha and Beta; the output has the input's shape.
func (l *HardSigmoid) Shapes(in [][]int) ([][]int, error) {
	if !finite(l.Alpha) || !finite(l.Beta) {
		return nil, fmt.Errorf("HardSigmoid: alpha %v and beta %v must be finite", l.Alpha, l.Beta)
	}
	return l.unary.Shapes(in)
}

// Forward applies the hard sigmoid.
func (l *HardSigmoid) Forward(c *Call, in, out []*tensor.Tensor) error {
	ewForward(c, l.act(), in[0].Data, out[0].Data)
	return nil
}

// Backward is Alpha*dy where the output is strictly inside (0, 1).
func (l *HardSigmoid) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		ewBackward(c, l.act(), din[0].Data, dout[0].Data, out[0].Data)
	}
	return nil
}

// inputAct is an activation described by an Act whose derivative needs
// the input: it keeps the input for Backward.
type inputAct struct {
	unary
	act Act
}

// Saves: the input.
func (inputAct) Saves() (inputs, outputs bool) { return true, false }

// FusedAct implements ActOp (fused at inference only).
func (o *inputAct) FusedAct() (Act, bool) { return o.act, true }

// Forward applies the activation.
func (o *inputAct) Forward(c *Call, in, out []*tensor.Tensor) error {
	ewForward(c, o.act, in[0].Data, out[0].Data)
	return nil
}

// Backward is dy times the derivative at the input.
func (o *inputAct) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		ewBackward(c, o.act, din[0].Data, dout[0].Data, in[0].Data)
	}
	return nil
}

// HardSwish is x * min(max(x+3, 0), 6) / 6 (MobileNetV3's h-swish). Its
// derivative at the kinks follows PyTorch's vectorised kernel: 0 below -3,
// x/3 + 0.5 on [-3, 3), 1 from 3 up.
type HardSwish struct {
	inputAct
	// Scale, when not 0, replaces the 1/6: a TF.js graph model stores
	// the 1/6 of its decomposed hard swish as float16 (0.16663), and the
	// fused op computes what the model does (FuseDecomposed).
	Scale float32 `json:"scale,omitempty"`
}

// NewHardSwish returns a hard swish.
func NewHardSwish() *HardSwish { return &HardSwish{inputAct: inputAct{act: Act{Kind: "hard_swish"}}} }

// Kind is "HardSwish", ONNX's name.
func (l *HardSwish) Kind() string { return "HardSwish" }

func (l *HardSwish) scaled() Act { return Act{Kind: "hard_swish", Alpha: l.Scale} }

// FusedAct implements ActOp (fused at inference only).
func (l *HardSwish) FusedAct() (Act, bool) { return l.scaled(), true }

// Forward applies the hard swish.
func (l *HardSwish) Forward(c *Call, in, out []*tensor.Tensor) error {
	ewForward(c, l.scaled(), in[0].Data, out[0].Data)
	return nil
}

// Backward is dy times the derivative at the input.
func (l *HardSwish) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		ewBackward(c, l.scaled(), din[0].Data, dout[0].Data, in[0].Data)
	}
	return nil
}

// SiLU is x * sigmoid(x), also called swish (EfficientNet's activation).
type SiLU struct{ inputAct }

// NewSiLU returns a SiLU.
func NewSiLU() *SiLU { return &SiLU{inputAct{act: Act{Kind: "silu"}}} }

// Kind is "SiLU", PyTorch's name.
func (l *SiLU) Kind() string { return "SiLU" }

// GELU is x * Phi(x), Phi the standard normal distribution function
// (through erfc, accurate for negative x too), or with Approximate "tanh"
// PyTorch's approximation 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))).
type GELU struct {
	unary
	// Approximate is "" or "none" (exact) or "tanh", as PyTorch's
	// approximate argument.
	Approximate string `json:"approximate,omitempty"`
}

// NewGELU returns a GELU; approximate is "" (exact) or "tanh".
func NewGELU(approximate string) *GELU { return &GELU{Approximate: approximate} }

// Kind is "GELU".
func (l *GELU) Kind() string { return "GELU" }

// Saves: the input.
func (l *GELU) Saves() (inputs, outputs bool) { return true, false }

func (l *GELU) act() Act {
	if l.Approximate == "tanh" {
		return Act{Kind: "gelu_tanh"}
	}
	return Act{Kind: "gelu"}
}

// FusedAct implements ActOp (fused at inference only).
func (l *GELU) FusedAct() (Act, bool) { return l.act(), true }

// Shapes checks Approximate; the output has the input's shape.
func (l *GELU) Shapes(in [][]int) ([][]int, error) {
	switch l.Approximate {
	case "", "none", "tanh":
	default:
		return nil, fmt.Errorf("GELU: approximate %q, want \"none\" or \"tanh\"", l.Approximate)
	}
	return l.unary.Shapes(in)
}

// Forward applies the GELU.
func (l *GELU) Forward(c *Call, in, out []*tensor.Tensor) error {
	ewForward(c, l.act(), in[0].Data, out[0].Data)
	return nil
}

// Backward is dy times the derivative at the input.
func (l *GELU) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		ewBackward(c, l.act(), din[0].Data, dout[0].Data, in[0].Data)
	}
	return nil
}

// ewState is the per-session state of the activations above: the tasks
// that split their passes over the cores.
type ewState struct {
	fwd fwdTask
	bwd gradTask
}

// ewForward computes out = a(in) over all cores.
func ewForward(c *Call, a Act, in, out []float32) {
	if len(in) == 0 {
		return
	}
	st := stateOf[ewState](c)
	st.fwd = fwdTask{a: a, dst: out, x: in}
	kernels.Parallel(len(in), ewGrain, &st.fwd)
	st.fwd = fwdTask{}
}

// fwdTask is ewForward's work over index ranges. The kernels write dst
// from x directly: Act.Apply works in place, and copying x to dst first
// would add a pass over memory when the output has its own buffer (in
// training, where the input is kept for Backward).
type fwdTask struct {
	a      Act
	dst, x []float32
}

// Run implements kernels.Task.
func (t *fwdTask) Run(lo, hi int) {
	dst, x := t.dst[lo:hi], t.x[lo:hi]
	switch t.a.Kind {
	case "hard_swish":
		kernels.HardSwish(dst, x)
		if s := t.a.Alpha; s != 0 {
			kernels.Scal(6*s, dst[:len(x)])
		}
	case "silu":
		kernels.SiLU(dst, x)
	case "gelu":
		kernels.GELU(dst, x)
	case "gelu_tanh":
		kernels.GELUTanh(dst, x)
	case "hard_sigmoid":
		al, be := t.a.Alpha, t.a.Beta
		dst = dst[:len(x)]
		for i, v := range x {
			dst[i] = min(max(al*v+be, 0), 1)
		}
	default:
		if &dst[0] != &x[0] {
			copy(dst, x)
		}
		t.a.Apply(dst)
	}
}

// ewBackward computes dx = dy * a'(x) from v, which is the input x, or for
// hard_sigmoid the output.
func ewBackward(c *Call, a Act, dx, dy, v []float32) {
	if len(dx) == 0 {
		return
	}
	st := stateOf[ewState](c)
	st.bwd = gradTask{a: a, dx: dx, dy: dy, v: v}
	kernels.Parallel(len(dx), ewGrain, &st.bwd)
	st.bwd = gradTask{}
}

// gradTask is ewBackward's work over index ranges.
type gradTask struct {
	a         Act
	dx, dy, v []float32
}

// Run implements kernels.Task.
func (t *gradTask) Run(lo, hi int) {
	dx, dy, v := t.dx[lo:hi], t.dy[lo:hi], t.v[lo:hi]
	switch t.a.Kind {
	case "hard_sigmoid":
		// From the output: Alpha strictly inside (0, 1).
		al := t.a.Alpha
		for i, y := range v {
			d := al
			if !(y > 0 && y < 1) {
				d = 0
			}
			dx[i] = dy[i] * d
		}
	case "hard_swish":
		kernels.HardSwishGrad(dx, dy, v)
		if s := t.a.Alpha; s != 0 {
			kernels.Scal(6*s, dx[:len(v)])
		}
	case "silu":
		kernels.SiLUGrad(dx, dy, v)
	case "gelu":
		kernels.GELUGrad(dx, dy, v)
	case "gelu_tanh":
		kernels.GELUTanhGrad(dx, dy, v)
	default:
		panic("nn: gradTask for activation " + t.a.Kind)
	}
}

// DefaultPReLUAlpha is the initial slope, PyTorch's (Keras starts at 0).
const DefaultPReLUAlpha = 0.25

// PReLU is x for x > 0 and alpha*x otherwise with a learned alpha: one per
// channel (the last axis), or one for all values when Shared (PyTorch's
// nn.PReLU() default). The param is "alpha", initialised to
// DefaultPReLUAlpha. At 0 the derivative is alpha (PyTorch's convention).
type PReLU struct {
	Shared bool `json:"shared,omitempty"`

	alpha *Param
	c     int // channels of the alpha param (1 when shared)
}

// NewPReLU returns a PReLU with a slope per channel, or one shared slope.
func NewPReLU(shared bool) *PReLU { return &PReLU{Shared: shared} }

// Kind is "PReLU".
func (l *PReLU) Kind() string { return "PReLU" }

// InPlace: the output may be written over the input at inference.
func (l *PReLU) InPlace() bool { return true }

// Saves: the input (the derivative by alpha is x).
func (l *PReLU) Saves() (inputs, outputs bool) { return true, false }

// Shapes checks the channel count; the output has the input's shape.
func (l *PReLU) Shapes(in [][]int) ([][]int, error) {
	if _, err := (unary{}).Shapes(in); err != nil {
		return nil, err
	}
	s := in[0]
	if !l.Shared {
		if len(s) < 2 {
			return nil, fmt.Errorf("PReLU: input shape %s has no channel axis after the batch axis (use Shared for one slope)", shapeText(s))
		}
		c := s[len(s)-1]
		if l.alpha != nil && c != -1 && c != l.c {
			return nil, fmt.Errorf("PReLU: input shape %s has %d channels, built for %d", shapeText(s), c, l.c)
		}
	}
	return [][]int{s}, nil
}

// Build makes alpha: one value per channel, or one when Shared.
func (l *PReLU) Build(in [][]int, _ *rand.Rand) error {
	l.c = 1
	if !l.Shared {
		l.c = in[0][len(in[0])-1]
		if l.c < 1 {
			return fmt.Errorf("PReLU: the channel count must be known when the graph is built, got %s", shapeText(in[0]))
		}
	}
	l.alpha = NewParam("alpha", tensor.New(l.c))
	l.alpha.Value.Fill(DefaultPReLUAlpha)
	return nil
}

// Params returns alpha.
func (l *PReLU) Params() []*Param {
	if l.alpha == nil {
		return nil
	}
	return []*Param{l.alpha}
}

// Alpha is the slope param (nil before Build).
func (l *PReLU) Alpha() *Param { return l.alpha }

// Forward is x where x > 0 and alpha*x elsewhere.
func (l *PReLU) Forward(c *Call, in, out []*tensor.Tensor) error {
	if l.alpha == nil {
		return fmt.Errorf("PReLU: Forward before Build")
	}
	st := stateOf[preluState](c)
	ch, a := st.slopes(l, len(in[0].Data))
	st.task = chanTask{mode: chanPReLU, x: in[0].Data, y: out[0].Data, a: a}
	st.pass(len(in[0].Data), ch, false)
	return nil
}

// preluState is PReLU's per-session state: the channel passes, and a
// shared slope repeated 8 times, so that the vector kernels see rows of 8
// channels.
type preluState struct {
	chanRunner
	a8 [8]float32
}

// slopes returns the channel count and the slopes the passes use for n
// values.
func (st *preluState) slopes(l *PReLU, n int) (int, []float32) {
	if l.c == 1 && n%8 == 0 {
		for i := range st.a8 {
			st.a8[i] = l.alpha.Value.Data[0]
		}
		return 8, st.a8[:]
	}
	return l.c, l.alpha.Value.Data
}

// Backward: dx = dy where x > 0 and alpha*dy elsewhere; dalpha = sum of
// dy*x where x <= 0 (over everything for a shared alpha).
func (l *PReLU) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if l.alpha == nil {
		return fmt.Errorf("PReLU: Backward before Build")
	}
	g := l.alpha.Grad
	var dx []float32
	if din[0] != nil {
		dx = din[0].Data
	}
	if g == nil && dx == nil {
		return nil
	}
	st := stateOf[preluState](c)
	n := len(in[0].Data)
	ch, a := st.slopes(l, n)
	st.task = chanTask{mode: chanPReLUGrad, x: in[0].Data, dy: dout[0].Data, y: dx, a: a}
	s, _ := st.pass(n, ch, true)
	if g != nil {
		if l.c == 1 {
			var sum float64
			for _, v := range s {
				sum += v
			}
			g.Data[0] += float32(sum)
		} else {
			for j, v := range s {
				g.Data[j] += float32(v)
			}
		}
	}
	return nil
}
