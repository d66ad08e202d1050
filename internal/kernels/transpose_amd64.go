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
