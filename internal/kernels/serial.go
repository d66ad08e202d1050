package kernels

// SgemmSerial is Sgemm computed on the calling goroutine only. Callers
// that already split their work across cores (e.g. a convolution giving
// each core its own images, with kernels.Parallel) use it: a nested Sgemm
// would be correct but would pay for a split that finds every worker busy.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kn := activeKernel.Load()
	g := gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if m == 1 && !transB && useGemv {
		// A squeeze-excite block's 1x1 convolutions on 1x1 pixels.
		gemvCols(&g, 0, n)
		return
	}
	buf := getPackBuf(kn)
	gemmBlocked(kn, buf, &g)
	putPackBuf(buf)
}
