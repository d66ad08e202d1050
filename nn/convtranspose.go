package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// ConvTranspose2D is a transposed 2-D convolution ("deconvolution") over
// NHWC input: the adjoint of the Conv2D that maps its output (OH x OW x
// Filters) back to its input (H x W x Cin) with the same kernel, stride,
// dilation, groups and padding. Each input pixel scatters x[pixel, :] W^T
// onto the output window it came from:
//
//	y[n, iy*sh-pt+ky*dh, ix*sw-pl+kx*dw, g*F/G + o] += sum_c x[n, iy, ix, g*Cin/G + c] * W[ky, kx, o, g*Cin/G + c]
//
// plus the bias, then the fused activation (identity unless set).
//
// The kernel W is stored as (KH, KW, Filters/Groups, Cin): Keras'
// Conv2DTranspose layout, and the layout of the equivalent Conv2D's
// kernel (KH, KW, its Cin/Groups, its Filters) with its channel roles
// swapped. PyTorch's ConvTranspose2d weight (Cin, Filters/Groups, KH, KW)
// becomes it permuted by (2, 3, 1, 0); the 2-D convolution's filters are
// not flipped (PyTorch and TensorFlow do not flip them either).
//
// Output size along an axis of input size n, for a kernel of extent
// e = (k-1)*d + 1, stride s and output padding op:
//   - "explicit" (PyTorch's padding p, ONNX pads): (n-1)*s + e - top -
//     bottom + op; the top/left padding is cut from the start and the
//     output padding adds rows at the end, as PyTorch does.
//   - "valid" (Keras): (n-1)*s + max(e, s) + op.
//   - "same" (Keras): n*s when op is 0, else (n-1)*s + e - 2*(e/2) + op;
//     the cropping splits TensorFlow's way (the odd pixel at the end).
//
// Keras' output_padding=None is op 0; an explicit Keras output_padding of
// 0 with e < s under "valid" is not expressible (use "explicit").
// Forward is Conv2D's input gradient (GEMM, col2im); Backward is a
// convolution (im2col, GEMMs) for dx and dW.
type ConvTranspose2D struct {
	Filters int     `json:"filters"`
	KernelH int     `json:"kernel_h"`
	KernelW int     `json:"kernel_w"`
	StrideH int     `json:"stride_h"`
	StrideW int     `json:"stride_w"`
	Padding Padding `json:"padding"`
	// OutputPaddingH and OutputPaddingW add rows and columns at the end
	// of the output (PyTorch's output_padding; each must be below the
	// larger of the stride and the dilation).
	OutputPaddingH int `json:"output_padding_h,omitempty"`
	OutputPaddingW int `json:"output_padding_w,omitempty"`
	// DilationH and DilationW space the taps (0 or 1: adjacent).
	DilationH int `json:"dilation_h,omitempty"`
	DilationW int `json:"dilation_w,omitempty"`
	// Groups splits the channels (0 or 1: one group); Cin and Filters
	// must be multiples of it.
	Groups  int  `json:"groups,omitempty"`
	UseBias bool `json:"use_bias"`
	// Act is applied in the epilogue (set by the fusion passes).
	Act         Act         `json:"activation,omitzero"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	cin          int

	chunkFloats int // test override of chunkColFloats
}

// NewConvTranspose2D returns a square transposed convolution with filters
// output channels, bias on and Glorot-uniform kernel initialisation.
func NewConvTranspose2D(filters, kernelSize, stride int, pad Padding) *ConvTranspose2D {
	return &ConvTranspose2D{Filters: filters, KernelH: kernelSize, KernelW: kernelSize,
		StrideH: stride, StrideW: stride, Padding: pad, UseBias: true}
}

func init() {
	mustRegister(func() Op { return NewConvTranspose2D(1, 1, 1, Valid) })
}

// Kind is "Conv2DTranspose", Keras' name.
func (c *ConvTranspose2D) Kind() string { return "Conv2DTranspose" }

// Saves: the input, and the output when an activation is fused.
func (c *ConvTranspose2D) Saves() (inputs, outputs bool) { return true, c.Act.Kind != "" }

func (c *ConvTranspose2D) groups() int { return max(1, c.Groups) }

func (c *ConvTranspose2D) dilations() (int, int) { return max(1, c.DilationH), max(1, c.DilationW) }

func (c *ConvTranspose2D) config() string {
	s := fmt.Sprintf("Conv2DTranspose %dx%d stride %dx%d padding %s", c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.Padding)
	if c.OutputPaddingH != 0 || c.OutputPaddingW != 0 {
		s += fmt.Sprintf(" output padding %dx%d", c.OutputPaddingH, c.OutputPaddingW)
	}
	if dh, dw := c.dilations(); dh > 1 || dw > 1 {
		s += fmt.Sprintf(" dilation %dx%d", dh, dw)
	}
	if c.groups() > 1 {
		s += fmt.Sprintf(" groups %d", c.groups())
	}
	return s
}

// axis returns the output size along one axis for input size in (-1:
// unknown) and the top/left padding of the equivalent convolution.
func (c *ConvTranspose2D) axis(in, k, s, d, op int, vertical bool) (out, lo int, err error) {
	if k < 1 || s < 1 || d < 1 {
		return 0, 0, fmt.Errorf("kernel %d, stride %d and dilation %d must be >= 1", k, s, d)
	}
	if op < 0 || op >= max(s, d) {
		return 0, 0, fmt.Errorf("output padding %d must be >= 0 and below the stride %d or the dilation %d", op, s, d)
	}
	ke := (k-1)*d + 1
	p := c.Padding
	switch p.Mode {
	case "", "valid":
		out = (in-1)*s + max(ke, s) + op
	case "same":
		out = in * s
		if op != 0 {
			out = (in-1)*s + ke - 2*(ke/2) + op
		}
		lo = max((in-1)*s+ke-out, 0) / 2
	case "explicit":
		t, b := p.Left, p.Right
		if vertical {
			t, b = p.Top, p.Bottom
		}
		if t < 0 || b < 0 {
			return 0, 0, fmt.Errorf("negative padding %s", p)
		}
		out, lo = (in-1)*s+ke-t-b+op, t
	default:
		return 0, 0, fmt.Errorf("unknown padding mode %q (want valid, same or explicit)", p.Mode)
	}
	if in < 0 {
		return -1, 0, nil
	}
	if out < 1 {
		return 0, 0, fmt.Errorf("the padding leaves an output of %d pixels", out)
	}
	return out, lo, nil
}

// Shapes checks the settings and the input (N, H, W, Cin) and returns
// (N, OH, OW, Filters).
func (c *ConvTranspose2D) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Conv2DTranspose takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("Conv2DTranspose: input shape %s, want (batch, height, width, channels)", shapeText(s))
	}
	if c.Filters < 1 {
		return nil, fmt.Errorf("Conv2DTranspose: filters = %d, want >= 1", c.Filters)
	}
	if c.Groups < 0 || c.DilationH < 0 || c.DilationW < 0 {
		return nil, fmt.Errorf("%s: groups %d and dilations %d, %d must not be negative", c.config(), c.Groups, c.DilationH, c.DilationW)
	}
	g := c.groups()
	if c.Filters%g != 0 {
		return nil, fmt.Errorf("%s: filters %d is not a multiple of groups %d", c.config(), c.Filters, g)
	}
	cin := s[3]
	if cin == 0 || cin < -1 {
		return nil, fmt.Errorf("Conv2DTranspose: input shape %s has no channels", shapeText(s))
	}
	if cin > 0 && cin%g != 0 {
		return nil, fmt.Errorf("%s: input channels %d (shape %s) are not a multiple of groups %d", c.config(), cin, shapeText(s), g)
	}
	if c.kernel != nil && cin > 0 && cin != c.cin {
		return nil, fmt.Errorf("Conv2DTranspose: input shape %s, built for %d channels", shapeText(s), c.cin)
	}
	if err := c.Act.Validate(); err != nil {
		return nil, fmt.Errorf("Conv2DTranspose: %w", err)
	}
	dh, dw := c.dilations()
	oh, _, err := c.axis(s[1], c.KernelH, c.StrideH, dh, c.OutputPaddingH, true)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(s), err)
	}
	ow, _, err := c.axis(s[2], c.KernelW, c.StrideW, dw, c.OutputPaddingW, false)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(s), err)
	}
	return [][]int{{s[0], oh, ow, c.Filters}}, nil
}

// Build creates the kernel (KH, KW, Filters/Groups, Cin) and the bias.
func (c *ConvTranspose2D) Build(in [][]int, rng *rand.Rand) error {
	cin := in[0][3]
	if cin < 1 {
		return fmt.Errorf("Conv2DTranspose: the number of input channels must be known when the graph is built, got %s", shapeText(in[0]))
	}
	c.cin = cin
	fg := c.Filters / c.groups()
	kernel := tensor.New(c.KernelH, c.KernelW, fg, cin)
	init := c.Initializer
	if init == nil {
		init = GlorotUniform
	}
	rf := c.KernelH * c.KernelW // Keras' fans for this kernel shape
	init(kernel.Data, rf*fg, rf*cin, rng)
	c.kernel = NewParam("kernel", kernel)
	c.bias = nil
	if c.UseBias {
		c.bias = NewParam("bias", tensor.New(c.Filters))
	}
	return nil
}

// Params is the kernel and, with UseBias, the bias.
func (c *ConvTranspose2D) Params() []*Param {
	if c.kernel == nil {
		return nil
	}
	if c.bias != nil {
		return []*Param{c.kernel, c.bias}
	}
	return []*Param{c.kernel}
}

// Kernel is the kernel (KH, KW, Filters/Groups, Cin); nil before Build.
func (c *ConvTranspose2D) Kernel() *Param { return c.kernel }

// Bias is the bias (Filters); nil before Build or without a bias.
func (c *ConvTranspose2D) Bias() *Param { return c.bias }

// geometry checks the tensors and returns the equivalent convolution's
// geometry: its input is this op's output and its output this op's input.
func (c *ConvTranspose2D) geometry(x, y []int) (convGeo, error) {
	if c.kernel == nil {
		return convGeo{}, fmt.Errorf("Conv2DTranspose: run before Build")
	}
	if len(x) != 4 || x[3] != c.cin {
		return convGeo{}, fmt.Errorf("Conv2DTranspose: input shape %s, built for (batch, height, width, %d)", shapeText(x), c.cin)
	}
	dh, dw := c.dilations()
	oh, pt, err := c.axis(x[1], c.KernelH, c.StrideH, dh, c.OutputPaddingH, true)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(x), err)
	}
	ow, pl, err := c.axis(x[2], c.KernelW, c.StrideW, dw, c.OutputPaddingW, false)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(x), err)
	}
	if len(y) != 4 || y[0] != x[0] || y[1] != oh || y[2] != ow || y[3] != c.Filters {
		return convGeo{}, fmt.Errorf("Conv2DTranspose: output shape %s, want (%d, %d, %d, %d) for input %s", shapeText(y), x[0], oh, ow, c.Filters, shapeText(x))
	}
	return convGeo{n: x[0], h: oh, w: ow, cin: c.Filters, oh: x[1], ow: x[2], f: c.cin,
		kh: c.KernelH, kw: c.KernelW, sh: c.StrideH, sw: c.StrideW, dh: dh, dw: dw,
		padT: pt, padL: pl, groups: c.groups()}, nil
}

// ctState is a ConvTranspose2D's per-Session storage.
type ctState struct {
	task  ctTask
	act   actTask
	col   []float32 // one chunk of patches per part
	tile  []float32
	grads []float32
	sums  []float32
}

// ctTask runs a pass over parts of the batch. g is the equivalent
// convolution's geometry (image: this op's output y; output: its input x).
type ctTask struct {
	g              convGeo
	backward       bool
	parts, chunk   int
	wide           bool // forward: fewer images than cores (convGemm)
	x, y           []float32
	w, bias, tile  []float32
	act            Act
	col            []float32
	dy, dx, dw, db []float32
	grads, sums    []float32
}

// Run processes parts [lo, hi).
func (t *ctTask) Run(lo, hi int) {
	for p := lo; p < hi; p++ {
		if t.backward {
			t.backwardPart(p)
		} else {
			t.forwardPart(p)
		}
	}
}

// forwardPart computes images [b0, b1) (parts own whole output images,
// since the windows of neighbouring input rows overlap): patches =
// x W^T, folded onto y, then the epilogue.
func (t *ctTask) forwardPart(p int) {
	g := &t.g
	b0, b1 := p*g.n/t.parts, (p+1)*g.n/t.parts
	if b0 == b1 {
		return
	}
	x, cin, fg, kg := t.x, g.f, g.fg(), g.kg()
	out := t.y[b0*g.inLen() : b1*g.inLen()]
	if g.direct() {
		m := (b1 - b0) * g.oh * g.ow
		convGemm(t.wide, false, true, m, g.cin, cin, x[b0*g.oh*g.ow*cin:], cin, t.w, cin, 0, out, g.cin)
	} else {
		clear(out)
		per := t.chunk * g.ow * g.ktot()
		base := t.col[p*per : (p+1)*per]
		for r := b0 * g.oh; r < b1*g.oh; r += t.chunk {
			e := min(r+t.chunk, b1*g.oh)
			m := (e - r) * g.ow
			gs := m * kg
			for gi := 0; gi < g.groups; gi++ {
				convGemm(t.wide, false, true, m, kg, fg, x[r*g.ow*cin+gi*fg:], cin, t.w[gi*fg:], cin, 0, base[gi*gs:], kg)
			}
			g.fold(t.y, base, gs, r, e)
		}
	}
	convEpilogue(out, nil, t.bias, t.tile, t.act)
}

// backwardPart is a convolution of the output gradient over input lines
// [r0, r1): dx = patches W, dW += patches^T x. The bias gradient sums
// the part's share of the output rows.
func (t *ctTask) backwardPart(p int) {
	g := &t.g
	lines := g.lines()
	r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
	cin, cout, fg, kg := g.f, g.cin, g.fg(), g.kg()
	dw, db := t.dw, t.db
	if p > 0 {
		nw := len(t.w)
		s := t.grads[(p-1)*(nw+cout) : p*(nw+cout)]
		clear(s)
		if dw != nil {
			dw = s[:nw]
		}
		if db != nil {
			db = s[nw:]
		}
	}
	if db != nil {
		rows := len(t.dy) / cout
		q0, q1 := p*rows/t.parts, (p+1)*rows/t.parts
		sb := sumBlock(cout)
		sumColumns(db, t.dy[q0*cout:q1*cout], t.sums[p*sb:(p+1)*sb])
	}
	if (dw == nil && t.dx == nil) || r0 == r1 {
		return
	}
	step := t.chunk
	if g.direct() {
		step = r1 - r0
	}
	per := t.chunk * g.ow * g.ktot()
	for r := r0; r < r1; r += step {
		e := min(r+step, r1)
		m := (e - r) * g.ow
		xs := t.x[r*g.ow*cin:]
		var base []float32
		gs := m * kg
		if g.direct() {
			base = t.dy[r*g.ow*cout:]
		} else {
			base = t.col[p*per : (p+1)*per]
			g.unfold(base, gs, t.dy, r, e)
		}
		for gi := 0; gi < g.groups; gi++ {
			if dw != nil {
				kernels.SgemmSerial(true, false, kg, fg, m, 1, base[gi*gs:], kg, xs[gi*fg:], cin, 1, dw[gi*fg:], cin)
			}
			if t.dx != nil {
				kernels.SgemmSerial(false, false, m, fg, kg, 1, base[gi*gs:], kg, t.w[gi*fg:], cin, 0, t.dx[r*g.ow*cin+gi*fg:], cin)
			}
		}
	}
}

// Forward computes the transposed convolution, bias and activation.
func (c *ConvTranspose2D) Forward(call *Call, in, out []*tensor.Tensor) error {
	if len(in) != 1 || len(out) != 1 {
		return fmt.Errorf("Conv2DTranspose: %d inputs and %d outputs, want 1 and 1", len(in), len(out))
	}
	g, err := c.geometry(in[0].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	x, y := in[0].Data, out[0].Data
	if len(x) == 0 || len(y) == 0 {
		return nil
	}
	st := stateOf[ctState](call)
	t := &st.task
	*t = ctTask{g: g, x: x, y: y, w: c.kernel.Value.Data, act: c.Act}
	if c.bias != nil {
		t.bias = c.bias.Value.Data
		t.tile = biasTile(&st.tile, t.bias)
	}
	t.parts = convParts(g.n, g.flopsPerLine()*g.oh)
	t.wide = t.parts < kernels.Threads()
	t.chunk = g.chunkLines(c.chunkFloats)
	if !g.direct() {
		st.col = grow(st.col, t.parts*t.chunk*g.ow*g.ktot())
		t.col = st.col
	}
	kernels.Parallel(t.parts, 1, t)
	*t = ctTask{}
	return nil
}

// Backward takes dL/dy: with g = dy * act'(y), dx is the convolution of
// g with the kernel, dW = patches(g)^T x and db the column sums of g.
func (c *ConvTranspose2D) Backward(call *Call, in, out, dout, din []*tensor.Tensor) error {
	if len(in) != 1 || in[0] == nil || len(dout) != 1 {
		return fmt.Errorf("Conv2DTranspose: Backward needs the input and one output gradient")
	}
	if dout[0] == nil {
		if len(din) > 0 && din[0] != nil {
			clear(din[0].Data)
		}
		return nil
	}
	g, err := c.geometry(in[0].Shape, dout[0].Shape)
	if err != nil {
		return err
	}
	if err := convCheckAct("Conv2DTranspose", c.Act); err != nil {
		return err
	}
	st := stateOf[ctState](call)
	dy := dout[0].Data
	if c.Act.Kind != "" {
		if len(out) < 1 || out[0] == nil {
			return fmt.Errorf("Conv2DTranspose: Backward with a fused activation needs the output")
		}
		gb := call.Scratch(len(dy))
		convActGrad(&st.act, c.Act, gb, dy, out[0].Data)
		dy = gb
	}
	t := &st.task
	*t = ctTask{g: g, backward: true, x: in[0].Data, dy: dy, w: c.kernel.Value.Data}
	if len(din) > 0 && din[0] != nil {
		t.dx = din[0].Data
	}
	if c.kernel.Grad != nil {
		t.dw = c.kernel.Grad.Data
	}
	if c.bias != nil && c.bias.Grad != nil {
		t.db = c.bias.Grad.Data
	}
	if len(t.x) == 0 || len(dy) == 0 || (t.dx == nil && t.dw == nil && t.db == nil) {
		*t = ctTask{}
		return nil
	}
	t.parts = convParts(g.lines(), 2*g.flopsPerLine())
	t.chunk = g.chunkLines(c.chunkFloats)
	if !g.direct() {
		st.col = grow(st.col, t.parts*t.chunk*g.ow*g.ktot())
		t.col = st.col
	}
	nw := len(t.w)
	if t.parts > 1 {
		st.grads = grow(st.grads, (t.parts-1)*(nw+c.Filters))
		t.grads = st.grads
	}
	st.sums = grow(st.sums, t.parts*sumBlock(c.Filters))
	t.sums = st.sums
	kernels.Parallel(t.parts, 1, t)
	for p := 1; p < t.parts; p++ {
		s := t.grads[(p-1)*(nw+c.Filters) : p*(nw+c.Filters)]
		if t.dw != nil {
			kernels.Add(t.dw, s[:nw])
		}
		if t.db != nil {
			kernels.Add(t.db, s[nw:])
		}
	}
	*t = ctTask{}
	return nil
}

// fuseAct implements actFuser.
func (c *ConvTranspose2D) fuseAct(a Act) (Op, bool) {
	if c.Act.Kind != "" {
		return nil, false
	}
	nc := *c
	nc.Act = a
	return &nc, true
}

// foldAffine implements affineFolder: the output channel of the kernel
// (KH, KW, Filters/Groups, Cin) is axis 2 within each group.
func (c *ConvTranspose2D) foldAffine(scale, shift []float32) (Op, error) {
	if c.Act.Kind != "" {
		return nil, fmt.Errorf("Conv2DTranspose: cannot fold an affine map after a fused activation")
	}
	if c.kernel == nil {
		return nil, fmt.Errorf("Conv2DTranspose: foldAffine before Build")
	}
	if len(scale) != c.Filters || len(shift) != c.Filters {
		return nil, fmt.Errorf("Conv2DTranspose: folding %d scales and %d shifts into %d filters", len(scale), len(shift), c.Filters)
	}
	nc := *c
	k := c.kernel.Value.Clone()
	fg, cg := c.Filters/c.groups(), c.cin/c.groups()
	for i := 0; i < len(k.Data); i += fg * c.cin { // one tap: (Filters/G, Cin)
		for o := range fg {
			row := k.Data[i+o*c.cin : i+(o+1)*c.cin]
			for ci := range row {
				row[ci] *= scale[ci/cg*fg+o]
			}
		}
	}
	b := tensor.New(c.Filters)
	for j := range b.Data {
		if c.bias != nil {
			b.Data[j] = c.bias.Value.Data[j] * scale[j]
		}
		b.Data[j] += shift[j]
	}
	nc.kernel, nc.bias, nc.UseBias = NewState("kernel", k), NewState("bias", b), true
	return &nc, nil
}
