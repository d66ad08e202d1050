package kernels

// axpyNGroup is how many sources AxpyN adds in one pass over dst: the
// assembly keeps blocks of dst in registers while it adds every source of
// a group, so each value of dst is loaded and stored once per group.
const axpyNGroup = 16

// AxpyN sets dst[i] = sum_t ws[t]*srcs[t][i] (set) or adds that sum to
// dst[i] (!set), for i < len(dst): the multi-tap row pass of a 2-D
// filter, one shifted source row per nonzero kernel weight. Every source
// must be at least as long as dst; ws has one weight per source. With
// no sources, set clears dst.
func AxpyN(dst []float32, ws []float32, srcs [][]float32, set bool) {
	ws = ws[:len(srcs)]
	if len(srcs) == 0 || len(dst) == 0 {
		if set {
			clear(dst)
		}
		return
	}
	for _, s := range srcs {
		_ = s[len(dst)-1] // every source covers dst: the assembly reads it unchecked
	}
	// No copies of the sources: rows are short enough (a few hundred
	// nanoseconds for three taps) that copying 16 slice headers shows.
	for g := 0; g < len(srcs); g += axpyNGroup {
		e := min(g+axpyNGroup, len(srcs))
		n := axpyNAsm(dst, ws[g:e], srcs[g:e], set && g == 0)
		if n < len(dst) {
			axpyNGo(dst, ws[g:e], srcs[g:e], set && g == 0, n)
		}
	}
}

// axpyNGo does dst[off:] for one group, adding the sources four at a
// time (acc4) and the last one to three with acc3, acc2 or acc1: padding
// with zero-weight copies would turn an infinity into NaN (0 * Inf).
func axpyNGo(dst []float32, ws []float32, srcs [][]float32, set bool, off int) {
	o := dst[off:]
	src := func(i int) []float32 { return srcs[i][off:len(dst)] }
	for i := 0; i < len(srcs); i += 4 {
		first := set && i == 0
		switch len(srcs) - i {
		case 1:
			acc1(o, src(i), ws[i], first)
		case 2:
			acc2(o, src(i), src(i+1), ws[i], ws[i+1], first)
		case 3:
			acc3(o, src(i), src(i+1), src(i+2), ws[i], ws[i+1], ws[i+2], first)
		default:
			acc4(o, src(i), src(i+1), src(i+2), src(i+3), ws[i], ws[i+1], ws[i+2], ws[i+3], first)
		}
	}
}

// acc4 does o += w0*s0 + w1*s1 + w2*s2 + w3*s3 (o = ... when set).
func acc4(o, s0, s1, s2, s3 []float32, w0, w1, w2, w3 float32, set bool) {
	s0, s1, s2, s3 = s0[:len(o)], s1[:len(o)], s2[:len(o)], s3[:len(o)]
	if set {
		for x := range o {
			o[x] = w0*s0[x] + w1*s1[x] + w2*s2[x] + w3*s3[x]
		}
		return
	}
	for x := range o {
		o[x] += w0*s0[x] + w1*s1[x] + w2*s2[x] + w3*s3[x]
	}
}

func acc3(o, s0, s1, s2 []float32, w0, w1, w2 float32, set bool) {
	s0, s1, s2 = s0[:len(o)], s1[:len(o)], s2[:len(o)]
	if set {
		for x := range o {
			o[x] = w0*s0[x] + w1*s1[x] + w2*s2[x]
		}
		return
	}
	for x := range o {
		o[x] += w0*s0[x] + w1*s1[x] + w2*s2[x]
	}
}

func acc2(o, s0, s1 []float32, w0, w1 float32, set bool) {
	s0, s1 = s0[:len(o)], s1[:len(o)]
	if set {
		for x := range o {
			o[x] = w0*s0[x] + w1*s1[x]
		}
		return
	}
	for x := range o {
		o[x] += w0*s0[x] + w1*s1[x]
	}
}

func acc1(o, s0 []float32, w0 float32, set bool) {
	s0 = s0[:len(o)]
	if set {
		for x := range o {
			o[x] = w0 * s0[x]
		}
		return
	}
	for x := range o {
		o[x] += w0 * s0[x]
	}
}
