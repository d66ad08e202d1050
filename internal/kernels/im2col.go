package kernels

// Im2col unfolds a batch of NHWC images into convolution patches.
//
// src holds n images of h x w x c. dst receives n*oh*ow rows of kh*kw*c
// values: row (b, oy, ox) is the receptive field of output pixel (oy, ox)
// of image b, taps ordered (ky, kx, channel), so that multiplying dst by a
// kernel stored as (kh, kw, c, filters) yields the NHWC output directly.
// Tap (ky, kx) reads input pixel (oy*sh - padTop + ky, ox*sw - padLeft + kx);
// pixels outside the image read as zero, which is how top/left padding is
// applied. Bottom/right padding follows from oh and ow.
func Im2col(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	rowLen := kh * kw * c
	if n*oh*ow*rowLen == 0 {
		return
	}
	_ = dst[n*oh*ow*rowLen-1]
	_ = src[n*h*w*c-1]
	span := kw * c // one kernel row: kw taps, contiguous in NHWC
	if span <= smallSpan {
		im2colNarrow(dst, src, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow)
		return
	}
	d := 0
	for b := 0; b < n; b++ {
		img := src[b*h*w*c : (b+1)*h*w*c]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				ix0 := ox*sw - padLeft
				for ky := 0; ky < kh; ky++ {
					out := dst[d : d+span]
					d += span
					iy := oy*sh - padTop + ky
					if iy < 0 || iy >= h {
						clear(out)
						continue
					}
					row := img[iy*w*c : (iy+1)*w*c]
					if ix0 >= 0 && ix0+kw <= w {
						if span <= smallSpan {
							copySmall(out, row[ix0*c:ix0*c+span])
						} else {
							copy(out, row[ix0*c:(ix0+kw)*c])
						}
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix := ix0 + kx
						o := out[kx*c : (kx+1)*c]
						switch {
						case ix < 0 || ix >= w:
							clear(o)
						case c == 1:
							o[0] = row[ix]
						default:
							copy(o, row[ix*c:(ix+1)*c])
						}
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: it adds each patch value of src
// (n*oh*ow rows of kh*kw*c) back onto the image pixel it was read from in
// dst (n images of h x w x c). Values that fell on padding are dropped.
// dst is accumulated into, not cleared.
func Col2im(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	rowLen := kh * kw * c
	if n*oh*ow*rowLen == 0 {
		return
	}
	_ = src[n*oh*ow*rowLen-1]
	_ = dst[n*h*w*c-1]
	span := kw * c
	s := 0
	for b := 0; b < n; b++ {
		img := dst[b*h*w*c : (b+1)*h*w*c]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				ix0 := ox*sw - padLeft
				for ky := 0; ky < kh; ky++ {
					in := src[s : s+span]
					s += span
					iy := oy*sh - padTop + ky
					if iy < 0 || iy >= h {
						continue
					}
					row := img[iy*w*c : (iy+1)*w*c]
					if ix0 >= 0 && ix0+kw <= w {
						addTo(row[ix0*c:(ix0+kw)*c], in)
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix := ix0 + kx
						if ix >= 0 && ix < w {
							addTo(row[ix*c:(ix+1)*c], in[kx*c:(kx+1)*c])
						}
					}
				}
			}
		}
	}
}

// smallSpan is the kernel-row length (kw*c values) up to which Im2col
// copies with a loop rather than copy (e.g. a 5x5 kernel on one channel).
const smallSpan = 16

// im2colNarrow is Im2col for short kernel rows (kw*c <= smallSpan, e.g. a
// 5x5 kernel on one channel). For each output row and kernel row it
// copies the input row once into a zero-padded buffer, so that every tap
// is a short copy from it with no bounds logic.
func im2colNarrow(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	rowLen, span := kh*kw*c, kw*c
	// The padded row covers input columns [-padLeft, (ow-1)*sw-padLeft+kw).
	pw := (ow-1)*sw + kw
	// 8 values of slack: see wide below.
	var stack [1024]float32
	pad := stack[:0]
	if pw*c+8 > len(stack) {
		pad = make([]float32, pw*c+8)
	} else {
		pad = stack[:pw*c+8]
	}
	// For kernel rows of 4 to 8 values, all but the last kernel row are
	// copied as 8 values (one vector move): the extra values land on the
	// next kernel row of the same patch, which is written afterwards.
	wide := span >= 4 && span <= 8
	// Input columns [lo, hi) land in the padded row at lo+padLeft.
	lo, hi := max(0, -padLeft), min(w, pw-padLeft)
	for b := 0; b < n; b++ {
		img := src[b*h*w*c : (b+1)*h*w*c]
		out := dst[b*oh*ow*rowLen : (b+1)*oh*ow*rowLen]
		for oy := 0; oy < oh; oy++ {
			rows := out[oy*ow*rowLen : (oy+1)*ow*rowLen]
			for ky := 0; ky < kh; ky++ {
				iy := oy*sh - padTop + ky
				if iy < 0 || iy >= h {
					for ox := 0; ox < ow; ox++ {
						clear(rows[ox*rowLen+ky*span : ox*rowLen+(ky+1)*span])
					}
					continue
				}
				clear(pad)
				if lo < hi {
					copy(pad[(lo+padLeft)*c:(hi+padLeft)*c], img[(iy*w+lo)*c:(iy*w+hi)*c])
				}
				if wide && ky < kh-1 {
					for ox := 0; ox < ow; ox++ {
						o, i := ox*rowLen+ky*span, ox*sw*c
						*(*[8]float32)(rows[o : o+8]) = *(*[8]float32)(pad[i : i+8])
					}
					continue
				}
				for ox := 0; ox < ow; ox++ {
					o := ox*rowLen + ky*span
					copySmall(rows[o:o+span], pad[ox*sw*c:ox*sw*c+span])
				}
			}
		}
	}
}

// copySmall is copy for up to about 16 values: a call to memmove costs
// more than a few moves of fixed-size arrays, which compile to vector
// moves.
func copySmall(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		*(*[8]float32)(dst[i:]) = *(*[8]float32)(src[i:])
	}
	if i+4 <= len(dst) {
		*(*[4]float32)(dst[i:]) = *(*[4]float32)(src[i:])
		i += 4
	}
	for ; i < len(dst); i++ {
		dst[i] = src[i]
	}
}

// addTo sets dst[i] += src[i].
func addTo(dst, src []float32) {
	if len(dst) >= 8 {
		Add(dst, src[:len(dst)])
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}
