//go:build !purego

package kernels

//go:noescape
func columnSums32AVX2(dst, src *float32, rows, stride int)

//go:noescape
func columnSums8AVX2(dst, src *float32, rows, stride int)

// columnSumsAsm sums the columns in blocks of 32, then 8, held in
// registers over all the rows, and returns how many it did.
func columnSumsAsm(dst, src []float32, rows, stride int) int {
	if !hasAVX2 {
		return 0
	}
	c, j := len(dst), 0
	for ; j+32 <= c; j += 32 {
		columnSums32AVX2(&dst[j], &src[j], rows, stride)
	}
	for ; j+8 <= c; j += 8 {
		columnSums8AVX2(&dst[j], &src[j], rows, stride)
	}
	return j
}
