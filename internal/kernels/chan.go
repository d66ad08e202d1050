package kernels

import (
	"fmt"
	"math"
)

// Per-channel kernels of batch normalisation and PReLU: x holds rows of c
// channels (an NHWC activation, the channels last), and each kernel
// applies per-channel coefficients to every row or reduces the rows per
// channel.
// Sums are float64, added row by row in order, so the assembly versions
// (AVX2: 8 channels at a time, the remaining c mod 8 channels in Go) give
// the same bits as the Go loops.

func checkRows(name string, n, c int) {
	if c <= 0 || n%c != 0 {
		panic(fmt.Sprintf("kernels.%s: %d values are not rows of %d channels", name, n, c))
	}
}

// ChanMoments sets s1[j] = sum over rows of (x - ref[j]) and s2[j] = sum of
// (x - ref[j])^2, in float64, for the rows of len(ref) channels of x (the
// shifted sums of a batch norm's mean and variance).
func ChanMoments(s1, s2 []float64, x []float32, ref []float64) {
	c := len(ref)
	checkRows("ChanMoments", len(x), c)
	if len(s1) != c || len(s2) != c {
		panic(fmt.Sprintf("kernels.ChanMoments: %d and %d sums for %d channels", len(s1), len(s2), c))
	}
	done := chanMomentsAsm(s1, s2, x, ref)
	// All channels done: the Go loop would walk every row for nothing
	// (2-3% of the CPU profile of a ResNet-20 training step).
	if done == c {
		return
	}
	chanMomentsGo(s1[done:], s2[done:], x, ref[done:], c, done)
}

// chanMomentsGo handles channels [off, off+len(ref)) of rows of c values.
func chanMomentsGo(s1, s2 []float64, x []float32, ref []float64, c, off int) {
	clear(s1)
	clear(s2)
	s2 = s2[:len(s1)]
	ref = ref[:len(s1)]
	for r := off; r < len(x); r += c {
		xr := x[r : r+len(s1)]
		for j, v := range xr {
			d := float64(v) - ref[j]
			s1[j] += d
			s2[j] += d * d
		}
	}
}

// ChanGradSums sets s1[j] = sum over rows of dy and s2[j] = sum of
// dy*(x - mean[j]) (x - mean in float32, the products and sums in float64):
// a batch norm's sums for the gradients of beta and gamma.
func ChanGradSums(s1, s2 []float64, dy, x, mean []float32) {
	c := len(mean)
	checkRows("ChanGradSums", len(x), c)
	if len(dy) != len(x) || len(s1) != c || len(s2) != c {
		panic(fmt.Sprintf("kernels.ChanGradSums: lengths dy %d, x %d, sums %d and %d for %d channels", len(dy), len(x), len(s1), len(s2), c))
	}
	done := chanGradSumsAsm(s1, s2, dy, x, mean)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanGradSumsGo(s1[done:], s2[done:], dy, x, mean[done:], c, done)
}

func chanGradSumsGo(s1, s2 []float64, dy, x, mean []float32, c, off int) {
	clear(s1)
	clear(s2)
	s2 = s2[:len(s1)]
	mean = mean[:len(s1)]
	for r := off; r < len(x); r += c {
		gr, xr := dy[r:r+len(s1)], x[r:r+len(s1)]
		for j, v := range gr {
			s1[j] += float64(v)
			s2[j] += float64(v) * float64(xr[j]-mean[j])
		}
	}
}

// ChanAffine sets y = (x - mean[j])*a[j] + b[j] for every row of
// len(mean) channels. y may be x.
func ChanAffine(y, x, mean, a, b []float32) {
	c := len(mean)
	checkRows("ChanAffine", len(x), c)
	if len(y) != len(x) || len(a) != c || len(b) != c {
		panic(fmt.Sprintf("kernels.ChanAffine: lengths y %d, x %d, coefficients %d, %d, %d", len(y), len(x), c, len(a), len(b)))
	}
	done := chanAffineAsm(y, x, mean, a, b)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanAffineGo(y, x, mean[done:], a[done:], b[done:], c, done)
}

func chanAffineGo(y, x, mean, a, b []float32, c, off int) {
	k := len(mean)
	a, b = a[:k], b[:k]
	for r := off; r < len(x); r += c {
		xr, yr := x[r:r+k], y[r:r+k]
		for j, v := range xr {
			yr[j] = (v-mean[j])*a[j] + b[j]
		}
	}
}

// ChanScale sets y = dy*a[j] for every row of len(a) channels. y may be
// dy.
func ChanScale(y, dy, a []float32) {
	c := len(a)
	checkRows("ChanScale", len(dy), c)
	if len(y) != len(dy) {
		panic(fmt.Sprintf("kernels.ChanScale: lengths y %d, dy %d", len(y), len(dy)))
	}
	done := chanScaleAsm(y, dy, a)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanScaleGo(y, dy, a[done:], c, done)
}

func chanScaleGo(y, dy, a []float32, c, off int) {
	k := len(a)
	for r := off; r < len(dy); r += c {
		gr, yr := dy[r:r+k], y[r:r+k]
		for j, v := range gr {
			yr[j] = v * a[j]
		}
	}
}

// ChanGradInput sets dx = a[j]*dy + b[j]*(x - mean[j]) + cc[j] for every
// row of len(mean) channels: a batch norm's input gradient in training.
// dx may be dy or x.
func ChanGradInput(dx, dy, x, mean, a, b, cc []float32) {
	c := len(mean)
	checkRows("ChanGradInput", len(x), c)
	if len(dx) != len(x) || len(dy) != len(x) || len(a) != c || len(b) != c || len(cc) != c {
		panic(fmt.Sprintf("kernels.ChanGradInput: lengths dx %d, dy %d, x %d, coefficients %d, %d, %d, %d", len(dx), len(dy), len(x), c, len(a), len(b), len(cc)))
	}
	done := chanGradInputAsm(dx, dy, x, mean, a, b, cc)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanGradInputGo(dx, dy, x, mean[done:], a[done:], b[done:], cc[done:], c, done)
}

func chanGradInputGo(dx, dy, x, mean, a, b, cc []float32, c, off int) {
	k := len(mean)
	a, b, cc = a[:k], b[:k], cc[:k]
	for r := off; r < len(x); r += c {
		xr, gr, yr := x[r:r+k], dy[r:r+k], dx[r:r+k]
		for j, v := range gr {
			yr[j] = a[j]*v + b[j]*(xr[j]-mean[j]) + cc[j]
		}
	}
}

// prMask is all ones where v > 0 as an int32 (the sign bit clear and v
// not zero; a NaN with the sign bit clear counts as positive), else 0.
func prMask(v float32) uint32 {
	k := int32(math.Float32bits(v))
	return uint32((-k & ^k) >> 31)
}

// prPick returns a where mask is all ones and b where it is zero.
func prPick(mask uint32, a, b float32) float32 {
	ba, bb := math.Float32bits(a), math.Float32bits(b)
	return math.Float32frombits(bb ^ (ba^bb)&mask)
}

// ChanPReLU sets y = x where x > 0 and a[j]*x elsewhere, for rows of
// len(a) channels (computed as x times 1 or a[j], without a branch). y may
// be x.
func ChanPReLU(y, x, a []float32) {
	c := len(a)
	checkRows("ChanPReLU", len(x), c)
	if len(y) != len(x) {
		panic(fmt.Sprintf("kernels.ChanPReLU: lengths y %d, x %d", len(y), len(x)))
	}
	done := chanPReLUAsm(y, x, a)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanPReLUGo(y, x, a[done:], c, done)
}

func chanPReLUGo(y, x, a []float32, c, off int) {
	k := len(a)
	for r := off; r < len(x); r += c {
		xr, yr := x[r:r+k], y[r:r+k]
		for j, v := range xr {
			yr[j] = v * prPick(prMask(v), 1, a[j])
		}
	}
}

// ChanPReLUGrad sets s[j] = sum over rows of dy*x where x <= 0 (the
// gradient of the slope a[j]; float32 products, float64 sums) and, when dx
// is not nil, dx = dy where x > 0 and a[j]*dy elsewhere. dx may be dy.
func ChanPReLUGrad(s []float64, dx, dy, x, a []float32) {
	c := len(a)
	checkRows("ChanPReLUGrad", len(x), c)
	if len(dy) != len(x) || len(s) != c || (dx != nil && len(dx) != len(x)) {
		panic(fmt.Sprintf("kernels.ChanPReLUGrad: lengths dx %d, dy %d, x %d, sums %d for %d channels", len(dx), len(dy), len(x), len(s), c))
	}
	done := chanPReLUGradAsm(s, dx, dy, x, a)
	// All channels done (see ChanMoments).
	if done == c {
		return
	}
	chanPReLUGradGo(s[done:], dx, dy, x, a[done:], c, done)
}

func chanPReLUGradGo(s []float64, dx, dy, x, a []float32, c, off int) {
	clear(s)
	k := len(s)
	a = a[:k]
	for r := off; r < len(x); r += c {
		xr, gr := x[r:r+k], dy[r:r+k]
		for j, v := range xr {
			s[j] += float64(gr[j] * prPick(prMask(v), 0, v))
		}
		if dx != nil {
			yr := dx[r : r+k]
			for j, v := range xr {
				yr[j] = gr[j] * prPick(prMask(v), 1, a[j])
			}
		}
	}
}
