package kernels

import (
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
	g = g.norm()
	oc := g.C * mult
	if hi <= lo || oc == 0 || g.OW == 0 {
		return
	}
	_ = dst[hi*g.OW*oc-1]
	_ = w[g.KH*g.KW*oc-1]
	if bias != nil {
		bias = bias[:oc]
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
				if mult == 1 {
					depthwiseTaps(acc, xrow, wrow, ox*g.SW-g.PadLeft, g.W, g.KW, g.DW)
				} else {
					depthwiseMult(acc, xrow, wrow, ox*g.SW-g.PadLeft, g.W, g.C, g.KW, g.DW, mult)
				}
			}
		}
	}
}

// depthwiseTaps adds one kernel row (kw taps from input column ix0, dw
// apart) with multiplier 1, three taps per pass over acc. A tap outside
// the image reads zeros with zero weights, so the sums round as inside.
func depthwiseTaps(acc, xrow, wrow []float32, ix0, w, kw, dw int) {
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
			xs[j], ws[j] = zeros(c), zeros(c)
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
