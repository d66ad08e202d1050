package kernels

// ConvGeom is how an NHWC 2-D convolution samples its input: N images of
// H x W x C, a KH x KW kernel moved by strides SH, SW with dilations DH,
// DW, PadTop rows and PadLeft columns of zeros before the image, and an
// OH x OW output (bottom/right padding follows from it). Tap (ky, kx) of
// output pixel (oy, ox) reads input pixel
// (oy*SH - PadTop + ky*DH, ox*SW - PadLeft + kx*DW); pixels outside the
// image read as zero.
type ConvGeom struct {
	N, H, W, C      int
	KH, KW          int
	SH, SW          int
	DH, DW          int // 0 counts as 1
	PadTop, PadLeft int
	OH, OW          int
}

func (g ConvGeom) norm() ConvGeom {
	g.DH, g.DW = max(g.DH, 1), max(g.DW, 1)
	return g
}

// Im2col unfolds a batch of NHWC images into convolution patches, without
// dilation: it is ConvGeom{...}.Im2col(dst, src) with DH = DW = 1.
func Im2col(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	ConvGeom{n, h, w, c, kh, kw, sh, sw, 1, 1, padTop, padLeft, oh, ow}.Im2col(dst, src)
}

// Col2im is ConvGeom{...}.Col2im(dst, src) without dilation.
func Col2im(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	ConvGeom{n, h, w, c, kh, kw, sh, sw, 1, 1, padTop, padLeft, oh, ow}.Col2im(dst, src)
}

// Im2col unfolds src (N images of H x W x C) into dst: N*OH*OW rows of
// KH*KW*C values, row (b, oy, ox) holding the receptive field of output
// pixel (oy, ox) of image b, taps ordered (ky, kx, channel), so that
// multiplying dst by a kernel stored as (KH, KW, C, filters) yields the
// NHWC output directly.
func (g ConvGeom) Im2col(dst, src []float32) {
	g = g.norm()
	total := g.N * g.OH * g.OW * g.KH * g.KW * g.C
	if g.DH != 1 || g.DW != 1 || total == 0 {
		g.Im2colRows(dst, src, 0, g.N*g.OH*g.OW)
		return
	}
	_ = dst[total-1]
	_ = src[g.N*g.H*g.W*g.C-1]
	if g.KW*g.C <= narrowSpan {
		im2colNarrow(dst, src, g)
		return
	}
	im2colWide(dst, src, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OH, g.OW)
}

// Im2colRows is Im2col for output pixels [lo, hi) of the batch (numbered
// (b*OH + oy)*OW + ox): dst receives hi-lo rows. Convolutions lower a
// cache-sized chunk of pixels at a time with it, then multiply.
func (g ConvGeom) Im2colRows(dst, src []float32, lo, hi int) {
	g = g.norm()
	// Locals, not fields of g: the loops below run per tap.
	h, w, c, kh, kw := g.H, g.W, g.C, g.KH, g.KW
	sh, sw, dh, dw, oh, ow := g.SH, g.SW, g.DH, g.DW, g.OH, g.OW
	span := kw * c // one kernel row
	rowLen := kh * span
	if hi <= lo || rowLen == 0 {
		return
	}
	dst = dst[:(hi-lo)*rowLen]
	imgLen := h * w * c
	_ = src[g.N*imgLen-1]
	b, oy, ox := lo/(oh*ow), lo/ow%oh, lo%ow
	img := src[b*imgLen : (b+1)*imgLen]
	for d := 0; d < len(dst); {
		ix0 := ox*sw - g.PadLeft
		// Without dilation, a kernel row inside the image is one copy.
		inside := dw == 1 && ix0 >= 0 && ix0+kw <= w
		iy := oy*sh - g.PadTop
		for ky := 0; ky < kh; ky, iy = ky+1, iy+dh {
			out := dst[d : d+span]
			d += span
			if iy < 0 || iy >= h {
				clear(out)
				continue
			}
			row := img[iy*w*c : (iy+1)*w*c]
			if inside {
				if span <= smallSpan {
					copySmall(out, row[ix0*c:ix0*c+span])
				} else {
					copy(out, row[ix0*c:ix0*c+span])
				}
				continue
			}
			for kx, ix := 0, ix0; kx < span; kx, ix = kx+c, ix+dw {
				t := out[kx : kx+c]
				switch {
				case ix < 0 || ix >= w:
					clear(t)
				case c == 1:
					t[0] = row[ix]
				case c <= smallSpan:
					copySmall(t, row[ix*c:(ix+1)*c])
				default:
					copy(t, row[ix*c:(ix+1)*c])
				}
			}
		}
		if ox++; ox == ow {
			ox = 0
			if oy++; oy == oh {
				oy = 0
				if b++; b < g.N {
					img = src[b*imgLen : (b+1)*imgLen]
				}
			}
		}
	}
}

// im2colWide is Im2col without dilation for kernel rows longer than
// smallSpan: the loop Im2col had before dilation, kept as is because it
// measured 2-3% faster than Im2colRows on LeNet's second layer.
func im2colWide(dst, src []float32, n, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow int) {
	span := kw * c // one kernel row: kw taps, contiguous in NHWC
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
						copy(out, row[ix0*c:(ix0+kw)*c])
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
// (N*OH*OW rows of KH*KW*C) back onto the image pixel it was read from in
// dst (N images of H x W x C). Values that fell on padding are dropped.
// dst is accumulated into, not cleared.
func (g ConvGeom) Col2im(dst, src []float32) {
	g = g.norm()
	c, w := g.C, g.W
	span := g.KW * c
	if g.N*g.OH*g.OW*g.KH*span == 0 {
		return
	}
	_ = src[g.N*g.OH*g.OW*g.KH*span-1]
	_ = dst[g.N*g.H*w*c-1]
	s := 0
	for b := 0; b < g.N; b++ {
		img := dst[b*g.H*w*c : (b+1)*g.H*w*c]
		for oy := 0; oy < g.OH; oy++ {
			for ox := 0; ox < g.OW; ox++ {
				ix0 := ox*g.SW - g.PadLeft
				inside := g.DW == 1 && ix0 >= 0 && ix0+g.KW <= w
				for ky := 0; ky < g.KH; ky++ {
					in := src[s : s+span]
					s += span
					iy := oy*g.SH - g.PadTop + ky*g.DH
					if iy < 0 || iy >= g.H {
						continue
					}
					row := img[iy*w*c : (iy+1)*w*c]
					if inside {
						addTo(row[ix0*c:(ix0+g.KW)*c], in)
						continue
					}
					for kx := 0; kx < g.KW; kx++ {
						if ix := ix0 + kx*g.DW; ix >= 0 && ix < w {
							addTo(row[ix*c:(ix+1)*c], in[kx*c:(kx+1)*c])
						}
					}
				}
			}
		}
	}
}

// smallSpan is the kernel-row length (KW*C values) up to which Im2col
// copies with a loop rather than copy (e.g. a 5x5 kernel on one channel).
const smallSpan = 16

// narrowSpan is the kernel-row length (KW*C values) up to which Im2col
// takes im2colNarrow: the stems of most networks (3x3 to 7x7 on RGB, 9 to
// 21 values), LeNet's 5x5 on one channel. (ResNet's 7x7 stem took 1.4-1.7
// ms a 224x224 image in im2colWide's copy call per kernel row.)
const narrowSpan = 32

// im2colNarrow is Im2col for short kernel rows (KW*C <= narrowSpan)
// without column dilation. For each output row and kernel row it copies
// the input row once into a zero-padded buffer, so that the kernel row of
// every patch is a copy from it with no bounds logic, all of them one
// CopyRows.
func im2colNarrow(dst, src []float32, g ConvGeom) {
	n, h, w, c, kh, kw, sh, sw := g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW
	padTop, padLeft, oh, ow := g.PadTop, g.PadLeft, g.OH, g.OW
	rowLen, span := kh*kw*c, kw*c
	// The padded row covers input columns [-padLeft, (ow-1)*sw-padLeft+kw).
	pw := (ow-1)*sw + kw
	var stack [1024]float32
	pad := stack[:0]
	if pw*c > len(stack) {
		pad = make([]float32, pw*c)
	} else {
		pad = stack[:pw*c]
	}
	// Input columns [lo, hi) land in the padded row at lo+padLeft.
	lo, hi := max(0, -padLeft), min(w, pw-padLeft)
	for b := 0; b < n; b++ {
		img := src[b*h*w*c : (b+1)*h*w*c]
		out := dst[b*oh*ow*rowLen : (b+1)*oh*ow*rowLen]
		for oy := 0; oy < oh; oy++ {
			rows := out[oy*ow*rowLen : (oy+1)*ow*rowLen]
			for ky := 0; ky < kh; ky++ {
				iy := oy*sh - padTop + ky*g.DH
				if iy < 0 || iy >= h {
					for ox := 0; ox < ow; ox++ {
						clear(rows[ox*rowLen+ky*span : ox*rowLen+(ky+1)*span])
					}
					continue
				}
				// Only the padding around the copied columns needs zeros
				// (clearing the whole row cost 6% of a 224x224 stem).
				if lo < hi {
					clear(pad[:(lo+padLeft)*c])
					copy(pad[(lo+padLeft)*c:(hi+padLeft)*c], img[(iy*w+lo)*c:(iy*w+hi)*c])
					clear(pad[(hi+padLeft)*c:])
				} else {
					clear(pad)
				}
				CopyRows(rows[ky*span:], rowLen, pad, sw*c, ow, span)
			}
		}
	}
}

// copySmall is copy for up to about 16 values: a call to memmove costs
// more than a few register moves. A last part shorter than a vector is
// moved as the vector that ends at the end, overlapping the one before
// (the values are the same).
func copySmall(dst, src []float32) {
	n := len(dst)
	src = src[:n]
	switch {
	case n >= 8:
		i := 0
		for ; i+8 <= n; i += 8 {
			move8(dst[i:], src[i:])
		}
		if i < n {
			move8(dst[n-8:], src[n-8:])
		}
	case n >= 4:
		move4(dst, src)
		move4(dst[n-4:], src[n-4:])
	default:
		for i := range dst {
			dst[i] = src[i]
		}
	}
}

// move8 copies 8 values through registers: assigning a [8]float32
// compiles to a memmove call.
func move8(dst, src []float32) {
	s, d := src[:8], dst[:8]
	a0, a1, a2, a3, a4, a5, a6, a7 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = a0, a1, a2, a3, a4, a5, a6, a7
}

// move4 copies 4 values through registers.
func move4(dst, src []float32) {
	s, d := src[:4], dst[:4]
	a0, a1, a2, a3 := s[0], s[1], s[2], s[3]
	d[0], d[1], d[2], d[3] = a0, a1, a2, a3
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

// Im2colRowsU8 is Im2colRows for byte activations: pixels outside the
// image read as pad (a quantized tensor's zero point). It goes output
// row by output row and kernel row by kernel row: the pixels whose
// kernel row lies inside the image take one strided copy (RGB stems copy
// 9 bytes per pixel and kernel row), the others tap by tap.
func (g ConvGeom) Im2colRowsU8(dst, src []byte, lo, hi int, pad byte) {
	g = g.norm()
	h, w, c, kh, kw := g.H, g.W, g.C, g.KH, g.KW
	sh, sw, dh, dw, oh, ow := g.SH, g.SW, g.DH, g.DW, g.OH, g.OW
	span := kw * c
	rowLen := kh * span
	if hi <= lo || rowLen == 0 {
		return
	}
	dst = dst[:(hi-lo)*rowLen]
	imgLen := h * w * c
	_ = src[g.N*imgLen-1]
	// Output columns [oxa, oxb) read kernel rows inside the image.
	oxa, oxb := ow, ow
	if dw == 1 {
		oxa = min((g.PadLeft+sw-1)/sw, ow)
		oxb = 0
		if last := w - kw + g.PadLeft; last >= 0 {
			oxb = min(last/sw+1, ow)
		}
		oxb = max(oxb, oxa)
	}
	for p := lo; p < hi; {
		b, oy, ox0 := p/(oh*ow), p/ow%oh, p%ow
		ox1 := min(ow, ox0+hi-p) // this output row's pixels in the range
		img := src[b*imgLen : (b+1)*imgLen]
		out := dst[(p-lo)*rowLen:]
		iy := oy*sh - g.PadTop
		for ky := 0; ky < kh; ky, iy = ky+1, iy+dh {
			if iy < 0 || iy >= h {
				for j := 0; j < ox1-ox0; j++ {
					fillBytes(out[j*rowLen+ky*span:j*rowLen+(ky+1)*span], pad)
				}
				continue
			}
			row := img[iy*w*c : (iy+1)*w*c]
			a, e := max(ox0, oxa), min(ox1, oxb)
			if a < e {
				d := out[(a-ox0)*rowLen+ky*span:]
				s := row[(a*sw-g.PadLeft)*c:]
				if !copyStridedArch(d, rowLen, s, sw*c, span, e-a) {
					for j := 0; j < e-a; j++ {
						copy(d[j*rowLen:j*rowLen+span], s[j*sw*c:j*sw*c+span])
					}
				}
			}
			for ox := ox0; ox < ox1; ox++ {
				if ox >= a && ox < e {
					continue
				}
				t := out[(ox-ox0)*rowLen+ky*span:]
				for kx, ix := 0, ox*sw-g.PadLeft; kx < kw; kx, ix = kx+1, ix+dw {
					if ix < 0 || ix >= w {
						fillBytes(t[kx*c:(kx+1)*c], pad)
					} else {
						copy(t[kx*c:(kx+1)*c], row[ix*c:(ix+1)*c])
					}
				}
			}
		}
		p += ox1 - ox0
	}
}

func fillBytes(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}
