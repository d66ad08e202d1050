package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// ScaledPointwise is a 1x1 convolution of x times a per-image,
// per-channel scale s (a squeeze-excite block's gate, EfficientNet's and
// MobileNetV3's: conv(x * s) with s of shape (batch, 1, 1, C)), made one op
// by Optimize. Since (x * s) W = x (diag(s) W), it scales the weights,
// C x F values an image, instead of the input, H x W x C values read and
// written again: EfficientNet-B0's 56x56x144 gate multiplies 451K values
// for a 144x24 kernel. Where an image has fewer than 4 pixels per
// filter, scaling the input is cheaper, and the op does that. The
// results differ from the two ops' by the rounding of one product (s*w
// rounded instead of x*s).
//
// Inputs: x, s and, with Conv.Residual, the residual. Like
// PointwiseDepthwise it is for inference; a model file stores the Mul and
// the convolution.
type ScaledPointwise struct {
	Conv *Conv2D

	mulName string // the Mul node's name, for model files
}

// Kind is "ScaledPointwise".
func (o *ScaledPointwise) Kind() string { return "ScaledPointwise" }

// unfuse gives the two nodes the op replaced, for model files.
func (o *ScaledPointwise) unfuse(name string, inputs []string) []savedNode {
	return []savedNode{{o.mulName, NewMul(), inputs[:2]}, {name, o.Conv, append([]string{o.mulName}, inputs[2:]...)}}
}

// Shapes checks the scale against x and gives the convolution's shapes.
func (o *ScaledPointwise) Shapes(in [][]int) ([][]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("ScaledPointwise takes x, the scale and (with a residual) the residual, got %d inputs", len(in))
	}
	if err := scaleFits(in[0], in[1]); err != nil {
		return nil, err
	}
	return o.Conv.Shapes(append([][]int{in[0]}, in[2:]...))
}

// scaleFits checks that s (batch, 1, 1, C) scales x (batch, H, W, C).
func scaleFits(x, s []int) error {
	if len(x) != 4 || len(s) != 4 || s[1] != 1 || s[2] != 1 || s[3] != x[3] || (s[0] != x[0] && s[0] != 1) {
		return fmt.Errorf("ScaledPointwise: scale shape %s does not scale the channels of input %s per image", shapeText(s), shapeText(x))
	}
	return nil
}

// Build does nothing: the op is made of a built convolution.
func (o *ScaledPointwise) Build([][]int, *rand.Rand) error { return nil }

// Params lists the convolution's weights.
func (o *ScaledPointwise) Params() []*Param { return o.Conv.Params() }

// Backward is an error: the op is made for inference.
func (o *ScaledPointwise) Backward(*Call, []*tensor.Tensor, []*tensor.Tensor, []*tensor.Tensor, []*tensor.Tensor) error {
	return fmt.Errorf("ScaledPointwise: inference only (nn.Optimize made it); train the graph before Optimize")
}

// Saves: Backward reads nothing.
func (o *ScaledPointwise) Saves() (inputs, outputs bool) { return false, false }

// spState is the op's per-Session storage.
type spState struct {
	task     spTask
	tile     []float32
	mul, cnv Call // the two ops' calls, when the input is scaled
	mulOp    Mul
}

// Forward computes conv(x * s) (+ residual).
func (o *ScaledPointwise) Forward(call *Call, in, out []*tensor.Tensor) error {
	c := o.Conv
	want := 2
	if c.Residual {
		want = 3
	}
	if len(in) != want || len(out) != 1 {
		return fmt.Errorf("ScaledPointwise: %d inputs and %d outputs, want %d and 1", len(in), len(out), want)
	}
	x, s, y := in[0], in[1], out[0]
	if err := scaleFits(x.Shape, s.Shape); err != nil {
		return err
	}
	g, err := c.geometry(x.Shape, y.Shape)
	if err != nil {
		return err
	}
	if !g.direct() {
		return fmt.Errorf("ScaledPointwise: %s on input %s is not a pointwise convolution", c.config(), shapeText(x.Shape))
	}
	if len(x.Data) == 0 || len(y.Data) == 0 {
		return nil
	}
	st := stateOf[spState](call)
	if g.h*g.w < 4*g.f {
		// Few pixels for the filters: scale the input (the weights read
		// in place, not in their packed copy, cost more than scaling,
		// EfficientNet-B0's 14x14x672 -> 112 gate measured).
		xs := &tensor.Tensor{Shape: x.Shape, Data: call.Scratch(len(x.Data))}
		if err := st.mulOp.Forward(call.sub(&st.mul), in[:2], []*tensor.Tensor{xs}); err != nil {
			return err
		}
		return c.Forward(call.sub(&st.cnv), append([]*tensor.Tensor{xs}, in[2:]...), out)
	}
	t := &st.task
	*t = spTask{x: x.Data, s: s.Data, y: y.Data, perImage: s.Shape[0] != 1}
	t.conv = convTask{g: g, w: c.kernel.Value.Data, act: c.Act}
	if c.bias != nil {
		t.conv.bias = c.bias.Value.Data
		t.conv.tile = biasTile(&st.tile, t.conv.bias)
	}
	if c.Residual {
		t.res = in[2].Data
	}
	scaled := g.n
	if !t.perImage {
		scaled = 1
	}
	t.ws = call.Scratch(scaled * g.cin * g.f)
	for b := range scaled {
		scaleRows(t.ws[b*g.cin*g.f:(b+1)*g.cin*g.f], t.conv.w, t.s[b*g.cin:(b+1)*g.cin], g.f)
	}
	t.parts = convParts(g.lines(), g.flopsPerLine())
	t.chunk = g.directLines(c.chunkFloats)
	kernels.Parallel(t.parts, 1, t)
	*t = spTask{}
	return nil
}

// scaleRows sets dst's rows (of n values) to w's times s, one factor a
// row.
func scaleRows(dst, w, s []float32, n int) {
	for i, f := range s {
		d := dst[i*n : (i+1)*n]
		copy(d, w[i*n:(i+1)*n])
		kernels.Scal(f, d)
	}
}

// spTask runs ScaledPointwise's products over parts of the output lines,
// each image's with its scaled weights.
type spTask struct {
	conv     convTask // geometry, bias, activation; w replaced per image
	x, s, y  []float32
	res      []float32
	ws       []float32 // scaled weights, per image when perImage
	perImage bool
	parts    int
	chunk    int // lines per product, as a 1x1 Conv2D's
}

// Run processes parts [lo, hi).
func (t *spTask) Run(lo, hi int) {
	g := &t.conv.g
	ct := t.conv // a copy per call: w differs per image
	lines := g.lines()
	for p := lo; p < hi; p++ {
		r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
		for r := r0; r < r1; {
			b := r / g.oh
			e := min(r+t.chunk, r1, (b+1)*g.oh) // one image's lines
			ct.w = t.ws[:g.cin*g.f]
			if t.perImage {
				ct.w = t.ws[b*g.cin*g.f : (b+1)*g.cin*g.f]
			}
			var res []float32
			if t.res != nil {
				res = t.res[r*g.ow*g.f:]
			}
			ct.pointwise((e-r)*g.ow, t.x[r*g.ow*g.cin:], t.y[r*g.ow*g.f:e*g.ow*g.f], res)
			r = e
		}
	}
}

// fuseScaledPointwise returns g with every Mul of a value x (batch, H,
// W, C) by a per-image channel scale (batch, 1, 1, C), read only as the
// first input of a 1x1 convolution (stride 1, no padding, one group),
// replaced with that convolution by a ScaledPointwise named after it.
func fuseScaledPointwise(g *Graph) (*Graph, error) {
	sole := g.soleReaders()
	type fusion struct {
		x, s *Value
		mul  string
	}
	fused := map[*Node]fusion{} // conv node -> its scaled input
	absorbed := map[*Node]bool{}
	for _, n := range g.order {
		if _, ok := n.Op.(*Mul); !ok || len(n.Inputs) != 2 || len(n.Outputs) != 1 {
			continue
		}
		// Read once, as the convolution's first input (not also as its
		// residual: that would be two reads).
		v := n.Outputs[0]
		cn := sole[v.id]
		if cn == nil || cn.Inputs[0] != v {
			continue
		}
		if cv, ok := cn.Op.(*Conv2D); !ok || !pointwiseConv(cv, true) {
			continue
		}
		x, s := n.Inputs[0], n.Inputs[1]
		if channelScale(x.shape, s.shape) != nil {
			x, s = s, x
		}
		if channelScale(x.shape, s.shape) != nil {
			continue
		}
		fused[cn], absorbed[n] = fusion{x, s, n.Name}, true
	}
	if len(fused) == 0 {
		return g, nil
	}
	return rebuilt(g, absorbed, func(n *Node) (Op, []string, bool) {
		f, ok := fused[n]
		if !ok {
			return nil, nil, false
		}
		return &ScaledPointwise{Conv: n.Op.(*Conv2D), mulName: f.mul}, append([]string{f.x.Name(), f.s.Name()}, refsOf(n.Inputs)[1:]...), true
	})
}

// channelScale checks, at build time, that s (batch, 1, 1, C) scales the
// channels of x (batch, H, W, C) per image: both batch axes unknown (the
// same batch) or equal, C known, and x not itself (1, 1) spatially.
func channelScale(x, s []int) error {
	if len(x) != 4 || len(s) != 4 || s[1] != 1 || s[2] != 1 || x[3] < 1 || s[3] != x[3] ||
		s[0] != x[0] || (x[1] == 1 && x[2] == 1) {
		return fmt.Errorf("not a channel scale")
	}
	return nil
}
