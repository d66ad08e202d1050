package kernels

import (
	"fmt"
	"math"
)

// Activation kernels: Sigmoid, SiLU and GELU (exact and tanh) on a
// float32 exponential, the piecewise HardSwish and Clip, and their
// derivatives. They are per-pixel in MobileNetV3, EfficientNet and
// vision transformers, so they must cost about what a pass over memory
// costs: a float64 math.Exp per value is ten times slower. Each has a Go
// loop (the specification, and the fallback under the purego tag or
// without AVX2) and an AVX2+FMA version for the bulk of the data (see
// activation_amd64.s). Every kernel allows dst to be one of its inputs.

// Constants of expNonPos: Cephes' expf (range reduction by ln 2 split in a
// high part exact in float32 and a low part, then a degree-6 polynomial).
const (
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
	// expMin is where results are flushed to 0: a little above ln of the
	// smallest normal float32 (-87.34), so that neither the result nor
	// its products with the factors the kernels apply (sigmoid's 1/(1+e),
	// the normal density's 0.4) are subnormal. Arithmetic on subnormals
	// takes a microcode assist of a hundred cycles or more.
	expMin = -86
	// expRound rounds a float32 of magnitude below 2^22 to an integer
	// when added and subtracted (1.5 * 2^23).
	expRound = 12582912
)

// expNonPos returns exp(v) for v <= 0 within 2 ulp (0 below expMin; NaN
// for NaN); it is as accurate for v up to 0.3. Callers pass -|x|, so no overflow handling is needed. The
// loops below repeat its body: the compiler does not inline it.
func expNonPos(v float32) float32 {
	if v < expMin {
		return 0
	}
	n := v*expLog2e + expRound
	n -= expRound // round(v / ln 2), in [-124, 0]
	r := v - n*expC1
	r -= n * expC2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// What sigmoidLoop computes.
const (
	modeSigmoid = iota
	modeSiLU
	modeSiLUGrad
)

// sigmoidLoop computes, for each i, s = sigmoid(x[i]) and c = 1-s
// without cancellation (with e = exp(-|x|), they are 1/(1+e) and e/(1+e)
// in the order the sign of x gives), then dst[i] = s (modeSigmoid),
// x*s (modeSiLU) or dy*s*(1 + x*c) (modeSiLUGrad). One loop with the
// exponential written out: the compiler inlines neither expNonPos nor a
// helper returning two values, and a call per value costs more than the
// arithmetic.
func sigmoidLoop(dst, x, dy []float32, mode int) {
	dst = dst[:len(x)]
	if mode == modeSiLUGrad {
		dy = dy[:len(x)]
	}
	for i, v := range x {
		bits := math.Float32bits(v)
		a := math.Float32frombits(bits | 1<<31) // -|v|
		n := a*expLog2e + expRound
		n -= expRound
		r := a - n*expC1
		r -= n * expC2
		p := float32(1.9875691500e-4)
		p = p*r + 1.3981999507e-3
		p = p*r + 8.3334519073e-3
		p = p*r + 4.1665795894e-2
		p = p*r + 1.6666665459e-1
		p = p*r + 5.0000001201e-1
		p = p*r*r + r + 1
		// 2^n as bits; below expMin the exponent field would underflow,
		// and e is flushed to 0 (n = -127 or less there).
		k := int32(n) + 127
		e := p * math.Float32frombits(uint32(max(k, 0))<<23)
		if a < expMin {
			e = 0
		}
		q := 1 / (1 + e)
		er := e * q
		// Branch-free select on the sign of v: signs are random.
		m := uint32(int32(bits) >> 31)
		bq, be := math.Float32bits(q), math.Float32bits(er)
		s := math.Float32frombits(bq ^ (bq^be)&m)
		switch mode {
		case modeSigmoid:
			dst[i] = s
		case modeSiLU:
			dst[i] = v * s
		default:
			c := math.Float32frombits(be ^ (bq^be)&m)
			dst[i] = dy[i] * s * (1 + v*c)
		}
	}
}

// Sigmoid sets dst[i] = 1 / (1 + exp(-src[i])).
func Sigmoid(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Sigmoid: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := sigmoidAsm(dst, src)
	sigmoidLoop(dst[done:], src[done:], nil, modeSigmoid)
}

// SiLU sets dst[i] = src[i] * sigmoid(src[i]) (also called swish).
func SiLU(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.SiLU: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := siluAsm(dst, src)
	sigmoidLoop(dst[done:], src[done:], nil, modeSiLU)
}

// SiLUGrad sets dx[i] = dy[i] * (s + x*s*(1-s)) with s = sigmoid(x[i]),
// the derivative of x*sigmoid(x) taken from the input.
func SiLUGrad(dx, dy, x []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("kernels.SiLUGrad: lengths dx %d, dy %d, x %d differ", len(dx), len(dy), len(x)))
	}
	done := siluGradAsm(dx, dy, x)
	sigmoidLoop(dx[done:], x[done:], dy[done:], modeSiLUGrad)
}

// HardSwish sets dst[i] = x * min(max(x+3, 0), 6) / 6 for x = src[i]
// (MobileNetV3's h-swish, PyTorch's hardswish).
func HardSwish(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.HardSwish: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := hardSwishAsm(dst, src)
	hardSwishGo(dst[done:], src[done:])
}

func hardSwishGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v * min(max(v+3, 0), 6) / 6
	}
}

// HardSwishGrad sets dx[i] = dy[i] * f'(x[i]) for f = HardSwish, with
// the values at the kinks of PyTorch's vectorised kernel (what it computes
// on any tensor of more than a few values): 0 for x < -3, x/3 + 0.5 for
// -3 <= x < 3, 1 from 3 up. (Its scalar tail loop gives 1.5 at x = 3.)
func HardSwishGrad(dx, dy, x []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("kernels.HardSwishGrad: lengths dx %d, dy %d, x %d differ", len(dx), len(dy), len(x)))
	}
	done := hardSwishGradAsm(dx, dy, x)
	hardSwishGradGo(dx[done:], dy[done:], x[done:])
}

func hardSwishGradGo(dx, dy, x []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		d := v*(1.0/3) + 0.5
		if v < -3 {
			d = 0
		}
		if v >= 3 {
			d = 1
		}
		dx[i] = dy[i] * d
	}
}

// Clip sets dst[i] = min(max(src[i], lo), hi) (ReLU6 is Clip 0..6), with
// Go's min and max semantics except that the sign of a zero result is not
// specified.
func Clip(dst, src []float32, lo, hi float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Clip: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := clipAsm(dst, src, lo, hi)
	clipGo(dst[done:], src[done:], lo, hi)
}

func clipGo(dst, src []float32, lo, hi float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = min(max(v, lo), hi)
	}
}

// ClipGrad sets dx[i] = dy[i] where lo < y[i] < hi and 0 elsewhere, for
// y = Clip(x, lo, hi) with finite bounds: the derivative of the clip is 0
// where the input was clipped (PyTorch's hardtanh convention at the
// bounds). A NaN y passes the gradient, as in PyTorch.
func ClipGrad(dx, dy, y []float32, lo, hi float32) {
	if len(dx) != len(y) || len(dy) != len(y) {
		panic(fmt.Sprintf("kernels.ClipGrad: lengths dx %d, dy %d, y %d differ", len(dx), len(dy), len(y)))
	}
	done := clipGradAsm(dx, dy, y, lo, hi)
	clipGradGo(dx[done:], dy[done:], y[done:], lo, hi)
}

func clipGradGo(dx, dy, y []float32, lo, hi float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		// v > lo exactly when v-lo > 0 (gradual underflow), so the sign
		// bits of the differences give the mask without a branch, which
		// would mispredict on activations of random sign.
		a, b := int32(math.Float32bits(v-lo)), int32(math.Float32bits(hi-v))
		ma, mb := (-a&^a)>>31, (-b&^b)>>31 // all ones when > 0
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & uint32(ma&mb))
	}
}

// GELU kernels. The exact GELU is x*Phi(x) with Phi(x) = erfc(-x/sqrt2)/2;
// erfc comes from Numerical Recipes' erfcc (fractional error below 1.2e-7
// for every argument, so the result keeps its relative accuracy for
// negative x, where 1+erf would cancel), whose exponent is never above
// 3e-8, so expNonPos evaluates it. The tanh approximation is
// 0.5*x*(1 + tanh(u)) = x*sigmoid(2u), u = sqrt(2/pi)*(x + 0.044715 x^3).

const (
	geluInvSqrt2   = 0.70710678118654752 // 1/sqrt(2)
	geluInvSqrt2Pi = 0.39894228040143268 // 1/sqrt(2*pi)
	geluK          = 0.79788456080286536 // sqrt(2/pi)
	geluC          = 0.044715
)

// halfErfc returns erfc(z)/2 for z >= 0 (NaN for NaN).
func halfErfc(z float32) float32 {
	t := 1 / (1 + 0.5*z)
	p := float32(0.17087277)
	p = p*t - 0.82215223
	p = p*t + 1.48851587
	p = p*t - 1.13520398
	p = p*t + 0.27886807
	p = p*t - 0.18628806
	p = p*t + 0.09678418
	p = p*t + 0.37409196
	p = p*t + 1.00002368
	p = p*t - 1.26551223
	a := p - z*z
	if a < -84 { // keeps 0.5*t*exp(a) (t >= 0.1 there) normal
		return 0
	}
	return 0.5 * t * expNonPos(a)
}

// phi returns Phi(v), the standard normal distribution function.
func phi(v float32) float32 {
	q := halfErfc(math.Float32frombits(math.Float32bits(v)&^(1<<31)) * geluInvSqrt2)
	if v < 0 {
		return q
	}
	return 1 - q
}

// GELU sets dst[i] = x*Phi(x) for x = src[i].
func GELU(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.GELU: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := geluAsm(dst, src)
	geluGo(dst[done:], src[done:])
}

func geluGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v * phi(v)
	}
}

// GELUGrad sets dx[i] = dy[i] * (Phi(x) + x*phi(x)) for x = x[i], phi the
// standard normal density.
func GELUGrad(dx, dy, x []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("kernels.GELUGrad: lengths dx %d, dy %d, x %d differ", len(dx), len(dy), len(x)))
	}
	done := geluGradAsm(dx, dy, x)
	geluGradGo(dx[done:], dy[done:], x[done:])
}

func geluGradGo(dx, dy, x []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		dens := geluInvSqrt2Pi * expNonPos(-0.5*v*v)
		dx[i] = dy[i] * (phi(v) + v*dens)
	}
}

// GELUTanh sets dst[i] = x*sigmoid(2u), GELU's tanh approximation.
func GELUTanh(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.GELUTanh: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := geluTanhAsm(dst, src)
	geluTanhGo(dst[done:], src[done:])
}

func geluTanhGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		s, _ := sigmoid2(2 * geluK * (v + geluC*v*v*v))
		dst[i] = v * s
	}
}

// GELUTanhGrad sets dx[i] = dy[i] * (s + 2x*s*(1-s)*sqrt(2/pi)*(1 +
// 3*0.044715 x^2)) with s = sigmoid(2u), the derivative of GELUTanh.
func GELUTanhGrad(dx, dy, x []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("kernels.GELUTanhGrad: lengths dx %d, dy %d, x %d differ", len(dx), len(dy), len(x)))
	}
	done := geluTanhGradAsm(dx, dy, x)
	geluTanhGradGo(dx[done:], dy[done:], x[done:])
}

func geluTanhGradGo(dx, dy, x []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		s, c := sigmoid2(2 * geluK * (v + geluC*v*v*v))
		// Beyond |x| = 10, s*(1-s) is 0 (below exp's range) and the clamp
		// keeps x^2 from overflowing into 0*Inf.
		w := min(max(v, -10), 10)
		dx[i] = dy[i] * (s + 2*w*s*c*geluK*(1+3*geluC*w*w))
	}
}

// sigmoid2 returns sigmoid(v) and 1-sigmoid(v) without cancellation (see
// sigmoidLoop, which inlines the same steps).
func sigmoid2(v float32) (s, c float32) {
	e := expNonPos(math.Float32frombits(math.Float32bits(v) | 1<<31))
	q := 1 / (1 + e)
	if v < 0 {
		return e * q, q
	}
	return q, e * q
}
