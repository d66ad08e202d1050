package nn

import (
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// The depthwise kernels: geometry g has groups == cin and f = cin*mult;
// the weights are (KH*KW, f) with output channel c*mult + m last, the
// layout DepthwiseConv2D and a Conv2D with Groups == Cin share.

// dwState is a depthwise convolution's per-Session storage.
type dwState struct {
	task  dwTask
	act   actTask
	tile  []float32 // per tap, its weights repeated over an output row
	acc   []float32 // backward, tiled: per part and tap, dW over a row
	grads []float32 // dW and db of parts 1..
	sums  []float32 // column-sum scratch, per part
}

// dwTiled reports whether Backward runs on tiled weights: with stride 1
// along the row and a depth multiplier of 1, a tap's input pixels for a
// row of outputs are contiguous, so a single multiply-add, with the tap's
// weights repeated over the row, covers the tap for the whole row. (At
// stride 2, splitting the input rows into phases to make the taps
// contiguous cost more than it saved.) Forward no longer tiles:
// kernels.DepthwiseConvRows keeps each pixel's sums in registers over
// all the taps, in blocks of pixels that stay in L1, which measured
// 1.1-1.5x faster than the tiled rows on MobileNetV2's 3x3 layers at
// batch 1 (BenchmarkDepthwiseMobileNetV2) and as fast on CenterNet's
// 128x128x128 head.
func (g *convGeo) dwTiled() bool { return g.sw == 1 && g.f == g.cin && g.kw <= 3 }

// dwTask runs a pass over parts of the batch: output lines forward,
// images backward (their input gradients do not overlap).
type dwTask struct {
	g              convGeo
	backward       bool
	parts          int
	x, y, res      []float32
	w, bias, tile  []float32
	acc            []float32
	act            Act
	dy, dx, dw, db []float32
	grads, sums    []float32
}

// Run processes parts [lo, hi).
func (t *dwTask) Run(lo, hi int) {
	for p := lo; p < hi; p++ {
		if t.backward {
			t.backwardPart(p)
		} else {
			t.forwardPart(p)
		}
	}
}

func (s *dwState) forward(g *convGeo, x, y, res, w, bias []float32, act Act) {
	if len(x) == 0 || len(y) == 0 {
		return
	}
	t := &s.task
	*t = dwTask{g: *g, x: x, y: y, res: res, w: w, bias: bias, act: act}
	// A depthwise multiply-add costs about four of a GEMM's (a load per
	// tap, no register reuse), so a line counts four times its flops:
	// MobileNetV2's 14x14x384 layers ran on one core in 60-80us and take
	// 32-39us on two.
	t.parts = convParts(g.lines(), 8*g.ow*g.f*g.kh*g.kw)
	kernels.Parallel(t.parts, 1, t)
	*t = dwTask{}
}

// tiles repeats every tap's weights over an output row (see dwTiled),
// each call: the weights may have changed in place since the last.
func (s *dwState) tiles(g *convGeo, w []float32) []float32 {
	row := g.ow * g.cin
	s.tile = grow(s.tile, g.kh*g.kw*row)
	for k := range g.kh * g.kw {
		broadcastRows(s.tile[k*row:(k+1)*row], w[k*g.cin:(k+1)*g.cin])
	}
	return s.tile
}

func (t *dwTask) forwardPart(p int) {
	g := &t.g
	lines := g.lines()
	r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
	kg := kernels.ConvGeom{N: g.n, H: g.h, W: g.w, C: g.cin, KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw,
		DH: g.dh, DW: g.dw, PadTop: g.padT, PadLeft: g.padL, OH: g.oh, OW: g.ow}
	depthwiseRows(t.y, t.x, t.w, t.bias, t.res, kg, g.f/g.cin, t.act, r0, r1)
}

// depthwiseRows computes output lines [r0, r1) of the depthwise
// convolution kg with multiplier mult into y (all of kg's lines), with
// the residual res (nil: none) and activation act.
func depthwiseRows(y, x, w, bias, res []float32, kg kernels.ConvGeom, mult int, act Act, r0, r1 int) {
	row := kg.OW * kg.C * mult
	if act.Kind == "silu" && res == nil {
		// SiLU in the kernel's registers where it can (EfficientNet).
		kernels.DepthwiseConvRowsSiLU(y, x, w, bias, kg, mult, r0, r1)
		return
	}
	// No activation, ReLU and clips (ReLU6) are clamps of the sums as the
	// kernel stores them, unless a residual comes first.
	lo, hi, fused := clampOf(act)
	fused = fused && res == nil
	if !fused {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	for r := r0; r < r1; r++ {
		// One line at a time, so that the epilogue finds it in cache.
		kernels.DepthwiseConvRowsClamp(y, x, w, bias, kg, mult, r, r+1, lo, hi)
		if !fused && (res != nil || act.Kind != "") {
			var rr []float32
			if res != nil {
				rr = res[r*row : (r+1)*row]
			}
			convEpilogue(y[r*row:(r+1)*row], rr, nil, nil, act)
		}
	}
}

// tiledBackward is backwardPart for images [b0, b1) on whole rows (see
// dwTiled): per output line and kernel row, dx gathers three taps at a
// time (dx[ix] += sum_j g[ix-off_j] * w_j, like the forward's sums) and
// dW accumulates every tap over a row of pixels (acc[ox] += x[ox+off] *
// g[ox]), whose pixels are summed into dw at the end.
func (t *dwTask) tiledBackward(p, b0, b1 int, dw []float32) {
	g := &t.g
	c, row, taps := g.cin, g.ow*g.cin, g.kh*g.kw
	var acc []float32
	if dw != nil {
		acc = t.acc[p*taps*row : (p+1)*taps*row]
		clear(acc)
	}
	for r := b0 * g.oh; r < b1*g.oh; r++ {
		b, oy := r/g.oh, r%g.oh
		img := t.x[b*g.inLen() : (b+1)*g.inLen()]
		gl := t.dy[r*row : (r+1)*row]
		for ky := 0; ky < g.kh; ky++ {
			iy := oy*g.sh - g.padT + ky*g.dh
			if iy < 0 || iy >= g.h {
				continue
			}
			xr := img[iy*g.w*c : (iy+1)*g.w*c]
			for kx := 0; kx < g.kw; kx++ {
				off := kx*g.dw - g.padL
				o0, o1 := tapRange(off, 1, g.w, g.ow)
				if acc != nil && o0 < o1 {
					a := acc[(ky*g.kw+kx)*row:]
					kernels.MulAdd(a[o0*c:o1*c], xr[(o0+off)*c:], gl[o0*c:])
				}
			}
			if t.dx == nil {
				continue
			}
			dxr := t.dx[b*g.inLen()+iy*g.w*c : b*g.inLen()+(iy+1)*g.w*c]
			tiles := t.tile[ky*g.kw*row : (ky+1)*g.kw*row]
			kx := 0
			for ; kx+3 <= g.kw; kx += 3 {
				// Input pixels [i0, i1) of tap j take output pixel ix - off.
				var off, i0, i1 [3]int
				a, e := 0, g.w
				for j := range 3 {
					off[j] = (kx+j)*g.dw - g.padL
					o0, o1 := tapRange(off[j], 1, g.w, g.ow)
					i0[j], i1[j] = o0+off[j], max(o0, o1)+off[j]
					a, e = max(a, i0[j]), min(e, i1[j])
				}
				if a < e {
					n := (e - a) * c
					kernels.MulAdd3(dxr[a*c:e*c], gl[(a-off[0])*c:], gl[(a-off[1])*c:], gl[(a-off[2])*c:],
						tiles[kx*row:kx*row+n], tiles[(kx+1)*row:(kx+1)*row+n], tiles[(kx+2)*row:(kx+2)*row+n])
				} else {
					a, e = g.w, g.w
				}
				for j := range 3 {
					tl := tiles[(kx+j)*row : (kx+j+1)*row]
					dwTapRun(dxr, gl, tl, c, -off[j], i0[j], min(i1[j], a))
					dwTapRun(dxr, gl, tl, c, -off[j], max(i0[j], e), i1[j])
				}
			}
			for ; kx < g.kw; kx++ {
				off := kx*g.dw - g.padL
				o0, o1 := tapRange(off, 1, g.w, g.ow)
				if o0 < o1 {
					dwTapRun(dxr, gl, tiles[kx*row:(kx+1)*row], c, -off, o0+off, o1+off)
				}
			}
		}
	}
	if acc != nil {
		sb := sumBlock(c)
		for k := range taps {
			sumColumns(dw[k*c:(k+1)*c], acc[k*row:(k+1)*row], t.sums[p*sb:(p+1)*sb])
		}
	}
}

// dwTapRun adds one tap over output pixels [o0, o1) of a line (stride
// 1): out[ox] += xr[base+ox] * w, with tile holding w repeated.
func dwTapRun(out, xr, tile []float32, c, base, o0, o1 int) {
	if o0 >= o1 {
		return
	}
	kernels.MulAdd(out[o0*c:o1*c], xr[(base+o0)*c:], tile)
}

// tapRange is the output pixels [ox0, ox1) whose input column
// ox*s + off lies inside [0, w).
func tapRange(off, s, w, ow int) (ox0, ox1 int) {
	if off < 0 {
		ox0 = (-off + s - 1) / s
	}
	if w-1-off < 0 {
		return ox0, ox0
	}
	ox1 = min(ow, (w-1-off)/s+1)
	return ox0, max(ox0, ox1)
}

func (s *dwState) backward(g *convGeo, x, dy, dx, w, dW, dB []float32) {
	if len(x) == 0 || len(dy) == 0 || (dx == nil && dW == nil && dB == nil) {
		return
	}
	t := &s.task
	*t = dwTask{g: *g, backward: true, x: x, dy: dy, dx: dx, w: w, dw: dW, db: dB}
	t.parts = convParts(g.n, 4*g.oh*g.ow*g.f*g.kh*g.kw)
	if t.parts > 1 {
		s.grads = grow(s.grads, (t.parts-1)*(len(w)+g.f))
		t.grads = s.grads
	}
	s.sums = grow(s.sums, t.parts*sumBlock(g.f))
	t.sums = s.sums
	if g.dwTiled() {
		if dx != nil {
			t.tile = s.tiles(g, w)
		}
		if dW != nil {
			s.acc = grow(s.acc, t.parts*len(w)*g.ow)
			t.acc = s.acc
		}
	}
	kernels.Parallel(t.parts, 1, t)
	for p := 1; p < t.parts; p++ {
		sl := t.grads[(p-1)*(len(w)+g.f) : p*(len(w)+g.f)]
		if dW != nil {
			kernels.Add(dW, sl[:len(w)])
		}
		if dB != nil {
			kernels.Add(dB, sl[len(w):])
		}
	}
	*t = dwTask{}
}

func (t *dwTask) backwardPart(p int) {
	g := &t.g
	b0, b1 := p*g.n/t.parts, (p+1)*g.n/t.parts
	if b0 == b1 {
		return
	}
	c, f := g.cin, g.f
	mult := f / c
	row := g.ow * f
	dw, db := t.dw, t.db
	if p > 0 {
		nw := len(t.w)
		s := t.grads[(p-1)*(nw+f) : p*(nw+f)]
		clear(s)
		if dw != nil {
			dw = s[:nw]
		}
		if db != nil {
			db = s[nw:]
		}
	}
	if db != nil {
		sb := sumBlock(f)
		sumColumns(db, t.dy[b0*g.oh*row:b1*g.oh*row], t.sums[p*sb:(p+1)*sb])
	}
	if dw == nil && t.dx == nil {
		return
	}
	if t.dx != nil {
		clear(t.dx[b0*g.inLen() : b1*g.inLen()])
	}
	if g.dwTiled() {
		t.tiledBackward(p, b0, b1, dw)
		return
	}
	for r := b0 * g.oh; r < b1*g.oh; r++ {
		b, oy := r/g.oh, r%g.oh
		img := t.x[b*g.inLen() : (b+1)*g.inLen()]
		var dimg []float32
		if t.dx != nil {
			dimg = t.dx[b*g.inLen() : (b+1)*g.inLen()]
		}
		gl := t.dy[r*row : (r+1)*row]
		for ky := 0; ky < g.kh; ky++ {
			iy := oy*g.sh - g.padT + ky*g.dh
			if iy < 0 || iy >= g.h {
				continue
			}
			for kx := 0; kx < g.kw; kx++ {
				tap := (ky*g.kw + kx) * f
				wt := t.w[tap : tap+f]
				off := kx*g.dw - g.padL
				ox0, ox1 := tapRange(off, g.sw, g.w, g.ow)
				for ox := ox0; ox < ox1; ox++ {
					px := (iy*g.w + ox*g.sw + off) * c
					gp := gl[ox*f : (ox+1)*f]
					if mult == 1 {
						if dw != nil {
							kernels.MulAdd(dw[tap:tap+f], img[px:px+c], gp)
						}
						if dimg != nil {
							kernels.MulAdd(dimg[px:px+c], gp, wt)
						}
						continue
					}
					for ci := 0; ci < c; ci++ {
						gm := gp[ci*mult : (ci+1)*mult]
						wm := wt[ci*mult : (ci+1)*mult]
						if dw != nil {
							v, dm := img[px+ci], dw[tap+ci*mult:tap+(ci+1)*mult]
							for m := range dm {
								dm[m] += v * gm[m]
							}
						}
						if dimg != nil {
							s := float32(0)
							for m := range gm {
								s += gm[m] * wm[m]
							}
							dimg[px+ci] += s
						}
					}
				}
			}
		}
	}
}
