package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// PointwiseDepthwise is a 1x1 convolution whose output only a depthwise
// convolution reads (the expansion and depthwise layers of MobileNetV2's
// and EfficientNet's inverted residual blocks), made one op by Optimize.
// The expanded tensor is the largest of such a network (EfficientNet-B0's
// first one is 4.8 MB at batch 1) and, as two ops, it is written to memory
// by one and read back by the other. Here each part of the output computes
// the expanded rows its next few output rows read into scratch memory
// that stays in cache, then the depthwise rows from there; the rows two
// strips share are moved, not recomputed. The results are the same as the
// two ops': the same kernels sum the same terms in the same order.
//
// It is for inference (Backward is an error). A model file stores the two
// ops it replaced.
type PointwiseDepthwise struct {
	Pointwise *Conv2D
	Depthwise Op // *DepthwiseConv2D, or a *Conv2D with a group per input channel

	pointwiseName string // the pointwise node's name, for model files

	// Test overrides of pdStripFloats and pdStripMin (0: default).
	stripFloats, stripMin int
}

// pdStripFloats is the most expanded floats a part holds at a time: 128
// KiB, which with the depthwise rows it writes stays within a core's L2
// cache. (On a 1 MiB L2, 32K and 64K floats ran MobileNetV2 and
// EfficientNet-B0 as fast as each other; 128K was slower than not
// fusing.)
const pdStripFloats = 32 << 10

// pdStripMin is the least expanded floats per image that run in strips
// (1 MiB, an L2 cache): a smaller expansion stays in the caches between
// the two ops, which then run one after the other (each split over the
// cores its own way, where strips would recompute the rows two parts
// share), the expanded tensor in the Session's scratch memory. Measured
// on MobileNetV2 and EfficientNet-B0 at batch 1 (one thread, the graphs
// alternated in one process, AMD Zen 5 with 1 MiB of L2): their
// 112x112x96 expansions (1.2M floats) went 0.91 -> 0.46 and 0.86 -> 0.69
// ms with their depthwise layers in strips; the 56x56x144 ones (451K)
// 0.60 -> 0.48 (MobileNetV2's features.3) and 0.74 -> 0.65 ms
// (EfficientNet's features.2.1, with the rest of its block); the smaller
// ones were no faster in strips, and slower on two threads.
const pdStripMin = 256 << 10

// Kind is "PointwiseDepthwise".
func (o *PointwiseDepthwise) Kind() string { return "PointwiseDepthwise" }

// unfuse gives the two nodes the op replaced, for model files.
func (o *PointwiseDepthwise) unfuse(name string, inputs []string) []savedNode {
	return []savedNode{{o.pointwiseName, o.Pointwise, inputs}, {name, o.Depthwise, []string{o.pointwiseName}}}
}

// Shapes is the depthwise convolution's shapes for the pointwise one's
// outputs.
func (o *PointwiseDepthwise) Shapes(in [][]int) ([][]int, error) {
	mid, err := o.Pointwise.Shapes(in)
	if err != nil {
		return nil, err
	}
	return o.Depthwise.Shapes(mid)
}

// Build does nothing: the op is made of built ops.
func (o *PointwiseDepthwise) Build([][]int, *rand.Rand) error { return nil }

// Params lists both ops' weights.
func (o *PointwiseDepthwise) Params() []*Param {
	return append(o.Pointwise.Params(), o.Depthwise.Params()...)
}

// Backward is an error: the op is made for inference.
func (o *PointwiseDepthwise) Backward(*Call, []*tensor.Tensor, []*tensor.Tensor, []*tensor.Tensor, []*tensor.Tensor) error {
	return fmt.Errorf("PointwiseDepthwise: inference only (nn.Optimize made it); train the graph before Optimize")
}

// Saves: Backward reads nothing.
func (o *PointwiseDepthwise) Saves() (inputs, outputs bool) { return false, false }

// depthwiseOf returns a depthwise convolution's geometry for input shape
// x and output shape y, its weights and its activation, or an error where
// op is not one without a residual input.
func depthwiseOf(op Op, x, y []int) (g convGeo, w, bias []float32, act Act, err error) {
	var kernel, b *Param
	residual := false
	switch d := op.(type) {
	case *DepthwiseConv2D:
		g, err = d.geometry(x, y)
		kernel, b, act, residual = d.kernel, d.bias, d.Act, d.Residual
	case *Conv2D:
		g, err = d.geometry(x, y)
		if err == nil && !g.depthwise() {
			err = fmt.Errorf("PointwiseDepthwise: %s is not depthwise", d.config())
		}
		kernel, b, act, residual = d.kernel, d.bias, d.Act, d.Residual
	default:
		err = fmt.Errorf("PointwiseDepthwise: %s is not a depthwise convolution", op.Kind())
	}
	if err == nil && residual {
		err = fmt.Errorf("PointwiseDepthwise: the depthwise convolution has a residual input")
	}
	if err != nil {
		return g, nil, nil, act, err
	}
	if b != nil {
		bias = b.Value.Data
	}
	return g, kernel.Value.Data, bias, act, nil
}

// pdState is the op's per-Session storage.
type pdState struct {
	task pdTask
	tile []float32
	// The two ops' calls, when they run one after the other.
	pw, dw Call
}

// Forward computes the depthwise convolution of the pointwise one of
// in[0].
func (o *PointwiseDepthwise) Forward(call *Call, in, out []*tensor.Tensor) error {
	if len(in) != 1 || len(out) != 1 {
		return fmt.Errorf("PointwiseDepthwise: %d inputs and %d outputs, want 1 and 1", len(in), len(out))
	}
	pw := o.Pointwise
	if pw.Residual {
		return fmt.Errorf("PointwiseDepthwise: the pointwise convolution has a residual input")
	}
	x, y := in[0], out[0]
	if len(x.Shape) != 4 {
		return fmt.Errorf("PointwiseDepthwise: input shape %s, want (batch, height, width, channels)", shapeText(x.Shape))
	}
	mid := []int{x.Shape[0], x.Shape[1], x.Shape[2], pw.Filters}
	g1, err := pw.geometry(x.Shape, mid)
	if err != nil {
		return err
	}
	if !g1.direct() {
		return fmt.Errorf("PointwiseDepthwise: %s on input %s is not a pointwise convolution", pw.config(), shapeText(x.Shape))
	}
	g2, w2, b2, act2, err := depthwiseOf(o.Depthwise, mid, y.Shape)
	if err != nil {
		return err
	}
	if len(x.Data) == 0 || len(y.Data) == 0 {
		return nil
	}
	st := stateOf[pdState](call)
	stripMin := o.stripMin
	if stripMin <= 0 {
		stripMin = pdStripMin
	}
	if g1.h*g1.w*g1.f < stripMin {
		m := &tensor.Tensor{Shape: mid, Data: call.Scratch(tensor.Numel(mid))}
		if err := pw.Forward(call.sub(&st.pw), in, []*tensor.Tensor{m}); err != nil {
			return err
		}
		return o.Depthwise.Forward(call.sub(&st.dw), []*tensor.Tensor{m}, out)
	}
	t := &st.task
	*t = pdTask{g2: g2, x: x.Data, y: y.Data, w2: w2, b2: b2, act2: act2}
	t.pw = convTask{g: g1, w: pw.kernel.Value.Data, act: pw.Act}
	if pw.bias != nil {
		t.pw.bias = pw.bias.Value.Data
		t.pw.tile = biasTile(&st.tile, t.pw.bias)
	}
	if g1.groups == 1 {
		t.pw.pw = frozenConv(call.frozen, pw.kernel).packedKernel(&g1, t.pw.w)
	}
	limit := o.stripFloats
	if limit <= 0 {
		limit = pdStripFloats
	}
	t.row = g2.w * g2.cin
	t.span = (g2.kh-1)*g2.dh + 1
	t.rows = min(g2.oh, max(1, (limit/t.row-t.span)/g2.sh+1))
	t.win = min(g2.h, (t.rows-1)*g2.sh+t.span) * t.row
	t.parts = convParts(g2.lines(), 8*g2.ow*g2.f*g2.kh*g2.kw+g1.flopsPerLine()*g2.sh)
	t.scr = call.Scratch(t.parts * t.win)
	kernels.Parallel(t.parts, 1, t)
	*t = pdTask{}
	return nil
}

// pdTask runs PointwiseDepthwise over parts of the output lines.
type pdTask struct {
	pw     convTask // the pointwise convolution (geometry g, weights)
	g2     convGeo  // the depthwise convolution
	x, y   []float32
	w2, b2 []float32
	act2   Act
	row    int // floats of one expanded row
	span   int // expanded rows one output row reads
	rows   int // output rows per strip
	win    int // floats of a part's expanded rows
	parts  int
	scr    []float32 // parts x win
}

// Run processes parts [lo, hi).
func (t *pdTask) Run(lo, hi int) {
	for p := lo; p < hi; p++ {
		t.part(p)
	}
}

// part computes output lines [r0, r1) of part p in strips of t.rows
// lines (within an image). A strip's expanded rows [a, e) sit in the
// part's window from its start; those the last strip also read are moved
// to the front, the others computed.
func (t *pdTask) part(p int) {
	g1, g2 := &t.pw.g, &t.g2
	lines := g2.lines()
	r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
	win := t.scr[p*t.win : (p+1)*t.win]
	row, span, mult := t.row, t.span, g2.f/g2.cin
	hb, h0, h1 := -1, 0, 0 // the window holds rows [h0, h1) of image hb
	for r := r0; r < r1; {
		b, oy0 := r/g2.oh, r%g2.oh
		oy1 := min(g2.oh, oy0+t.rows, oy0+r1-r)
		a := max(0, oy0*g2.sh-g2.padT)
		e := max(a, min(g2.h, (oy1-1)*g2.sh-g2.padT+span))
		from := a
		if hb == b && h0 <= a && a < h1 {
			copy(win, win[(a-h0)*row:(h1-h0)*row])
			from = h1
		}
		if from < e {
			x := t.x[(b*g1.h+from)*g1.w*g1.cin:]
			t.pw.pointwise((e-from)*g1.w, x, win[(from-a)*row:(e-a)*row], nil)
		}
		hb, h0, h1 = b, a, e
		// The strip as an image of its own: its rows are the window's
		// from a; the padding above is what is left of padT.
		kg := kernels.ConvGeom{N: 1, H: e - a, W: g2.w, C: g2.cin, KH: g2.kh, KW: g2.kw, SH: g2.sh, SW: g2.sw,
			DH: g2.dh, DW: g2.dw, PadTop: g2.padT + a - oy0*g2.sh, PadLeft: g2.padL, OH: oy1 - oy0, OW: g2.ow}
		out := t.y[(b*g2.oh+oy0)*g2.ow*g2.f : (b*g2.oh+oy1)*g2.ow*g2.f]
		depthwiseRows(out, win[:(e-a)*row], t.w2, t.b2, nil, kg, mult, t.act2, 0, oy1-oy0)
		r += oy1 - oy0
	}
}

// fusePointwiseDepthwise returns g with every 1x1 convolution (stride
// 1, no padding, one group, no residual) whose output only a depthwise
// convolution without a residual reads replaced, with that convolution,
// by a PointwiseDepthwise named after the depthwise node.
func fusePointwiseDepthwise(g *Graph) (*Graph, error) {
	sole := g.soleReaders()
	fused := map[*Node]*Node{} // depthwise node -> its pointwise node
	absorbed := map[*Node]bool{}
	for _, n := range g.order {
		pw, ok := n.Op.(*Conv2D)
		if !ok || len(n.Outputs) != 1 || !pointwiseConv(pw, false) {
			continue
		}
		d := sole[n.Outputs[0].id]
		if d == nil || len(d.Inputs) != 1 || len(d.Outputs) != 1 || !depthwiseConv(d.Op) {
			continue
		}
		fused[d], absorbed[n] = n, true
	}
	if len(fused) == 0 {
		return g, nil
	}
	return rebuilt(g, absorbed, func(n *Node) (Op, []string, bool) {
		pn, ok := fused[n]
		if !ok {
			return nil, nil, false
		}
		return &PointwiseDepthwise{Pointwise: pn.Op.(*Conv2D), Depthwise: n.Op, pointwiseName: pn.Name}, refsOf(pn.Inputs), true
	})
}

// pointwiseConv reports a built 1x1 convolution with stride 1, no
// padding and one group, and without a residual unless residual.
func pointwiseConv(c *Conv2D, residual bool) bool {
	p := c.Padding
	unpadded := p.Mode == "" || p.Mode == "valid" || p.Mode == "same" ||
		p.Mode == "explicit" && p.Top == 0 && p.Bottom == 0 && p.Left == 0 && p.Right == 0
	return c.kernel != nil && c.KernelH == 1 && c.KernelW == 1 && c.StrideH == 1 && c.StrideW == 1 &&
		c.groups() == 1 && (residual || !c.Residual) && unpadded
}

// depthwiseConv reports a built depthwise convolution without a
// residual.
func depthwiseConv(op Op) bool {
	switch d := op.(type) {
	case *DepthwiseConv2D:
		return d.kernel != nil && !d.Residual
	case *Conv2D:
		return d.kernel != nil && !d.Residual && d.Groups > 1 && d.Groups == d.cin
	}
	return false
}
