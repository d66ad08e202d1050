package tflite

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// depthwiseOp is DEPTHWISE_CONV_2D on NHWC data, computed by
// kernels.DepthwiseConvRows: weights keep TFLite's [1, KH, KW, C*mult]
// layout, which is the kernel's, and the cores split the output rows.
type depthwiseOp struct {
	in, out        int
	p              convParams
	kh, kw, ic, oc int
	mult           int
	w              []float32 // [kh][kw][oc]
	ep             epilogue
	q              *qdepthwise // the integer path, nil for float32
	path           string
}

func (m *Model) compileDepthwise(od *opDef) (op, error) {
	if err := ioCheck(od, 2, 3, 1); err != nil {
		return nil, err
	}
	p, mult, err := readConvOptions(od)
	if err != nil {
		return nil, err
	}
	if err := m.filterRank(od, 4); err != nil {
		return nil, err
	}
	ws := m.defs[od.Inputs[1]].Shape
	if ws[0] != 1 {
		return nil, fmt.Errorf("tflite: %s (DEPTHWISE_CONV_2D): filter shape %v, want [1 KH KW C]", od.path, ws)
	}
	o := &depthwiseOp{in: od.Inputs[0], out: od.Outputs[0], p: p, kh: ws[1], kw: ws[2], oc: ws[3], path: od.path}
	if o.w, o.ep, err = m.convWeights(od, 4, o.oc, p.act); err != nil {
		return nil, err
	}
	if mult < 1 || o.oc%mult != 0 {
		// Some converters write depth_multiplier 0 or leave it stale; the
		// filter and input shapes decide at run time.
		mult = 0
	}
	o.mult = mult
	o.q = m.newQDepthwise(od, o.w, o.ep, o.kh*o.kw, o.oc, mult)
	return o, nil
}

func (o *depthwiseOp) run(st *state) error {
	s, err := inShape(st, o.in, 4, "DEPTHWISE_CONV_2D")
	if err != nil {
		return err
	}
	n, h, w, c := s[0], s[1], s[2], s[3]
	if c == 0 || o.oc%c != 0 {
		return fmt.Errorf("tflite: %s (DEPTHWISE_CONV_2D): input %v does not divide the filter's %d channels", o.path, s, o.oc)
	}
	oh, pt := outSize(h, o.kh, o.p.strideH, o.p.dilH, o.p.same)
	ow, pl := outSize(w, o.kw, o.p.strideW, o.p.dilW, o.p.same)
	g := kernels.ConvGeom{N: n, H: h, W: w, C: c, KH: o.kh, KW: o.kw, SH: o.p.strideH, SW: o.p.strideW,
		DH: o.p.dilH, DW: o.p.dilW, PadTop: pt, PadLeft: pl, OH: oh, OW: ow}
	if o.q != nil {
		if c != o.oc {
			return fmt.Errorf("tflite: %s (DEPTHWISE_CONV_2D): input %v has %d channels, filter wants %d", o.path, s, c, o.oc)
		}
		o.runQ(st, g)
		return nil
	}
	t := &st.depthwise
	*t = depthwiseTask{o: o, x: st.data[o.in], y: st.out(o.out, []int{n, oh, ow, o.oc}), mult: o.oc / c, g: g}
	// Each core gets at least about 2048 outputs: smaller layers are not
	// worth waking a worker for.
	kernels.Parallel(n*oh, max(1, 2048/max(ow*o.oc, 1)), t)
	*t = depthwiseTask{} // keep no references to the tensors
	return nil
}

// depthwiseTask computes output rows [lo, hi) (over N*OH) of one run,
// each row finished by the epilogue while it is in cache. It lives in the
// run's state, so handing it to kernels.Parallel allocates nothing.
type depthwiseTask struct {
	o    *depthwiseOp
	x, y []float32
	g    kernels.ConvGeom
	mult int
}

func (t *depthwiseTask) Run(lo, hi int) {
	o, ow := t.o, t.g.OW
	for r := lo; r < hi; r++ {
		kernels.DepthwiseConvRows(t.y, t.x, o.w, nil, t.g, t.mult, r, r+1)
		dst := t.y[r*ow*o.oc : (r+1)*ow*o.oc]
		for j := 0; j < ow; j++ {
			o.ep.row(dst[j*o.oc : (j+1)*o.oc])
		}
	}
}
