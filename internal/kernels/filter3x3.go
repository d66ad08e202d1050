package kernels

// FilterRow3x3 sets dst[i] = r0 + r1 + r2, summed in that order, for
// i < len(dst), where rm = w[3m]*srcs[3m][i] + w[3m+1]*srcs[3m+1][i] +
// w[3m+2]*srcs[3m+2][i]: one output row of a 3x3 filter, srcs being the
// three source rows each shifted by -1, 0 and +1 columns. Every source
// must be at least as long as dst. Unlike AxpyN it keeps all nine
// weights in registers and sums the kernel's three rows in separate
// accumulators, so a block of dst costs nine loads and no dependency
// chain longer than three multiply-adds.
func FilterRow3x3(dst []float32, srcs *[9][]float32, w *[9]float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	for _, s := range srcs {
		_ = s[n-1] // every source covers dst: the assembly reads it unchecked
	}
	if done := filterRow3x3Asm(dst, srcs, w); done < n {
		filterRow3x3Go(dst, srcs, w, done)
	}
}

// filterRow3x3Go is FilterRow3x3's portable twin for dst[off:].
func filterRow3x3Go(dst []float32, srcs *[9][]float32, w *[9]float32, off int) {
	o := dst[off:]
	n := len(o)
	s0, s1, s2 := srcs[0][off:off+n], srcs[1][off:off+n], srcs[2][off:off+n]
	s3, s4, s5 := srcs[3][off:off+n], srcs[4][off:off+n], srcs[5][off:off+n]
	s6, s7, s8 := srcs[6][off:off+n], srcs[7][off:off+n], srcs[8][off:off+n]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range o {
		a := w0*s0[i] + w1*s1[i] + w2*s2[i]
		b := w3*s3[i] + w4*s4[i] + w5*s5[i]
		c := w6*s6[i] + w7*s7[i] + w8*s8[i]
		o[i] = a + b + c
	}
}
