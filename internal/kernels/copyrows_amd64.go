//go:build !purego

package kernels

//go:noescape
func copyRowsAVX2(dst *float32, ds int, src *float32, ss int, n, span int)

// copyRowsAsm runs CopyRows' AVX2 kernel (bounds checked by the caller).
func copyRowsAsm(dst []float32, ds int, src []float32, ss int, n, span int) bool {
	if !hasAVX2 {
		return false
	}
	copyRowsAVX2(&dst[0], ds, &src[0], ss, n, span)
	return true
}
