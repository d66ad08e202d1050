package nn

import (
	"github.com/dlcv-go/dlcv/internal/kernels"
)

// The depthwise kernels: geometry g has groups == cin and f = cin*mult;
// the weights are (KH*KW, f) with output channel c*mult + m last, the
// layout DepthwiseConv2D and a Conv2D with Groups == Cin share.

// dwState is a depthwise convolution's per-Session storage.
type dwState struct {
	task  dwTask
	act   actTask
	grads []float32 // dW and db of parts 1..
	sums  []float32 // column-sum scratch, per part
}

// dwTask runs a pass over parts of the batch: output lines forward,
// images backward (their input gradients do not overlap).
type dwTask struct {
	g              convGeo
	backward       bool
	parts          int
	x, y, res      []float32
	w, bias        []float32
	act            Act
	dy, dx, dw, db []float32
	grads, sums    []float32
}

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
	t.parts = convParts(g.lines(), 2*g.ow*g.f*g.kh*g.kw)
	kernels.Parallel(t.parts, 1, t)
	*t = dwTask{}
}

func (t *dwTask) forwardPart(p int) {
	g := &t.g
	lines := g.lines()
	r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
	row := g.ow * g.f
	for r := r0; r < r1; r++ {
		out := t.y[r*row : (r+1)*row]
		dwLine(out, t.x, t.w, t.bias, g, r)
		if t.res != nil || t.act.Kind != "" {
			var res []float32
			if t.res != nil {
				res = t.res[r*row : (r+1)*row]
			}
			convEpilogue(out, res, nil, nil, t.act)
		}
	}
}

// dwLine computes output line r (image r/oh, row r%oh) into out: the bias,
// then one kernel tap at a time over the output pixels whose tap falls
// inside the image, each a multiply-add over the channels of a pixel.
func dwLine(out, x, w, bias []float32, g *convGeo, r int) {
	c, f := g.cin, g.f
	mult := f / c
	b, oy := r/g.oh, r%g.oh
	img := x[b*g.inLen() : (b+1)*g.inLen()]
	if bias != nil {
		broadcastRows(out, bias)
	} else {
		clear(out)
	}
	for ky := 0; ky < g.kh; ky++ {
		iy := oy*g.sh - g.padT + ky*g.dh
		if iy < 0 || iy >= g.h {
			continue
		}
		row := img[iy*g.w*c : (iy+1)*g.w*c]
		for kx := 0; kx < g.kw; kx++ {
			wt := w[(ky*g.kw+kx)*f : (ky*g.kw+kx+1)*f]
			off := kx*g.dw - g.padL // input column of output pixel 0
			ox0, ox1 := tapRange(off, g.sw, g.w, g.ow)
			for ox := ox0; ox < ox1; ox++ {
				ix := ox*g.sw + off
				acc, xp := out[ox*f:(ox+1)*f], row[ix*c:(ix+1)*c]
				if mult == 1 {
					mulAddVec(acc, xp, wt)
					continue
				}
				for ci, v := range xp {
					a, wm := acc[ci*mult:(ci+1)*mult], wt[ci*mult:(ci+1)*mult]
					for m := range a {
						a[m] += v * wm[m]
					}
				}
			}
		}
	}
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

// mulAddVec sets acc[i] += x[i]*w[i] (x and w at least as long as acc).
func mulAddVec(acc, x, w []float32) {
	x, w = x[:len(acc)], w[:len(acc)]
	i := 0
	for ; i+4 <= len(acc); i += 4 {
		a, xs, ws := acc[i:i+4:i+4], x[i:i+4:i+4], w[i:i+4:i+4]
		a[0] += xs[0] * ws[0]
		a[1] += xs[1] * ws[1]
		a[2] += xs[2] * ws[2]
		a[3] += xs[3] * ws[3]
	}
	for ; i < len(acc); i++ {
		acc[i] += x[i] * w[i]
	}
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
							mulAddVec(dw[tap:tap+f], img[px:px+c], gp)
						}
						if dimg != nil {
							mulAddVec(dimg[px:px+c], gp, wt)
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
