package kernels

import (
	"fmt"
	"math"
)

// MaxInto sets dst[i] = src[i] where src[i] > dst[i] (strictly: a NaN in
// src never replaces, one in dst stays), the running maximum of a pooling
// window taken one pixel (a row of channels) at a time.
func MaxInto(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.MaxInto: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := maxIntoAsm(dst, src)
	maxIntoGo(dst[done:], src[done:])
}

// MaxPoolPixels sets n pixels of c channels in dst (contiguous) to the
// maximum of their kh x kw windows in src, each window's taps taken in
// row-major order as MaxInto would take them one at a time (the same
// bits): pixel p's tap (ky, kx) is src[p*sx + ky*rowx + kx*c:][:c]. One
// call covers a pooling row's interior, with each output vector's
// maximum in a register over its taps.
func MaxPoolPixels(dst, src []float32, n, c, sx, kh, kw, rowx int) {
	if n <= 0 || c <= 0 || kh <= 0 || kw <= 0 {
		return
	}
	if last := (n-1)*sx + (kh-1)*rowx + (kw-1)*c + c; len(dst) < n*c || len(src) < last || sx < 0 || rowx < 0 {
		panic(fmt.Sprintf("kernels.MaxPoolPixels: %d pixels of %d channels, %dx%d windows, strides %d and %d: len(dst)=%d, len(src)=%d", n, c, kh, kw, sx, rowx, len(dst), len(src)))
	}
	if maxPoolPixelsAsm(dst, src, n, c, sx, kh, kw, rowx) {
		return
	}
	// Other channel counts: a MaxInto call a pixel and tap (its assembly
	// takes the multiples of 8).
	for p := range n {
		d := dst[p*c : (p+1)*c]
		copy(d, src[p*sx:p*sx+c])
		for ky := range kh {
			for kx := range kw {
				o := p*sx + ky*rowx + kx*c
				MaxInto(d, src[o:o+c])
			}
		}
	}
}

func maxIntoGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		if v > dst[i] {
			dst[i] = v
		}
	}
}

// MaxPoolGradStep is one window position of a max pool's backward pass,
// for windows visited in order: where x[i] holds the pool's output y[i]
// (bit for bit) and the gradient g[i] has not been handed out yet, it is
// added to dx[i] and cleared from g, so that the first position holding
// the maximum gets it. Starting from g = dy, one call per window position
// gives PyTorch's and MaxPool2x2GradRow's choice of winner.
func MaxPoolGradStep(dx, g, x, y []float32) {
	if len(dx) != len(g) || len(x) != len(g) || len(y) != len(g) {
		panic(fmt.Sprintf("kernels.MaxPoolGradStep: lengths dx %d, g %d, x %d, y %d differ", len(dx), len(g), len(x), len(y)))
	}
	done := maxPoolGradStepAsm(dx, g, x, y)
	maxPoolGradStepGo(dx[done:], g[done:], x[done:], y[done:])
}

func maxPoolGradStepGo(dx, g, x, y []float32) {
	dx, x, y = dx[:len(g)], x[:len(g)], y[:len(g)]
	for i, v := range g {
		if math.Float32bits(x[i]) == math.Float32bits(y[i]) {
			dx[i] += v
			g[i] = 0
		}
	}
}
