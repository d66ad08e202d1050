package kernels

import (
	"math"
	"sync"
	"sync/atomic"
)

// DepthwiseConvRows computes output rows [lo, hi) (numbered b*OH + oy) of
// a depthwise convolution on NHWC data: every input channel ci is
// convolved with mult filters of its own, giving output channel
// ci*mult + m of C*mult. g gives the sampling (stride, dilation, padding;
// see ConvGeom). w holds the filters as [KH][KW][C*mult], TFLite's and
// TensorFlow's layout (an ONNX [C*mult][1][KH][KW] filter must be
// transposed to it), so that one kernel row's taps of all channels are
// contiguous like the input pixels they multiply: the inner loops run
// over channels. Accumulators start at bias (nil: zero); dst holds the
// whole N x OH x OW x C*mult output. Activation or requantization is the
// caller's, row by row while the row is in cache.
func DepthwiseConvRows(dst, src, w, bias []float32, g ConvGeom, mult, lo, hi int) {
	DepthwiseConvRowsClamp(dst, src, w, bias, g, mult, lo, hi, float32(math.Inf(-1)), float32(math.Inf(1)))
}

// DepthwiseConvRowsClamp is DepthwiseConvRows with the outputs clamped
// to [min, max] (a fused ReLU or ReLU6) as they are stored, instead of in
// a pass of their own over each row (18% of MobileNetV2's 56x56x144
// layer). A NaN stays NaN.
func DepthwiseConvRowsClamp(dst, src, w, bias []float32, g ConvGeom, mult, lo, hi int, cmin, cmax float32) {
	g, oc, ok := rowsArgs(dst, w, g, mult, lo, hi)
	if !ok {
		return
	}
	if bias != nil {
		bias = bias[:oc]
	}
	bounded := !math.IsInf(float64(cmin), -1) || !math.IsInf(float64(cmax), 1)
	if mult == 1 {
		depthwiseRows1(dst, src, w, bias, &g, lo, hi, cmin, cmax, bounded, false)
		return
	}
	for r := lo; r < hi; r++ {
		b, oy := r/g.OH, r%g.OH
		for ox := 0; ox < g.OW; ox++ {
			acc := dst[(r*g.OW+ox)*oc : (r*g.OW+ox+1)*oc]
			if bias != nil {
				copy(acc, bias)
			} else {
				clear(acc)
			}
			for ky := 0; ky < g.KH; ky++ {
				iy := oy*g.SH - g.PadTop + ky*g.DH
				if iy < 0 || iy >= g.H {
					continue
				}
				xrow := src[(b*g.H+iy)*g.W*g.C : (b*g.H+iy+1)*g.W*g.C]
				wrow := w[ky*g.KW*oc : (ky+1)*g.KW*oc]
				depthwiseMult(acc, xrow, wrow, ox*g.SW-g.PadLeft, g.W, g.C, g.KW, g.DW, mult)
			}
		}
		if bounded {
			row := dst[r*g.OW*oc : (r+1)*g.OW*oc]
			Clip(row, row, cmin, cmax)
		}
	}
}

// DepthwiseConvRowsSiLU is DepthwiseConvRows followed by SiLU on every
// output row (EfficientNet's depthwise layers), with the same bits. With
// multiplier 1, a kernel at least 3 wide without column dilation and a
// multiple of 16 channels, where the CPU has AVX-512, the interior pixels
// get their SiLU in the kernel's registers (dwTapsSiLU), while the loop
// waits on its loads (BenchmarkDepthwiseConvRowsSiLU, one thread, AMD
// Zen 5: 112x112x32 162-164 -> 146-152 us, 56x56x144 180-189 -> 165-166
// us; EfficientNet-B0's 5x5 layers gain nothing).
func DepthwiseConvRowsSiLU(dst, src, w, bias []float32, g ConvGeom, mult, lo, hi int) {
	g, oc, ok := rowsArgs(dst, w, g, mult, lo, hi)
	if !ok {
		return
	}
	inf := float32(math.Inf(1))
	if mult == 1 && g.KW >= 3 && g.DW == 1 && dwSiLUFused(g.C) {
		if bias != nil {
			bias = bias[:oc]
		}
		depthwiseRows1(dst, src, w, bias, &g, lo, hi, -inf, inf, false, true)
		return
	}
	for r := lo; r < hi; r++ {
		DepthwiseConvRowsClamp(dst, src, w, bias, g, mult, r, r+1, -inf, inf)
		row := dst[r*g.OW*oc : (r+1)*g.OW*oc]
		SiLU(row, row)
	}
}

// rowsArgs normalizes g and checks dst and w against output rows [lo,
// hi) (they panic, like an index expression, when short); it returns the
// output channels and whether there is anything to compute.
func rowsArgs(dst, w []float32, g ConvGeom, mult, lo, hi int) (ConvGeom, int, bool) {
	g = g.norm()
	oc := g.C * mult
	if hi <= lo || oc == 0 || g.OW == 0 {
		return g, oc, false
	}
	_ = dst[hi*g.OW*oc-1]
	_ = w[g.KH*g.KW*oc-1]
	return g, oc, true
}

// depthwiseRows1 is DepthwiseConvRows for multiplier 1 (MobileNet's),
// with SiLU on the outputs when silu (DepthwiseConvRowsSiLU's case: the
// interior through dwTapsSiLU, the rest through SiLU afterwards).
// Interior pixels (all taps inside the image, no column dilation) go
// through dwTaps; at the borders a kernel row that lies inside the image
// is one contiguous slice of the input, taken three taps at a time, and
// the rest goes through depthwiseTaps. The geometry
// is read through g rather than copied into locals: every tap is a call,
// around which locals would be spilled and reloaded.
func depthwiseRows1(dst, src, w, bias []float32, g *ConvGeom, lo, hi int, cmin, cmax float32, bounded, silu bool) {
	c := g.C
	span := g.KW * c // one kernel row of taps
	z := zeros(c)
	for r := lo; r < hi; r++ {
		b, oy := r/g.OH, r%g.OH
		img := src[b*g.H*g.W*c : (b+1)*g.H*g.W*c]
		out := dst[r*g.OW*c : (r+1)*g.OW*c]
		// The input rows the next line reads and this one does not
		// (Prefetch).
		if oy+1 < g.OH {
			for ky := max(0, g.KH-g.SH); ky < g.KH; ky++ {
				if iy := (oy+1)*g.SH - g.PadTop + ky*g.DH; iy >= 0 && iy < g.H {
					Prefetch(img[iy*g.W*c : (iy+1)*g.W*c])
				}
			}
		}
		// The pixels whose taps all fall inside the image go through
		// dwTaps, all taps at once, in blocks of pixels whose input
		// window stays in L1 while every channel group passes over it
		// (dwBlock; CenterNet's 128x128x128 3x3 layer took 5.8-6.0 ms
		// in one block per row, 3.1-3.4 in blocks of 8 pixels).
		a, e := g.OW, g.OW
		if g.KW >= 3 && g.DW == 1 {
			a, e = interior(g)
			if a < e {
				// The sums start from the bias (zeros without one) in
				// the kernel's registers.
				b := bias
				if b == nil {
					b = z
				}
				if ky0, ky1 := validRows(g, oy); ky0 < ky1 {
					iy0 := oy*g.SH - g.PadTop + ky0*g.DH
					blk := dwBlock(ky1-ky0, c, g.SW)
					for o := a; o < e; o += blk {
						n := min(blk, e-o)
						if silu {
							dwTapsSiLU(out[o*c:(o+n)*c], img[(iy0*g.W+o*g.SW-g.PadLeft)*c:], w[ky0*span:], b, n, ky1-ky0, g.KW, c, g.SW*c, g.DH*g.W*c)
						} else {
							dwTaps(out[o*c:(o+n)*c], img[(iy0*g.W+o*g.SW-g.PadLeft)*c:], w[ky0*span:], b, n, ky1-ky0, g.KW, c, g.SW*c, g.DH*g.W*c, cmin, cmax)
						}
					}
				} else {
					for ox := a; ox < e; ox++ {
						copy(out[ox*c:(ox+1)*c], b)
						if bounded {
							Clip(out[ox*c:(ox+1)*c], out[ox*c:(ox+1)*c], cmin, cmax)
						}
					}
					if silu {
						SiLU(out[a*c:e*c], out[a*c:e*c])
					}
				}
			}
		}
		for ox := 0; ox < g.OW; ox++ {
			if ox == a {
				ox = e - 1
				continue
			}
			acc := out[ox*c : (ox+1)*c]
			if bias != nil {
				copy(acc, bias)
			} else {
				clear(acc)
			}
			ix0 := ox*g.SW - g.PadLeft
			inside := g.DW == 1 && ix0 >= 0 && ix0+g.KW <= g.W
			for ky := 0; ky < g.KH; ky++ {
				iy := oy*g.SH - g.PadTop + ky*g.DH
				if iy < 0 || iy >= g.H {
					continue
				}
				if !inside && g.KW == 3 && g.DW == 1 {
					border3(acc, img[iy*g.W*c:(iy+1)*g.W*c], w[ky*3*c:(ky+1)*3*c], z, ix0)
					continue
				}
				if !inside {
					depthwiseTaps(acc, img[iy*g.W*c:(iy+1)*g.W*c], w[ky*span:(ky+1)*span], z, ix0, g.W, g.KW, g.DW)
					continue
				}
				off := (iy*g.W + ix0) * c
				if g.KW == 3 { // slices of known length: fewer bounds checks
					xr, wr := img[off:off+3*c], w[ky*3*c:(ky+1)*3*c]
					MulAdd3(acc, xr[:c], xr[c:2*c], xr[2*c:], wr[:c], wr[c:2*c], wr[2*c:])
					continue
				}
				xr, wr := img[off:off+span], w[ky*span:(ky+1)*span]
				t := 0
				for ; t+3*c <= span; t += 3 * c {
					MulAdd3(acc, xr[t:t+c], xr[t+c:t+2*c], xr[t+2*c:t+3*c], wr[t:t+c], wr[t+c:t+2*c], wr[t+2*c:t+3*c])
				}
				for ; t < span; t += c {
					MulAdd(acc, xr[t:t+c], wr[t:t+c])
				}
			}
			if bounded {
				Clip(acc, acc, cmin, cmax)
			}
			if silu {
				SiLU(acc, acc)
			}
		}
	}
}

// dwBlock is how many output pixels one dwTaps call takes: a multiple of
// the kernel's 4 pixels whose input window (kh rows of blk*sw pixels of
// c channels) fits in 16 KiB, half a small L1 cache.
func dwBlock(kh, c, sw int) int {
	return max(4, (16<<10)/(4*kh*c*sw)&^3)
}

// interior returns the output columns [a, e) whose kernel rows lie
// inside the image (no column dilation); a == e when there are none.
func interior(g *ConvGeom) (a, e int) {
	a = (g.PadLeft + g.SW - 1) / g.SW // ox*SW - PadLeft >= 0
	if g.W-g.KW+g.PadLeft < 0 {
		return g.OW, g.OW
	}
	e = min((g.W-g.KW+g.PadLeft)/g.SW+1, g.OW) // ox*SW - PadLeft + KW <= W
	if a >= e {
		return g.OW, g.OW
	}
	return a, e
}

// validRows returns the kernel rows [ky0, ky1) of output row oy that
// fall inside the image.
func validRows(g *ConvGeom, oy int) (ky0, ky1 int) {
	ky0 = g.KH
	for ky := 0; ky < g.KH; ky++ {
		if iy := oy*g.SH - g.PadTop + ky*g.DH; iy >= 0 && iy < g.H {
			ky0 = min(ky0, ky)
			ky1 = ky + 1
		}
	}
	return ky0, max(ky0, ky1)
}

// dwTaps sets acc (n output pixels of c channels) to bias (c values)
// plus the kh x kw taps of a depthwise convolution with multiplier 1 and
// no column dilation, for pixels whose taps all fall inside the image:
// output o reads x[o*sx + ky*rowx + kx*c + ch] and w[(ky*kw + kx)*c + ch].
// The AVX2 kernel keeps each pixel's sums in registers over all the taps,
// starting from the bias, so acc is not set in a pass of its own (see
// depthwise_asmgen.go), the last channels of a count that is not a
// multiple of 8 under a mask; machines without it take dwTapsGo.
func dwTaps(acc, x, w, bias []float32, n, kh, kw, c, sx, rowx int, cmin, cmax float32) {
	if !tapsArgs(acc, x, w, bias, n, kh, kw, c, sx, rowx) {
		return
	}
	ch := 0
	if useDwAVX512 {
		for ; ch+32 <= c; ch += 32 {
			dwTaps32AVX512(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], cmin, cmax)
		}
		if ch+16 <= c {
			dwTaps16AVX512(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], cmin, cmax)
			ch += 16
		}
	}
	if useMulAddAVX2 {
		for ; ch+16 <= c; ch += 16 {
			dwTaps16AVX2(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], cmin, cmax)
		}
		if ch+8 <= c {
			dwTaps8AVX2(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], cmin, cmax)
			ch += 8
		}
		if ch < c {
			// The last channels under a mask: in Go, CenterNet's 18- and
			// 22-channel layers took 3 times the time of the others.
			dwTapsMaskAVX2(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &tailMask[8-(c-ch)], &bias[ch], cmin, cmax)
			return
		}
	}
	if ch < c {
		for o := range n {
			copy(acc[o*c+ch:(o+1)*c], bias[ch:])
		}
		dwTapsGo(acc, x, w, n, kh, kw, c, sx, rowx, ch, cmin, cmax)
	}
}

// tapsArgs checks dwTaps' slices against its shape (they panic, like an
// index expression, when short) and reports whether there is anything to
// compute.
func tapsArgs(acc, x, w, bias []float32, n, kh, kw, c, sx, rowx int) bool {
	if n <= 0 || kh <= 0 || kw <= 0 || c <= 0 {
		return false
	}
	_ = acc[n*c-1]
	_ = x[(n-1)*sx+(kh-1)*rowx+kw*c-1]
	_ = w[kh*kw*c-1]
	_ = bias[c-1]
	return true
}

// tailMask[8-r:] is the VMASKMOVPS mask of the first r lanes.
var tailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// dwTapsGo is dwTaps for channels [ch0, c), the taps in the same order.
func dwTapsGo(acc, x, w []float32, n, kh, kw, c, sx, rowx, ch0 int, cmin, cmax float32) {
	for o := range n {
		a := acc[o*c+ch0 : (o+1)*c]
		for ky := range kh {
			for kx := range kw {
				xo, wo := o*sx+ky*rowx+kx*c, (ky*kw+kx)*c
				xr, wr := x[xo+ch0:xo+c], w[wo+ch0:wo+c]
				for i := range a {
					a[i] += xr[i] * wr[i]
				}
			}
		}
		for i, v := range a {
			a[i] = min(max(v, cmin), cmax)
		}
	}
}

// depthwiseTaps adds one kernel row (kw taps from input column ix0, dw
// apart) with multiplier 1, three taps per pass over acc. A tap outside
// the image reads z (len(acc) zeros) with zero weights, so the sums
// round as inside.
func depthwiseTaps(acc, xrow, wrow, z []float32, ix0, w, kw, dw int) {
	c := len(acc)
	kx := 0
	for ; kx+3 <= kw; kx += 3 {
		ix := ix0 + kx*dw
		if dw == 1 && ix >= 0 && ix+3 <= w {
			xr, wr := xrow[ix*c:(ix+3)*c], wrow[kx*c:(kx+3)*c]
			MulAdd3(acc, xr[:c], xr[c:2*c], xr[2*c:], wr[:c], wr[c:2*c], wr[2*c:])
			continue
		}
		var xs, ws [3][]float32
		for j := range 3 {
			xs[j], ws[j] = z, z
			if x := ix + j*dw; x >= 0 && x < w {
				xs[j], ws[j] = xrow[x*c:(x+1)*c], wrow[(kx+j)*c:(kx+j+1)*c]
			}
		}
		MulAdd3(acc, xs[0], xs[1], xs[2], ws[0], ws[1], ws[2])
	}
	for ; kx < kw; kx++ {
		if x := ix0 + kx*dw; x >= 0 && x < w {
			MulAdd(acc, xrow[x*c:(x+1)*c], wrow[kx*c:(kx+1)*c])
		}
	}
}

// border3 is depthwiseTaps for a 3-wide kernel row without dilation at
// the left or right border, kept out of depthwiseRows1's hot loop.
func border3(acc, xrow, wr, z []float32, ix0 int) {
	c := len(acc)
	w := len(xrow) / c
	var xs, ws [3][]float32
	for j := range 3 {
		xs[j], ws[j] = z, z
		if x := ix0 + j; x >= 0 && x < w {
			xs[j], ws[j] = xrow[x*c:(x+1)*c], wr[j*c:(j+1)*c]
		}
	}
	MulAdd3(acc, xs[0], xs[1], xs[2], ws[0], ws[1], ws[2])
}

// depthwiseMult adds one kernel row for a depth multiplier above 1.
func depthwiseMult(acc, xrow, wrow []float32, ix0, w, c, kw, dw, mult int) {
	oc := len(acc)
	for kx := 0; kx < kw; kx++ {
		x := ix0 + kx*dw
		if x < 0 || x >= w {
			continue
		}
		xp, wp := xrow[x*c:(x+1)*c], wrow[kx*oc:(kx+1)*oc]
		for ci, v := range xp {
			a, wm := acc[ci*mult:(ci+1)*mult], wp[ci*mult:(ci+1)*mult]
			for m := range a {
				a[m] += v * wm[m]
			}
		}
	}
}

// zeros returns n zeros from a shared buffer that only grows; nobody
// writes to it, so concurrent readers are safe.
func zeros(n int) []float32 {
	if z := zeroBuf.Load(); z != nil && len(*z) >= n {
		return (*z)[:n]
	}
	zeroMu.Lock()
	defer zeroMu.Unlock()
	if z := zeroBuf.Load(); z != nil && len(*z) >= n {
		return (*z)[:n]
	}
	z := make([]float32, max(n, 1024))
	zeroBuf.Store(&z)
	return z[:n]
}

var (
	zeroBuf atomic.Pointer[[]float32]
	zeroMu  sync.Mutex
)
