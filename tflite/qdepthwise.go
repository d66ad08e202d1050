package tflite

import (
	"math"
	"sync"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// qdepthwise is the integer path of a quantized DEPTHWISE_CONV_2D with
// one output channel per input channel (see qconv.go): bytes times int16
// weights (kernels.DwRowQ), exact int32 sums, the fp32 requantization.
// Taps outside the image read the input's zero point, whose products the
// bias takes back: sum (x - zx) w = sum x*w - zx*sum w.
type qdepthwise struct {
	w                 []int32 // [kh][kw][c] as kernels.DwWeightQ
	rq                kernels.QRequant
	zx                byte
	zxPix             []byte // one pixel of zero points
	inBytes, outBytes bool
	scratch           sync.Pool // *[]int32 one output row of sums
}

func (m *Model) newQDepthwise(od *opDef, w []float32, ep epilogue, taps, c, mult int) *qdepthwise {
	if !useQ() {
		return nil
	}
	qin := m.qps[od.Inputs[0]]
	in := m.defs[od.Inputs[0]].Shape
	if ep.rq == nil || qin == nil || mult != 1 || len(in) != 4 || in[3] != c || len(w) != taps*c {
		return nil
	}
	zx := qin.zp + byteShift(qin)
	q := &qdepthwise{w: make([]int32, len(w)), zx: byte(zx), zxPix: make([]byte, c)}
	for i := range q.zxPix {
		q.zxPix[i] = byte(zx)
	}
	bias := make([]int64, c)
	for i, v := range w {
		q.w[i] = kernels.DwWeightQ(int32(v))
		bias[i%c] -= int64(zx) * int64(v)
	}
	rq, ok := m.qRequant(od, ep, c, bias)
	if !ok {
		return nil
	}
	q.rq = rq
	return q
}

// qRequant builds an integer operator's requantization from its epilogue,
// with bias the zero-point terms folded in at load (added to TFLite's
// bias); false if a bias leaves the int32 range.
func (m *Model) qRequant(od *opDef, ep epilogue, oc int, bias []int64) (kernels.QRequant, bool) {
	r := ep.rq
	rq := kernels.QRequant{Bias: make([]int32, oc), Scale: r.scales[:oc],
		Lo: float32(r.lo - r.zp), Hi: float32(r.hi - r.zp), ZP: r.zp + byteShift(m.qps[od.Outputs[0]])}
	for f := range rq.Bias {
		b := bias[f]
		if ep.biasQ != nil {
			b += int64(ep.biasQ[f])
		}
		if b < math.MinInt32/2 || b > math.MaxInt32/2 {
			return rq, false
		}
		rq.Bias[f] = int32(b)
	}
	return rq, true
}

func (o *depthwiseOp) integer() bool { return o.q != nil }

func (o *depthwiseOp) setBytes(bytes []bool) { o.q.inBytes, o.q.outBytes = bytes[o.in], bytes[o.out] }

// runQ is run on the integer path.
func (o *depthwiseOp) runQ(st *state, g kernels.ConvGeom) {
	q := o.q
	t := &st.qdepthwise
	*t = qdepthwiseTask{o: o, g: g}
	t.x = st.bytesIn(o.in, q.inBytes, 0, int32(q.zx))
	t.y, t.yq = st.outputs(o.out, []int{g.N, g.OH, g.OW, o.oc}, q.outBytes)
	kernels.Parallel(g.N*g.OH, max(1, 2048/max(g.OW*o.oc, 1)), t)
	*t = qdepthwiseTask{}
}

// qdepthwiseTask computes output rows [lo, hi) (over N*OH).
type qdepthwiseTask struct {
	o  *depthwiseOp
	x  []byte
	y  []float32
	yq []byte
	g  kernels.ConvGeom
}

func (t *qdepthwiseTask) Run(lo, hi int) {
	o, q, g := t.o, t.o.q, t.g
	c, ow := o.oc, g.OW
	dh, dw := max(g.DH, 1), max(g.DW, 1)
	ap, _ := q.scratch.Get().(*[]int32)
	if ap == nil || len(*ap) < ow*c {
		a := make([]int32, ow*c)
		ap = &a
	}
	defer q.scratch.Put(ap)
	acc := (*ap)[:ow*c]
	// Output columns [oxa, oxb) read every tap inside the image.
	oxa := (g.PadLeft + g.SW - 1) / g.SW
	oxb := 0
	if last := g.W - 1 - (o.kw-1)*dw + g.PadLeft; last >= 0 {
		oxb = min(last/g.SW+1, ow)
	}
	oxa = min(oxa, oxb)
	// Tap offsets from a pixel's first tap, for rows whose taps all lie
	// inside the image.
	taps := o.kh * o.kw
	var offBuf [25]int
	offs := offBuf[:0]
	if taps > len(offBuf) {
		offs = make([]int, 0, taps)
	}
	for ky := 0; ky < o.kh; ky++ {
		for kx := 0; kx < o.kw; kx++ {
			offs = append(offs, (ky*dh*g.W+kx*dw)*c)
		}
	}
	for r := lo; r < hi; r++ {
		b, oy := r/g.OH, r%g.OH
		iy0 := oy*g.SH - g.PadTop
		inside := t.yq != nil && iy0 >= 0 && iy0+(o.kh-1)*dh < g.H && oxa < oxb
		if inside {
			// The columns whose taps are all inside in one call, sums
			// kept in registers; the border columns below.
			x := t.x[((b*g.H+iy0)*g.W+oxa*g.SW-g.PadLeft)*c:]
			if y := t.yq[(r*ow+oxa)*c:]; g.SW == 1 && o.kw == 3 && dw == 1 {
				kernels.DwQBytes3(y, x, dh*g.W*c, q.w, oxb-oxa, c, o.kh, &q.rq)
			} else {
				kernels.DwQBytes(y, c, x, g.SW*c, offs, q.w, oxb-oxa, c, &q.rq)
			}
		}
		clear(acc)
		for ky := 0; ky < o.kh; ky++ {
			wrow := q.w[ky*o.kw*c : (ky+1)*o.kw*c]
			iy := iy0 + ky*dh
			if iy < 0 || iy >= g.H {
				kernels.DwRowQ(acc, q.zxPix, 0, 0, wrow, ow, c, o.kw)
				continue
			}
			row := t.x[(b*g.H+iy)*g.W*c : (b*g.H+iy+1)*g.W*c]
			if oxa < oxb && !inside {
				kernels.DwRowQ(acc[oxa*c:], row[(oxa*g.SW-g.PadLeft)*c:], g.SW*c, dw*c, wrow, oxb-oxa, c, o.kw)
			}
			for ox := 0; ox < ow; ox++ {
				if ox == oxa && oxa < oxb {
					ox = oxb - 1
					continue
				}
				for kx := 0; kx < o.kw; kx++ {
					src := q.zxPix
					if ix := ox*g.SW - g.PadLeft + kx*dw; ix >= 0 && ix < g.W {
						src = row[ix*c : (ix+1)*c]
					}
					kernels.DwRowQ(acc[ox*c:], src, 0, 0, wrow[kx*c:], 1, c, 1)
				}
			}
		}
		base := r * ow * c
		for ox := 0; ox < ow; ox++ {
			if inside && ox == oxa {
				ox = oxb - 1
				continue
			}
			a := acc[ox*c : (ox+1)*c]
			if t.yq != nil {
				q.rq.RowU8(t.yq[base+ox*c:base+(ox+1)*c], a, 0)
			} else {
				q.rq.RowF32(t.y[base+ox*c:base+(ox+1)*c], a, 0)
			}
		}
	}
}
