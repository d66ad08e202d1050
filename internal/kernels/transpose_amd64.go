//go:build !purego

package kernels

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int)

// transposeBand8Asm transposes an 8-row band of src (cols columns) into
// 8 columns of dst, a block of 8 columns at a time, and returns how many
// columns it did (a multiple of 8; 0 without AVX2).
func transposeBand8Asm(dst []float32, ldd int, src []float32, lds int, cols int) int {
	blocks := cols / 8
	if !hasAVX2 || blocks == 0 {
		return 0
	}
	// The lengths up to the last value each side touches (checked without
	// reading dst, which other bands write concurrently).
	if len(src) < 7*lds+8*blocks || len(dst) < (8*blocks-1)*ldd+8 {
		panic("kernels.Transpose: band out of range")
	}
	transpose8AVX2(&dst[0], ldd, &src[0], lds, blocks)
	return 8 * blocks
}

//go:noescape
func interleave3AVX2(dst, r0, r1, r2 *float32, n int)

// interleave3Asm sets dst[3j+c] = rc[j] for the largest multiple of 8
// pixels j < len(r0) and returns how many (0 without AVX2).
func interleave3Asm(dst, r0, r1, r2 []float32) int {
	n := len(r0) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_, _, _ = r1[n-1], r2[n-1], dst[3*n-1]
	interleave3AVX2(&dst[0], &r0[0], &r1[0], &r2[0], n)
	return n
}
