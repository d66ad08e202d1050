//go:build !purego

package kernels

//go:noescape
func maxIntoAVX2(dst, src *float32, n int)

// maxIntoAsm handles a multiple of 8 values and returns how many.
func maxIntoAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	maxIntoAVX2(&dst[0], &src[0], n)
	return n
}

//go:noescape
func maxPoolPixelsAVX2(dst, src *float32, n, c, sx, kh, kw, rowx int)

// maxPoolPixelsAsm runs MaxPoolPixels (arguments checked) where c is a
// multiple of 8.
func maxPoolPixelsAsm(dst, src []float32, n, c, sx, kh, kw, rowx int) bool {
	if !hasAVX2 || c%8 != 0 {
		return false
	}
	maxPoolPixelsAVX2(&dst[0], &src[0], n, c, sx, kh, kw, rowx)
	return true
}

//go:noescape
func maxPoolGradStepAVX2(dx, grad, x, y *float32, n int)

func maxPoolGradStepAsm(dx, g, x, y []float32) int {
	n := len(g) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_, _, _ = dx[n-1], x[n-1], y[n-1]
	maxPoolGradStepAVX2(&dx[0], &g[0], &x[0], &y[0], n)
	return n
}
