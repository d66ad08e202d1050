package kernels

import (
	"fmt"
	"math"
)

// Activation kernels built on a float32 exponential (Sigmoid, SiLU and
// their derivatives) and the piecewise-polynomial HardSwish. They are
// per-pixel in MobileNetV3 and EfficientNet, so they must cost about what a
// pass over memory costs: float64 math.Exp per value is several times
// slower. Every kernel allows dst to be one of its inputs.

// Constants of expNonPos: Cephes' expf (range reduction by ln 2 split in a
// high part exact in float32 and a low part, then a degree-6 polynomial).
const (
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
	// expMin is ln of the smallest normal float32: below it the result is
	// flushed to 0 (the true value is a subnormal below 1.2e-38).
	expMin = -87.33654475
	// expRound rounds a float32 of magnitude below 2^22 to an integer
	// when added and subtracted (1.5 * 2^23).
	expRound = 12582912
)

// expNonPos returns exp(v) for v <= 0 within 2 ulp (0 below expMin; NaN
// for NaN). Callers pass -|x|, so no overflow handling is needed. The
// loops below repeat its body: the compiler does not inline it.
func expNonPos(v float32) float32 {
	if v < expMin {
		return 0
	}
	n := v*expLog2e + expRound
	n -= expRound // round(v / ln 2), in [-126, 0]
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
	sigmoidLoop(dst, src, nil, modeSigmoid)
}

// SiLU sets dst[i] = src[i] * sigmoid(src[i]) (also called swish).
func SiLU(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.SiLU: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	sigmoidLoop(dst, src, nil, modeSiLU)
}

// SiLUGrad sets dx[i] = dy[i] * (s + x*s*(1-s)) with s = sigmoid(x[i]),
// the derivative of x*sigmoid(x) taken from the input.
func SiLUGrad(dx, dy, x []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("kernels.SiLUGrad: lengths dx %d, dy %d, x %d differ", len(dx), len(dy), len(x)))
	}
	sigmoidLoop(dx, x, dy, modeSiLUGrad)
}

// HardSwish sets dst[i] = x * min(max(x+3, 0), 6) / 6 for x = src[i]
// (MobileNetV3's h-swish, PyTorch's hardswish).
func HardSwish(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.HardSwish: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
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
