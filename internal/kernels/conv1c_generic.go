//go:build !amd64 || purego

package kernels

func conv1cOK(f, ow int) bool { return false }

func conv1cRow(y, xp, w, bias []float32, ow, wp, kh, kw, f int, relu bool) {
	panic("kernels: conv1cRow without assembly")
}

func conv1cGradOK(f, kw int) bool { return false }

func conv1cGrad(dw, xp, dy []float32, oh, ow, wp, kw, f int) {
	panic("kernels: conv1cGrad without assembly")
}
