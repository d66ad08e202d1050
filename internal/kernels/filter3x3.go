package kernels

// FilterRow3x3 sets dst[i] = r0 + r1 + r2, summed in that order, for
// i < len(dst), where rm = w[3m]*srcs[3m][i] + w[3m+1]*srcs[3m+1][i] +
// w[3m+2]*srcs[3m+2][i]: one output row of a 3x3 filter, srcs being the
// three source rows each shifted by -1, 0 and +1 columns. A tap whose
// weight is zero or whose source is nil is left out, so a NaN or
// infinity under a zero weight stays out of the sum (as in cv2.filter2D);
// every other source must be at least as long as dst.
//
// Unlike AxpyN it keeps all nine weights in registers and sums the
// kernel's three rows in separate accumulators, so a block of dst costs
// one load per tap and no dependency chain longer than three
// multiply-adds.
func FilterRow3x3(dst []float32, srcs *[9][]float32, w *[9]float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	var mask uint
	for t, s := range srcs {
		if w[t] != 0 && s != nil {
			_ = s[n-1] // covers dst: the assembly reads it unchecked
			mask |= 1 << t
		}
	}
	if done := filterRow3x3Asm(dst, srcs, w, mask); done < n {
		filterRow3x3Go(dst, srcs, w, mask, done)
	}
}

// filterRow3x3Go is FilterRow3x3's portable twin for dst[off:]. Left-out
// taps read a row of zeros with weight zero, which adds nothing.
func filterRow3x3Go(dst []float32, srcs *[9][]float32, w *[9]float32, mask uint, off int) {
	o := dst[off:]
	n := len(o)
	var s [9][]float32
	var ws [9]float32
	var zero [64]float32
	for lo := 0; lo < n; lo += len(zero) {
		hi := min(lo+len(zero), n)
		for t := range s {
			s[t], ws[t] = zero[:hi-lo], 0
			if mask&(1<<t) != 0 {
				s[t], ws[t] = srcs[t][off+lo:off+hi], w[t]
			}
		}
		oo := o[lo:hi]
		s0, s1, s2 := s[0][:len(oo)], s[1][:len(oo)], s[2][:len(oo)]
		s3, s4, s5 := s[3][:len(oo)], s[4][:len(oo)], s[5][:len(oo)]
		s6, s7, s8 := s[6][:len(oo)], s[7][:len(oo)], s[8][:len(oo)]
		for i := range oo {
			a := ws[0]*s0[i] + ws[1]*s1[i] + ws[2]*s2[i]
			b := ws[3]*s3[i] + ws[4]*s4[i] + ws[5]*s5[i]
			c := ws[6]*s6[i] + ws[7]*s7[i] + ws[8]*s8[i]
			oo[i] = a + b + c
		}
	}
}
