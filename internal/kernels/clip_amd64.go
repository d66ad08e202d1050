//go:build !purego

package kernels

//go:noescape
func clipAVX2(dst, src *float32, n int, lo, hi float32)

// clipAsm clips the largest multiple of 8 values and returns how many.
func clipAsm(dst, src []float32, lo, hi float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	clipAVX2(&dst[0], &src[0], n, lo, hi)
	return n
}
