package tflite

import (
	"math"
	"slices"
	"sync"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// The integer path of quantized convolutions, taken where the CPU has
// int8 dot products (kernels.HasQDot): activations as bytes, weights as
// signed bytes, exact int32 sums (kernels.GemmQ), then the same fp32
// requantization as the float32 path, so both give the same integers.
//
// Bytes store an activation q as q for uint8 tensors and q+128 for int8
// ones (so both are unsigned, as vpdpbusd wants); the zero points move
// with them. Weights w with zero point zw are stored as w8 = w - zw when
// that fits in int8, else as w8 = w - 128 (uint8 weights), so w - zw =
// w8 + d with one d per layer, and
//
//	sum (x - zx)(w - zw) = sum x*w8 + d*sum x - zx*sum w8 - zx*d*K,
//
// whose last two terms are folded into the bias at load and d*sum x is
// added per row (d is zero in the first case).

// qPath chooses the integer path: 0 where kernels.HasQDot, 1 always
// (its Go twins without the instructions), -1 never; tests set it.
var qPath = 0

func useQ() bool { return qPath > 0 || qPath == 0 && kernels.HasQDot() }

// byteShift is what bytes add to a quantized tensor's values.
func byteShift(q *qparams) int32 {
	if q.qmin < 0 {
		return 128
	}
	return 0
}

// qconv holds a convolution's integer weights and requantization.
type qconv struct {
	pw *kernels.PackedQ
	rq kernels.QRequant
	// rqp is rq with bias and scale padded to whole panels, for
	// GemmQBytes.
	rqp kernels.QRequant
	d   int32 // w - zw = w8 + d
	zx  byte  // the input's zero point as a byte: the padding value
	// Where the input and output live (set once the graph is compiled):
	// bytes between integer operators, centred float32 elsewhere.
	inBytes, outBytes bool
	scratch           sync.Pool // *qScratch
}

// qScratch is one worker's buffers for a chunk of output pixels.
type qScratch struct {
	a    []byte  // im2col patches
	acc  []int32 // GemmQ's sums, for a float32 output
	sums []int32 // patch byte sums
	g    kernels.QScratch
}

// newQConv prepares the integer path of a quantized convolution-like
// operator whose centred weights w are [oc][k] (k = KH*KW*IC, TFLite's
// OHWI), or returns nil where it does not apply.
func (m *Model) newQConv(od *opDef, w []float32, ep epilogue, k, oc int) *qconv {
	if !useQ() {
		return nil
	}
	qin, wd := m.qps[od.Inputs[0]], &m.defs[od.Inputs[1]]
	if ep.rq == nil || qin == nil || wd.Quant == nil || len(w) == 0 || len(w) != k*oc {
		return nil
	}
	// d = 0 (no per-row sums) when the centred weights fit in int8, as
	// symmetric int8 weights and many uint8 layers do; otherwise uint8
	// weights with one zero point (TFLite's uint8 is per tensor).
	var d int32
	zps := wd.Quant.ZeroPoint
	lo, hi := slices.Min(w), slices.Max(w)
	switch {
	case lo >= -128 && hi <= 127:
	case wd.Type == Uint8 && len(zps) == 1:
		d = 128 - int32(zps[0])
	default:
		return nil
	}
	// Keep every int32 sum exact: |sum x*w8 + d*sum x| <= K*255*(128+|d|).
	if int64(k)*255*(128+int64(max(d, -d))) > math.MaxInt32/2 {
		return nil
	}
	w8 := make([]int8, k*oc)
	colSum := make([]int64, oc)
	for f := 0; f < oc; f++ {
		for j := 0; j < k; j++ {
			v := int32(w[f*k+j]) - d
			if v < -128 || v > 127 {
				return nil
			}
			w8[j*oc+f] = int8(v)
			colSum[f] += int64(v)
		}
	}
	zx := qin.zp + byteShift(qin)
	q := &qconv{pw: kernels.PackQ(k, oc, w8, oc), d: d, zx: byte(zx)}
	bias := make([]int64, oc)
	for f := range bias {
		bias[f] = -int64(zx)*colSum[f] - int64(zx)*int64(d)*int64(k)
	}
	rq, ok := m.qRequant(od, ep, oc, bias)
	if !ok {
		return nil
	}
	q.rq, q.rqp = rq, rq
	cols := q.pw.Cols()
	q.rqp.Bias = append(make([]int32, 0, cols), rq.Bias...)[:cols]
	q.rqp.Scale = append(make([]float32, 0, cols), rq.Scale...)[:cols]
	return q
}

// runQ is run on the integer path.
func (o *convOp) runQ(st *state, g kernels.ConvGeom, direct bool) {
	q := o.q
	t := &st.qconv
	*t = qconvTask{o: o, direct: direct, g: g}
	t.x = st.bytesIn(o.in, q.inBytes, 0, int32(q.zx))
	t.y, t.yq = st.outputs(o.out, []int{g.N, g.OH, g.OW, o.oc}, q.outBytes)
	// Rows split over the cores in parts of at least 64 (one im2col chunk
	// in cache between lowering and multiplying), or of 12 (one kernel
	// tile) for small maps; too few rows for that (a classifier's one
	// pixel) split their columns instead. Rows keep each core's output
	// in its cache for the next operator, which splits by rows too.
	m, th := g.N*g.OH*g.OW, kernels.Threads()
	switch np := q.pw.NumPanels(); {
	case m/(convRows/2) >= 2*th:
		kernels.Parallel(m, convRows/2, t)
	case m/12 >= 2*th || np == 1 || th == 1:
		kernels.Parallel(m, 12, t)
	default:
		t.groups = min(np, th)
		kernels.Parallel(t.groups, 1, t)
	}
	*t = qconvTask{}
}

// qconvTask computes output pixels [lo, hi) of an integer convolution,
// convRows at a time, as convTask does.
type qconvTask struct {
	o      *convOp
	x      []byte
	y      []float32 // output as centred float32, or
	yq     []byte    // as bytes
	g      kernels.ConvGeom
	direct bool
	groups int // > 0: Run's range is over column groups, each of all rows
}

func (t *qconvTask) Run(lo, hi int) {
	q := t.o.q
	if t.groups == 0 {
		t.rows(lo, hi, q.pw, 0)
		return
	}
	np := q.pw.NumPanels()
	for g := lo; g < hi; g++ {
		p0, p1 := g*np/t.groups, (g+1)*np/t.groups
		if p0 < p1 {
			pw := q.pw.Panels(p0, p1)
			t.rows(0, t.g.N*t.g.OH*t.g.OW, &pw, p0*kernels.QPanel)
		}
	}
}

// rows computes output pixels [lo, hi), convRows at a time, for the
// columns of pw, which start at column col.
func (t *qconvTask) rows(lo, hi int, pw *kernels.PackedQ, col int) {
	o := t.o
	q := o.q
	k := o.kh * o.kw * o.ic
	cols := q.pw.Cols()
	s, _ := q.scratch.Get().(*qScratch)
	if s == nil {
		s = &qScratch{sums: make([]int32, convRows)}
		if !t.direct {
			s.a = make([]byte, convRows*k)
		}
		if t.yq == nil { // bytes out need no int32 sums: GemmQBytes
			s.acc = make([]int32, convRows*cols)
		}
	}
	defer q.scratch.Put(s)
	rq, rqp := q.rq, q.rqp
	rq.Bias, rq.Scale = rq.Bias[col:col+pw.N], rq.Scale[col:col+pw.N]
	rqp.Bias, rqp.Scale = rqp.Bias[col:], rqp.Scale[col:]
	for c0 := lo; c0 < hi; c0 += convRows {
		c1 := min(c0+convRows, hi)
		rows := c1 - c0
		var a []byte
		if t.direct {
			a = t.x[c0*k : c1*k]
		} else {
			a = s.a[:rows*k]
			t.g.Im2colRowsU8(a, t.x, c0, c1, q.zx)
		}
		var adds []int32
		if q.d != 0 {
			kernels.RowSumsU8(s.sums, a, k, k, rows)
			for r := range rows {
				s.sums[r] *= q.d
			}
			adds = s.sums[:rows]
		}
		if t.yq != nil {
			kernels.GemmQBytes(rows, a, k, pw, t.yq[c0*o.oc+col:], o.oc, &rqp, adds, &s.g)
			continue
		}
		pc := pw.Cols()
		kernels.GemmQ(rows, a, k, pw, s.acc, pc, &s.g)
		for r := 0; r < rows; r++ {
			var add int32
			if adds != nil {
				add = adds[r]
			}
			p := (c0+r)*o.oc + col
			rq.RowF32(t.y[p:p+pw.N], s.acc[r*pc:r*pc+pw.N], add)
		}
	}
}

func (o *convOp) integer() bool { return o.q != nil }

func (o *convOp) setBytes(bytes []bool) { o.q.inBytes, o.q.outBytes = bytes[o.in], bytes[o.out] }
