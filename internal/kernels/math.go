package kernels

import (
	"fmt"
	"math"
)

// Element-wise math functions of imported graphs (ONNX's unary operators)
// and their derivatives, in Go: they are rare in the convolutional
// networks dlcv runs (an importer fuses the common patterns, x*sigmoid(x)
// and the erf GELU, into the activations of activation.go), so they
// compute in float64 through package math and need no assembly.

// MathFunc selects the function of Math and MathGrad.
type MathFunc uint8

// The functions. Alpha and Gamma are the attributes of Selu (alpha,
// gamma), Celu (alpha) and ThresholdedRelu (alpha).
const (
	MathExp MathFunc = iota
	MathLog
	MathSqrt
	MathNeg
	MathAbs
	MathReciprocal
	MathErf
	MathFloor
	MathCeil
	MathRound // half to even, as ONNX Round
	MathTrunc // toward zero (an integer cast)
	MathSign
	MathSin
	MathCos
	MathTan
	MathAsin
	MathAcos
	MathAtan
	MathSinh
	MathCosh
	MathAsinh
	MathAcosh
	MathAtanh
	MathSoftplus
	MathSoftsign
	MathSelu
	MathCelu
	MathThresholdedRelu
	MathIsNaN
	MathIsInf    // Alpha, Gamma != 0: detect +inf, -inf
	MathNot      // 1 where x == 0
	MathFloat16  // round to the nearest binary16 value (a cast to float16)
	MathBFloat16 // round to the nearest bfloat16 value
	mathCount
)

// Math sets dst[i] = f(src[i]). dst and src may be the same slice.
func Math(f MathFunc, dst, src []float32, alpha, gamma float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Math: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	if f >= mathCount {
		panic(fmt.Sprintf("kernels.Math: unknown function %d", f))
	}
	a, g := float64(alpha), float64(gamma)
	for i, v := range src {
		x := float64(v)
		var y float64
		switch f {
		case MathExp:
			y = math.Exp(x)
		case MathLog:
			y = math.Log(x)
		case MathSqrt:
			y = math.Sqrt(x)
		case MathNeg:
			dst[i] = -v
			continue
		case MathAbs:
			dst[i] = float32(math.Abs(x))
			continue
		case MathReciprocal:
			dst[i] = 1 / v
			continue
		case MathErf:
			y = math.Erf(x)
		case MathFloor:
			y = math.Floor(x)
		case MathCeil:
			y = math.Ceil(x)
		case MathRound:
			y = math.RoundToEven(x)
		case MathTrunc:
			y = math.Trunc(x)
		case MathSign:
			switch {
			case v > 0:
				y = 1
			case v < 0:
				y = -1
			default:
				y = x // 0, -0 and NaN stay
			}
		case MathSin:
			y = math.Sin(x)
		case MathCos:
			y = math.Cos(x)
		case MathTan:
			y = math.Tan(x)
		case MathAsin:
			y = math.Asin(x)
		case MathAcos:
			y = math.Acos(x)
		case MathAtan:
			y = math.Atan(x)
		case MathSinh:
			y = math.Sinh(x)
		case MathCosh:
			y = math.Cosh(x)
		case MathAsinh:
			y = math.Asinh(x)
		case MathAcosh:
			y = math.Acosh(x)
		case MathAtanh:
			y = math.Atanh(x)
		case MathSoftplus:
			// log(1 + e^x) without overflow.
			y = max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		case MathSoftsign:
			y = x / (1 + math.Abs(x))
		case MathSelu:
			if x > 0 {
				y = g * x
			} else {
				y = g * a * math.Expm1(x)
			}
		case MathCelu:
			y = max(0, x) + min(0, a*math.Expm1(x/a))
		case MathThresholdedRelu:
			if x > a {
				y = x
			}
		case MathIsNaN:
			y = b2f(math.IsNaN(x))
		case MathIsInf:
			pos, neg := alpha != 0, gamma != 0
			y = b2f((pos && math.IsInf(x, 1)) || (neg && math.IsInf(x, -1)))
		case MathNot:
			y = b2f(v == 0)
		case MathFloat16:
			dst[i] = RoundFloat16(v)
			continue
		case MathBFloat16:
			dst[i] = RoundBFloat16(v)
			continue
		}
		dst[i] = float32(y)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MathGrad sets dx[i] = dy[i] * f'(x[i]), where y = f(x) is the forward
// output (some derivatives read it). Functions that are piecewise
// constant (Floor, Ceil, Round, Trunc, Sign, and the tests) have a zero
// derivative, as in PyTorch; the float16 roundings pass the gradient.
// dx may be dy.
func MathGrad(f MathFunc, dx, dy, x, y []float32, alpha, gamma float32) {
	if len(dx) != len(x) || len(dy) != len(x) || len(y) != len(x) {
		panic(fmt.Sprintf("kernels.MathGrad: lengths dx %d, dy %d, x %d, y %d differ", len(dx), len(dy), len(x), len(y)))
	}
	a, g := float64(alpha), float64(gamma)
	for i, v := range x {
		xv, yv := float64(v), float64(y[i])
		var d float64
		switch f {
		case MathExp:
			d = yv
		case MathLog:
			d = 1 / xv
		case MathSqrt:
			d = 0.5 / yv
		case MathNeg:
			d = -1
		case MathAbs:
			switch {
			case xv > 0:
				d = 1
			case xv < 0:
				d = -1
			}
		case MathReciprocal:
			d = -yv * yv
		case MathErf:
			d = 2 / math.SqrtPi * math.Exp(-xv*xv)
		case MathSin:
			d = math.Cos(xv)
		case MathCos:
			d = -math.Sin(xv)
		case MathTan:
			d = 1 + yv*yv
		case MathAsin:
			d = 1 / math.Sqrt(1-xv*xv)
		case MathAcos:
			d = -1 / math.Sqrt(1-xv*xv)
		case MathAtan:
			d = 1 / (1 + xv*xv)
		case MathSinh:
			d = math.Cosh(xv)
		case MathCosh:
			d = math.Sinh(xv)
		case MathAsinh:
			d = 1 / math.Sqrt(xv*xv+1)
		case MathAcosh:
			d = 1 / math.Sqrt(xv*xv-1)
		case MathAtanh:
			d = 1 / (1 - xv*xv)
		case MathSoftplus:
			d = 1 / (1 + math.Exp(-xv))
		case MathSoftsign:
			t := 1 + math.Abs(xv)
			d = 1 / (t * t)
		case MathSelu:
			if xv > 0 {
				d = g
			} else {
				d = g * a * math.Exp(xv)
			}
		case MathCelu:
			if xv > 0 {
				d = 1
			} else {
				d = math.Exp(xv / a)
			}
		case MathThresholdedRelu:
			d = b2f(xv > a)
		case MathFloat16, MathBFloat16:
			d = 1
		}
		dx[i] = float32(float64(dy[i]) * d)
	}
}

// RoundFloat16 rounds v to the nearest IEEE binary16 value (ties to even),
// as a cast to float16 and back does; values beyond the range become
// infinite.
func RoundFloat16(v float32) float32 {
	if v != v || math.IsInf(float64(v), 0) {
		return v
	}
	a := math.Abs(float64(v))
	if a >= 65520 { // rounds to infinity
		return float32(math.Copysign(math.Inf(1), float64(v)))
	}
	// The spacing of binary16 values at a: 2^(e-10) for normal numbers,
	// 2^-24 for subnormals.
	e := math.Floor(math.Log2(a))
	if a == 0 || e < -14 {
		e = -14
	}
	q := math.Ldexp(1, int(e)-10)
	return float32(math.Copysign(math.RoundToEven(a/q)*q, float64(v)))
}

// RoundBFloat16 rounds v to the nearest bfloat16 value (ties to even).
func RoundBFloat16(v float32) float32 {
	if v != v {
		return v
	}
	b := math.Float32bits(v)
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}
