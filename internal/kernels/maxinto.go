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
