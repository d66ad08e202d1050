package kernels

import (
	"fmt"
	"math"
)

// Element-wise and pooling kernels of the layers. Each has a portable Go
// version (the specification, and the fallback under the purego tag or on
// other CPUs) and, on amd64 with AVX2, an assembly version that handles
// the bulk of the data; tests check that both agree bit for bit.

// Relu sets dst[i] = max(src[i], 0), with Go's max semantics except that
// the sign of a zero result is not specified. dst and src may be the same
// slice.
func Relu(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Relu: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := reluAsm(dst, src)
	reluGo(dst[done:], src[done:])
}

func reluGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = max(v, 0)
	}
}

// ReluGrad sets dx[i] = dy[i] where y[i] > 0 and 0 elsewhere (y is the
// ReLU output). A NaN y passes the gradient when its sign bit is clear.
func ReluGrad(dx, dy, y []float32) {
	if len(dx) != len(y) || len(dy) != len(y) {
		panic(fmt.Sprintf("kernels.ReluGrad: lengths dx %d, dy %d, y %d differ", len(dx), len(dy), len(y)))
	}
	done := reluGradAsm(dx, dy, y)
	reluGradGo(dx[done:], dy[done:], y[done:])
}

func reluGradGo(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		// The sign of the bits as an int32 (branch-free; the sign of
		// activations is random, so a branch mispredicts half the time).
		k := int32(math.Float32bits(v))
		mask := uint32((-k & ^k) >> 31) // all ones when k > 0
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & mask)
	}
}

// Add sets dst[i] += src[i].
func Add(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Add: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := addAsm(dst, src)
	addGo(dst[done:], src[done:])
}

func addGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// AddRelu sets dst[i] = max(dst[i]+b[i], 0) (a bias add fused with a
// ReLU), with Relu's semantics.
func AddRelu(dst, b []float32) {
	if len(dst) != len(b) {
		panic(fmt.Sprintf("kernels.AddRelu: len(dst)=%d != len(b)=%d", len(dst), len(b)))
	}
	done := addReluAsm(dst, b)
	addReluGo(dst[done:], b[done:])
}

func addReluGo(dst, b []float32) {
	b = b[:len(dst)]
	for i, v := range dst {
		dst[i] = max(v+b[i], 0)
	}
}

// AddClip sets dst[i] = min(max(dst[i]+b[i], lo), hi) (a bias add fused
// with ReLU6 or another clip), with Clip's semantics.
func AddClip(dst, b []float32, lo, hi float32) {
	if len(dst) != len(b) {
		panic(fmt.Sprintf("kernels.AddClip: len(dst)=%d != len(b)=%d", len(dst), len(b)))
	}
	done := addClipAsm(dst, b, lo, hi)
	addClipGo(dst[done:], b[done:], lo, hi)
}

func addClipGo(dst, b []float32, lo, hi float32) {
	b = b[:len(dst)]
	for i, v := range dst {
		dst[i] = min(max(v+b[i], lo), hi)
	}
}

// MaxPool2x2Row computes one output row of a 2x2, stride-2 max pool over
// NHWC data: r0 and r1 are input rows 2*oy and 2*oy+1 (at least 2*ow
// pixels of c channels each) and dst receives ow pixels. Window values are
// taken in the order (0,0), (0,1), (1,0), (1,1), each replacing the
// running maximum only when strictly greater.
func MaxPool2x2Row(dst, r0, r1 []float32, ow, c int) {
	if len(dst) < ow*c || len(r0) < 2*ow*c || len(r1) < 2*ow*c {
		panic(fmt.Sprintf("kernels.MaxPool2x2Row: %d output pixels of %d channels; dst %d, rows %d and %d values",
			ow, c, len(dst), len(r0), len(r1)))
	}
	if ow == 0 || c == 0 {
		return
	}
	if maxPool2x2Asm(dst, r0, r1, ow, c) {
		return
	}
	maxPool2x2Go(dst, r0, r1, ow, c)
}

func maxPool2x2Go(dst, r0, r1 []float32, ow, c int) {
	for ox := range ow {
		y := dst[ox*c : ox*c+c]
		a, b := r0[2*ox*c:2*ox*c+c], r0[2*ox*c+c:2*ox*c+2*c]
		d, e := r1[2*ox*c:2*ox*c+c], r1[2*ox*c+c:2*ox*c+2*c]
		for ch := range y {
			m := a[ch]
			if v := b[ch]; v > m {
				m = v
			}
			if v := d[ch]; v > m {
				m = v
			}
			if v := e[ch]; v > m {
				m = v
			}
			y[ch] = m
		}
	}
}

// MaxPool2x2GradRow is the backward pass of MaxPool2x2Row: for each
// window it writes dy to the first position (in window order) whose value
// has the bits of the output y, and 0 to the other three, into dx0 and dx1
// (the gradient rows matching r0 and r1). The rows are overwritten, not
// accumulated into. With reluMask, dy is first zeroed where y is not
// positive (ReLU's gradient, for a pool whose input is a ReLU's output).
func MaxPool2x2GradRow(dx0, dx1, r0, r1, y, dy []float32, ow, c int, reluMask bool) {
	if len(y) < ow*c || len(dy) < ow*c || len(r0) < 2*ow*c || len(r1) < 2*ow*c || len(dx0) < 2*ow*c || len(dx1) < 2*ow*c {
		panic(fmt.Sprintf("kernels.MaxPool2x2GradRow: %d output pixels of %d channels; slices too short", ow, c))
	}
	if ow == 0 || c == 0 {
		return
	}
	if maxPool2x2GradAsm(dx0, dx1, r0, r1, y, dy, ow, c, reluMask) {
		return
	}
	maxPool2x2GradGo(dx0, dx1, r0, r1, y, dy, ow, c, reluMask)
}

func maxPool2x2GradGo(dx0, dx1, r0, r1, y, dy []float32, ow, c int, reluMask bool) {
	for ox := range ow {
		i := 2 * ox * c
		for ch := range c {
			yb, g := math.Float32bits(y[ox*c+ch]), dy[ox*c+ch]
			if reluMask && int32(yb) <= 0 {
				g = 0
			}
			var g0, g1, g2, g3 float32
			switch yb {
			case math.Float32bits(r0[i+ch]):
				g0 = g
			case math.Float32bits(r0[i+c+ch]):
				g1 = g
			case math.Float32bits(r1[i+ch]):
				g2 = g
			case math.Float32bits(r1[i+c+ch]):
				g3 = g
			}
			dx0[i+ch], dx0[i+c+ch] = g0, g1
			dx1[i+ch], dx1[i+c+ch] = g2, g3
		}
	}
}

// MulIfEqual sets dst[i] = src[i] * (1 if a[i] == b[i], else 0): the
// product of a value with the 0/1 result of a comparison (a heatmap's
// peaks: x * (maxpool(x) == x)), as one pass, with that product's bits
// (a NaN or infinite src where not equal gives NaN, as 0 * it does).
func MulIfEqual(dst, src, a, b []float32) {
	if len(src) != len(dst) || len(a) != len(dst) || len(b) != len(dst) {
		panic(fmt.Sprintf("kernels.MulIfEqual: lengths dst %d, src %d, a %d, b %d differ", len(dst), len(src), len(a), len(b)))
	}
	done := mulIfEqualAsm(dst, src, a, b)
	mulIfEqualGo(dst[done:], src[done:], a[done:], b[done:])
}

func mulIfEqualGo(dst, src, a, b []float32) {
	src, a, b = src[:len(dst)], a[:len(dst)], b[:len(dst)]
	for i, v := range a {
		k := uint32(0) // the bits of 1 or 0: a conditional move, not a branch
		if v == b[i] {
			k = 0x3f800000
		}
		dst[i] = src[i] * math.Float32frombits(k)
	}
}
