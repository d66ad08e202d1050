package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Element-wise math of imported graphs: the unary functions of ONNX (Exp,
// Log, Sqrt, Erf, Floor, the trigonometric functions, ...) as one op type,
// UnaryMath, whose Func is its kind, and the broadcasting binary functions
// Pow, Max, Min and Mod as BinaryMath. Integer tensors are carried as
// float32 values (exact below 2^24), so Floor, Trunc and Round also serve
// integer casts and divisions.

// mathFuncs maps UnaryMath.Func to the kernel function; boolean results
// (IsNaN, IsInf, Not) have no gradient.
var mathFuncs = map[string]struct {
	f    kernels.MathFunc
	bool bool
}{
	"Exp": {kernels.MathExp, false}, "Log": {kernels.MathLog, false}, "Sqrt": {kernels.MathSqrt, false},
	"Neg": {kernels.MathNeg, false}, "Abs": {kernels.MathAbs, false}, "Reciprocal": {kernels.MathReciprocal, false},
	"Erf": {kernels.MathErf, false}, "Floor": {kernels.MathFloor, false}, "Ceil": {kernels.MathCeil, false},
	"Round": {kernels.MathRound, false}, "Trunc": {kernels.MathTrunc, false}, "Sign": {kernels.MathSign, false},
	"Sin": {kernels.MathSin, false}, "Cos": {kernels.MathCos, false}, "Tan": {kernels.MathTan, false},
	"Asin": {kernels.MathAsin, false}, "Acos": {kernels.MathAcos, false}, "Atan": {kernels.MathAtan, false},
	"Sinh": {kernels.MathSinh, false}, "Cosh": {kernels.MathCosh, false}, "Asinh": {kernels.MathAsinh, false},
	"Acosh": {kernels.MathAcosh, false}, "Atanh": {kernels.MathAtanh, false},
	"Softplus": {kernels.MathSoftplus, false}, "Softsign": {kernels.MathSoftsign, false},
	"Selu": {kernels.MathSelu, false}, "Celu": {kernels.MathCelu, false},
	"ThresholdedRelu": {kernels.MathThresholdedRelu, false},
	"IsNaN":           {kernels.MathIsNaN, true}, "IsInf": {kernels.MathIsInf, true}, "Not": {kernels.MathNot, true},
	"RoundFloat16": {kernels.MathFloat16, false}, "RoundBFloat16": {kernels.MathBFloat16, false},
}

// UnaryMathFuncs lists the functions UnaryMath computes, sorted.
func UnaryMathFuncs() []string {
	fs := make([]string, 0, len(mathFuncs))
	for f := range mathFuncs {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}

// UnaryMath is an element-wise function y = Func(x), named as ONNX's
// operators: Exp, Log, Sqrt, Neg, Abs, Reciprocal, Erf, Floor, Ceil, Round
// (half to even), Trunc, Sign, Sin, Cos, Tan, Asin, Acos, Atan, Sinh,
// Cosh, Asinh, Acosh, Atanh, Softplus, Softsign, Selu (Alpha, Gamma), Celu
// (Alpha), ThresholdedRelu (Alpha), IsNaN, IsInf (Alpha, Gamma non-zero:
// detect +inf, -inf), Not (1 where x is 0), RoundFloat16 and RoundBFloat16
// (a cast to those types). Kind is Func. Piecewise-constant functions have
// a zero gradient (as in PyTorch); IsNaN, IsInf and Not give booleans (0
// or 1) and no gradient.
type UnaryMath struct {
	unary
	Func  string  `json:"func"`
	Alpha float32 `json:"alpha,omitempty"`
	Gamma float32 `json:"gamma,omitempty"`
}

// NewUnaryMath returns the element-wise function fn (an ONNX name, see
// UnaryMath).
func NewUnaryMath(fn string) *UnaryMath { return &UnaryMath{Func: fn} }

func init() {
	for _, fn := range UnaryMathFuncs() {
		mustRegister(func() Op { return &UnaryMath{Func: fn} })
	}
	for _, fn := range []string{"Pow", "Max", "Min", "Mod"} {
		mustRegister(func() Op { return &BinaryMath{Func: fn} })
	}
}

// Kind is Func.
func (o *UnaryMath) Kind() string { return o.Func }

// Saves: both; derivatives read the input or the output.
func (o *UnaryMath) Saves() (inputs, outputs bool) { return true, true }

// NoGrad: boolean results have no gradient.
func (o *UnaryMath) NoGrad(i int) bool { return mathFuncs[o.Func].bool }

// Shapes checks Func; the output has the input's shape (any rank).
func (o *UnaryMath) Shapes(in [][]int) ([][]int, error) {
	if _, ok := mathFuncs[o.Func]; !ok {
		return nil, fmt.Errorf("UnaryMath: unknown function %q", o.Func)
	}
	if o.Func == "Celu" && o.Alpha == 0 {
		return nil, fmt.Errorf("Celu: alpha must not be 0")
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	return [][]int{slices.Clone(in[0])}, nil
}

// mathTask runs a UnaryMath pass over index ranges on every core.
type mathTask struct {
	f             kernels.MathFunc
	grad          bool
	dst, x, y, dy []float32
	alpha, gamma  float32
}

func (t *mathTask) Run(lo, hi int) {
	if t.grad {
		kernels.MathGrad(t.f, t.dst[lo:hi], t.dy[lo:hi], t.x[lo:hi], t.y[lo:hi], t.alpha, t.gamma)
		return
	}
	kernels.Math(t.f, t.dst[lo:hi], t.x[lo:hi], t.alpha, t.gamma)
}

// mathGrain: these functions cost tens of nanoseconds a value.
const mathGrain = 1 << 12

func (o *UnaryMath) Forward(c *Call, in, out []*tensor.Tensor) error {
	f, ok := mathFuncs[o.Func]
	if !ok {
		return fmt.Errorf("UnaryMath: unknown function %q", o.Func)
	}
	t := stateOf[mathTask](c)
	*t = mathTask{f: f.f, dst: out[0].Data, x: in[0].Data, alpha: o.Alpha, gamma: o.Gamma}
	kernels.Parallel(len(in[0].Data), mathGrain, t)
	*t = mathTask{}
	return nil
}

func (o *UnaryMath) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	f, ok := mathFuncs[o.Func]
	if !ok || f.bool {
		return fmt.Errorf("%s is not differentiable", o.Func)
	}
	t := stateOf[mathTask](c)
	*t = mathTask{f: f.f, grad: true, dst: din[0].Data, x: in[0].Data, y: out[0].Data, dy: dout[0].Data, alpha: o.Alpha, gamma: o.Gamma}
	kernels.Parallel(len(din[0].Data), mathGrain, t)
	*t = mathTask{}
	return nil
}

// BinaryMath is an element-wise function of two broadcast inputs, named
// as ONNX's operators: Pow (a^b), Max, Min, and Mod (the remainder with
// the divisor's sign, Python's %, or with Fmod C's fmod, the dividend's
// sign). The gradient of Max and Min goes to the larger (smaller) input,
// split evenly on ties; Mod's is 1 for a and -floor(a/b) (trunc with
// Fmod) for b.
type BinaryMath struct {
	binary
	Func string `json:"func"`
	Fmod bool   `json:"fmod,omitempty"`
}

// NewBinaryMath returns the element-wise function fn: "Pow", "Max", "Min"
// or "Mod".
func NewBinaryMath(fn string) *BinaryMath { return &BinaryMath{Func: fn} }

// Kind is Func.
func (o *BinaryMath) Kind() string { return o.Func }

// Saves: both inputs and the output (Pow's gradient reads it).
func (o *BinaryMath) Saves() (inputs, outputs bool) { return true, true }

func (o *BinaryMath) Shapes(in [][]int) ([][]int, error) {
	switch o.Func {
	case "Pow", "Max", "Min", "Mod":
	default:
		return nil, fmt.Errorf("BinaryMath: unknown function %q (want Pow, Max, Min or Mod)", o.Func)
	}
	return o.binary.Shapes(in)
}

// fn returns the scalar function (nil for an unknown Func).
func (o *BinaryMath) fn() func(x, y float32) float32 {
	switch o.Func {
	case "Pow":
		return powf
	case "Max":
		return func(x, y float32) float32 {
			if x != x || y != y {
				return float32(math.NaN())
			}
			return max(x, y)
		}
	case "Min":
		return func(x, y float32) float32 {
			if x != x || y != y {
				return float32(math.NaN())
			}
			return min(x, y)
		}
	case "Mod":
	default:
		return nil
	}
	if o.Fmod {
		return func(x, y float32) float32 { return float32(math.Mod(float64(x), float64(y))) }
	}
	return func(x, y float32) float32 {
		r := math.Mod(float64(x), float64(y))
		if r != 0 && (r < 0) != (y < 0) {
			r += float64(y)
		}
		return float32(r)
	}
}

// powf is a^b with the common exponents exact and fast.
func powf(x, y float32) float32 {
	switch y {
	case 1:
		return x
	case 2:
		return x * x
	case 0.5:
		return float32(math.Sqrt(float64(x)))
	}
	return float32(math.Pow(float64(x), float64(y)))
}

func (o *BinaryMath) Forward(c *Call, in, out []*tensor.Tensor) error {
	f := o.fn()
	if f == nil {
		return fmt.Errorf("BinaryMath: unknown function %q (want Pow, Max, Min or Mod)", o.Func)
	}
	return binaryForward(c, in, out, f)
}

// Backward computes each input's gradient, summed over the axes it was
// broadcast along.
func (o *BinaryMath) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil && din[1] == nil {
		return nil
	}
	var d func(x, y, z float32) (float32, float32)
	switch o.Func {
	case "Pow":
		d = func(x, y, z float32) (float32, float32) {
			da := y * powf(x, y-1)
			var db float32
			if x > 0 {
				db = z * float32(math.Log(float64(x)))
			}
			return da, db
		}
	case "Max", "Min":
		sign := float32(1)
		if o.Func == "Min" {
			sign = -1
		}
		d = func(x, y, z float32) (float32, float32) {
			switch {
			case x == y:
				return 0.5, 0.5
			case (x-y)*sign > 0:
				return 1, 0
			}
			return 0, 1
		}
	case "Mod":
		d = func(x, y, z float32) (float32, float32) {
			q := float64(x) / float64(y)
			if o.Fmod {
				return 1, -float32(math.Trunc(q))
			}
			return 1, -float32(math.Floor(q))
		}
	default:
		return fmt.Errorf("BinaryMath: unknown function %q", o.Func)
	}
	bc, err := stateOf[binStates](c).bwd.plan(in[0].Shape, in[1].Shape, dout[0].Shape)
	if err != nil {
		return err
	}
	for _, g := range din {
		if g != nil {
			clear(g.Data)
		}
	}
	a, b, z, g := in[0].Data, in[1].Data, out[0].Data, dout[0].Data
	bc.each(func(o, ia, ib, n, sa, sb int) {
		for i := range n {
			da, db := d(a[ia+i*sa], b[ib+i*sb], z[o+i])
			if t := din[0]; t != nil {
				t.Data[ia+i*sa] += g[o+i] * da
			}
			if t := din[1]; t != nil {
				t.Data[ib+i*sb] += g[o+i] * db
			}
		}
	})
	return nil
}
