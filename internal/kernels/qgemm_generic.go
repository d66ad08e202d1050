//go:build !amd64 || purego

package kernels

const useQVNNI = false

func gemmQRows(m int, a []byte, lda int, b *PackedQ, c []int32, ldc int) {
	gemmQRowsGo(m, a, lda, b, c, ldc)
}

func requantRowU8Arch(dst []byte, acc, bias []int32, scale []float32, add int32, lo, hi float32, zp int32) int {
	return 0
}

func requantRowF32Arch(dst []float32, acc, bias []int32, scale []float32, add int32, lo, hi float32) int {
	return 0
}

func rowSumsU8Arch(sums []int32, a []byte, lda, k, m int) bool { return false }

func dwRowQArch(acc []int32, x []byte, xstride, tapstride int, w []int32, n, c, kw int) bool {
	return false
}

func gemmQBytesRows(m int, a []byte, lda int, b *PackedQ, dst []byte, ldd int, r *QRequant, adds []int32) bool {
	return false
}

func dwQBytesArch(dst []byte, dstride int, x []byte, xstride int, offs []int, w []int32, n, c int, r *QRequant) bool {
	return false
}

func quantizeU8Arch(dst []byte, x []float32, scale float32, zp, qmin, qmax, shift int32) int {
	return 0
}

func copyStridedArch(dst []byte, dstride int, src []byte, sstride, span, n int) bool { return false }

func accumulateU8Arch(acc []int32, x []byte, isMax bool) int { return 0 }

func dwQBytes3Arch(dst, x []byte, rowstride int, w []int32, n, c, kh int, r *QRequant) int {
	return 0
}
