package tflite

import (
	"fmt"
	"sync"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// convOp is CONV_2D lowered to NHWC im2col + SGEMM: the patch matrix
// (N*OH*OW x KH*KW*C) times the weights (KH*KW*C x F) is the NHWC output.
// A 1x1 stride-1 convolution uses the input itself as the patch matrix.
type convOp struct {
	in, out        int
	p              convParams
	kh, kw, ic, oc int
	wT             []float32        // (kh*kw*ic) x oc, transposed from TFLite's OHWI
	pw             *kernels.PackedB // wT packed for the GEMM (the weights never change)
	ep             epilogue
	q              *qconv // the integer path, nil for float32
	path           string
	scratch        sync.Pool // *[]float32 im2col chunks
}

// convRows is the number of output pixels one task lowers and multiplies:
// the patch chunk stays in cache between im2col and the GEMM.
const convRows = 128

func (m *Model) compileConv(od *opDef) (op, error) {
	if err := ioCheck(od, 2, 3, 1); err != nil {
		return nil, err
	}
	p, _, err := readConvOptions(od)
	if err != nil {
		return nil, err
	}
	if err := m.filterRank(od, 4); err != nil {
		return nil, err
	}
	ws := m.defs[od.Inputs[1]].Shape
	o := &convOp{in: od.Inputs[0], out: od.Outputs[0], p: p, oc: ws[0], kh: ws[1], kw: ws[2], ic: ws[3], path: od.path}
	w, ep, err := m.convWeights(od, 4, o.oc, p.act)
	if err != nil {
		return nil, err
	}
	o.ep = ep
	k := o.kh * o.kw * o.ic
	if o.q = m.newQConv(od, w, ep, k, o.oc); o.q != nil {
		return o, nil
	}
	o.wT = make([]float32, k*o.oc)
	for f := 0; f < o.oc; f++ {
		for j := 0; j < k; j++ {
			o.wT[j*o.oc+f] = w[f*k+j]
		}
	}
	o.pw = kernels.PackB(nil, k, o.oc, o.wT, o.oc)
	return o, nil
}

func (o *convOp) run(st *state) error {
	s, err := inShape(st, o.in, 4, "CONV_2D")
	if err != nil {
		return err
	}
	if s[3] != o.ic {
		return fmt.Errorf("tflite: %s (CONV_2D): input %v has %d channels, filter wants %d", o.path, s, s[3], o.ic)
	}
	n, h, w := s[0], s[1], s[2]
	oh, pt := outSize(h, o.kh, o.p.strideH, o.p.dilH, o.p.same)
	ow, pl := outSize(w, o.kw, o.p.strideW, o.p.dilW, o.p.same)
	g := kernels.ConvGeom{N: n, H: h, W: w, C: o.ic, KH: o.kh, KW: o.kw, SH: o.p.strideH, SW: o.p.strideW,
		DH: o.p.dilH, DW: o.p.dilW, PadTop: pt, PadLeft: pl, OH: oh, OW: ow}
	direct := o.kh == 1 && o.kw == 1 && o.p.strideH == 1 && o.p.strideW == 1
	if o.q != nil {
		o.runQ(st, g, direct)
		return nil
	}
	t := &st.conv
	*t = convTask{o: o, x: st.data[o.in], y: st.out(o.out, []int{n, oh, ow, o.oc}), direct: direct, g: g}
	// A grain of half a chunk splits 1.5 chunks evenly over two cores
	// rather than leaving them on one.
	kernels.Parallel(n*oh*ow, convRows/2, t)
	*t = convTask{} // keep no references to the tensors
	return nil
}

// convTask computes output pixels [lo, hi) (over N*OH*OW) of one run, at
// most convRows at a time. It lives in the run's state, so handing it to
// kernels.Parallel allocates nothing.
type convTask struct {
	o      *convOp
	x, y   []float32
	g      kernels.ConvGeom
	direct bool // 1x1 stride 1: the input is the patch matrix
}

func (t *convTask) Run(lo, hi int) {
	o := t.o
	k := o.kh * o.kw * o.ic
	var bp *[]float32
	if !t.direct {
		bp, _ = o.scratch.Get().(*[]float32)
		if bp == nil {
			b := make([]float32, convRows*k)
			bp = &b
		}
		defer o.scratch.Put(bp)
	}
	for c0 := lo; c0 < hi; c0 += convRows {
		c1 := min(c0+convRows, hi)
		var a []float32
		if t.direct {
			a = t.x[c0*k : c1*k]
		} else {
			a = (*bp)[:(c1-c0)*k]
			t.g.Im2colRows(a, t.x, c0, c1)
		}
		c := t.y[c0*o.oc : c1*o.oc]
		kernels.SgemmPacked(c1-c0, k, a, k, o.pw, 0, 0, c, o.oc)
		for r := 0; r < c1-c0; r++ {
			o.ep.row(c[r*o.oc : (r+1)*o.oc])
		}
	}
}

// fcOp is FULLY_CONNECTED: (N x I) times (I x O), weights transposed from
// TFLite's (O x I) at load.
type fcOp struct {
	in, out int
	ni, no  int
	wT      []float32
	ep      epilogue
	keep    bool
	path    string
}

func (m *Model) compileFC(od *opDef) (op, error) {
	if err := ioCheck(od, 2, 3, 1); err != nil {
		return nil, err
	}
	var act, keep uint8
	if od.HasOpts {
		var err error
		if act, err = od.Options.uint8(0, "fused_activation_function", 0); err != nil {
			return nil, err
		}
		wf, err := od.Options.int8(1, "weights_format", 0)
		if err != nil {
			return nil, err
		}
		if wf != 0 {
			return nil, fmt.Errorf("tflite: %s (FULLY_CONNECTED): shuffled weights format %d is not supported", od.path, wf)
		}
		if keep, err = od.Options.uint8(2, "keep_num_dims", 0); err != nil {
			return nil, err
		}
	}
	if err := m.filterRank(od, 2); err != nil {
		return nil, err
	}
	ws := m.defs[od.Inputs[1]].Shape
	o := &fcOp{in: od.Inputs[0], out: od.Outputs[0], no: ws[0], ni: ws[1], keep: keep != 0, path: od.path}
	w, ep, err := m.convWeights(od, 2, o.no, act)
	if err != nil {
		return nil, err
	}
	o.ep = ep
	o.wT = make([]float32, len(w))
	for f := 0; f < o.no; f++ {
		for j := 0; j < o.ni; j++ {
			o.wT[j*o.no+f] = w[f*o.ni+j]
		}
	}
	return o, nil
}

func (o *fcOp) run(st *state) error {
	s := st.shapes[o.in]
	x := st.data[o.in]
	if o.ni == 0 || len(x)%o.ni != 0 {
		return fmt.Errorf("tflite: %s (FULLY_CONNECTED): input %v is not a multiple of %d features", o.path, s, o.ni)
	}
	rows := len(x) / o.ni
	shape := []int{rows, o.no}
	if o.keep && len(s) > 0 {
		shape = append(append([]int(nil), s[:len(s)-1]...), o.no)
	}
	y := st.out(o.out, shape)
	kernels.Sgemm(false, false, rows, o.no, o.ni, 1, x, o.ni, o.wT, o.no, 0, y, o.no)
	for r := 0; r < rows; r++ {
		o.ep.row(y[r*o.no : (r+1)*o.no])
	}
	return nil
}
