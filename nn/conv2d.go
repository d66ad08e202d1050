package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Conv2D is a 2-D convolution over NHWC input (cross-correlation, as in
// every CNN framework):
//
//	y[n, oy, ox, f] = act(b[f] + r[n, oy, ox, f] +
//	    sum_{ky, kx, c} x[n, oy*sh-pt+ky*dh, ox*sw-pl+kx*dw, g*Cin/G + c] * W[ky, kx, c, f])
//
// where g = f / (Filters/Groups) is the group of filter f, c runs over
// the Cin/Groups channels of that group, r is the residual input (only
// with Residual) and act the fused activation (identity unless set).
//
// The kernel W is stored as (KH, KW, Cin/Groups, Filters), Keras' layout
// (PyTorch's (F, Cin/G, KH, KW) weight permuted by (2, 3, 1, 0)). Forward
// unfolds the input with im2col into patches (N*OH*OW x KH*KW*Cin/G per
// group) and multiplies them by W viewed as (KH*KW*Cin/G x Filters),
// which gives the NHWC output. The backward pass is two more GEMMs:
// dW = patches^T dY and dPatches = dY W^T, folded back onto dX with
// col2im. 1x1 stride-1 convolutions multiply the input directly;
// one-channel stride-1 convolutions (LeNet's first layer), whose GEMMs
// would be too skinny to run well, use direct kernels (kernels.Conv1Chan
// and Conv1ChanGrad) where the CPU has them; depthwise convolutions
// (Groups == Cin, as ONNX exports them) run DepthwiseConv2D's kernels.
type Conv2D struct {
	Filters int     `json:"filters"`
	KernelH int     `json:"kernel_h"`
	KernelW int     `json:"kernel_w"`
	StrideH int     `json:"stride_h"`
	StrideW int     `json:"stride_w"`
	Padding Padding `json:"padding"`
	UseBias bool    `json:"use_bias"`
	// Groups splits the channels into groups convolved apart (0 or 1: one
	// group); Cin and Filters must be multiples of it.
	Groups int `json:"groups,omitempty"`
	// DilationH and DilationW space the taps (0 or 1: adjacent). "same"
	// padding counts the dilated kernel's extent.
	DilationH int `json:"dilation_h,omitempty"`
	DilationW int `json:"dilation_w,omitempty"`
	// Act is applied in the epilogue, with the bias (set by the fusion
	// passes, or by hand).
	Act Act `json:"activation,omitzero"`
	// Residual adds a second input, of the output's shape, before Act
	// (set by Optimize for a following Add).
	Residual    bool        `json:"residual,omitempty"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	cin          int // input channels the weights were built for

	// Test overrides of keepColFloats and chunkColFloats (0: default;
	// keepFloats < 0: never keep the patches).
	keepFloats, chunkFloats int
}

// NewConv2D returns a square convolution with filters output channels,
// bias on and Glorot-uniform kernel initialisation.
func NewConv2D(filters, kernelSize, stride int, pad Padding) *Conv2D {
	return &Conv2D{Filters: filters, KernelH: kernelSize, KernelW: kernelSize,
		StrideH: stride, StrideW: stride, Padding: pad, UseBias: true}
}

func init() {
	mustRegister(func() Op { return NewConv2D(1, 1, 1, Valid) })
}

// Kind is "Conv2D".
func (c *Conv2D) Kind() string { return "Conv2D" }

// Saves: the input, and the output when an activation is fused (its
// derivative is taken from the output).
func (c *Conv2D) Saves() (inputs, outputs bool) { return true, c.Act.Kind != "" }

func (c *Conv2D) groups() int { return max(1, c.Groups) }

func (c *Conv2D) dilations() (int, int) { return max(1, c.DilationH), max(1, c.DilationW) }

// config describes the settings for error messages.
func (c *Conv2D) config() string {
	s := fmt.Sprintf("Conv2D %dx%d stride %dx%d padding %s", c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.Padding)
	if dh, dw := c.dilations(); dh > 1 || dw > 1 {
		s += fmt.Sprintf(" dilation %dx%d", dh, dw)
	}
	if c.groups() > 1 {
		s += fmt.Sprintf(" groups %d", c.groups())
	}
	return s
}

// Shapes checks the settings and the input (N, H, W, Cin) (and, with
// Residual, the residual input) and returns (N, OH, OW, Filters).
func (c *Conv2D) Shapes(in [][]int) ([][]int, error) {
	want := 1
	if c.Residual {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("Conv2D takes %d input(s) (residual %v), got %d", want, c.Residual, len(in))
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("Conv2D: input shape %s, want (batch, height, width, channels)", shapeText(s))
	}
	if c.Filters < 1 {
		return nil, fmt.Errorf("Conv2D: filters = %d, want >= 1", c.Filters)
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
		return nil, fmt.Errorf("Conv2D: input shape %s has no channels", shapeText(s))
	}
	if cin > 0 && cin%g != 0 {
		return nil, fmt.Errorf("%s: input channels %d (shape %s) are not a multiple of groups %d", c.config(), cin, shapeText(s), g)
	}
	if c.kernel != nil && cin > 0 && cin != c.cin {
		return nil, fmt.Errorf("Conv2D: input shape %s, built for %d channels", shapeText(s), c.cin)
	}
	if err := c.Act.Validate(); err != nil {
		return nil, fmt.Errorf("Conv2D: %w", err)
	}
	dh, dw := c.dilations()
	oh, _, err := convAxis(s[1], c.KernelH, c.StrideH, dh, c.Padding, true)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(s), err)
	}
	ow, _, err := convAxis(s[2], c.KernelW, c.StrideW, dw, c.Padding, false)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(s), err)
	}
	out := []int{s[0], oh, ow, c.Filters}
	if c.Residual && !shapesCompatible(in[1], out) {
		return nil, fmt.Errorf("Conv2D: residual input shape %s does not match the output %s", shapeText(in[1]), shapeText(out))
	}
	return [][]int{out}, nil
}

// shapesCompatible reports whether two shapes can be equal at run time
// (-1 matches anything).
func shapesCompatible(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && a[i] != -1 && b[i] != -1 {
			return false
		}
	}
	return true
}

// Build creates the kernel (KH, KW, Cin/Groups, Filters) and the bias.
func (c *Conv2D) Build(in [][]int, rng *rand.Rand) error {
	cin := in[0][3]
	if cin < 1 {
		return fmt.Errorf("Conv2D: the number of input channels must be known when the graph is built, got %s", shapeText(in[0]))
	}
	c.cin = cin
	cg := cin / c.groups()
	kernel := tensor.New(c.KernelH, c.KernelW, cg, c.Filters)
	init := c.Initializer
	if init == nil {
		init = GlorotUniform
	}
	// Keras' fans for conv kernels: receptive field times the kernel's
	// input and output axes.
	rf := c.KernelH * c.KernelW
	init(kernel.Data, rf*cg, rf*c.Filters, rng)
	c.kernel = NewParam("kernel", kernel)
	c.bias = nil
	if c.UseBias {
		c.bias = NewParam("bias", tensor.New(c.Filters))
	}
	return nil
}

// Params is the kernel and, with UseBias, the bias.
func (c *Conv2D) Params() []*Param {
	if c.kernel == nil {
		return nil
	}
	if c.bias != nil {
		return []*Param{c.kernel, c.bias}
	}
	return []*Param{c.kernel}
}

// Kernel is the kernel (KH, KW, Cin/Groups, Filters); nil before Build.
func (c *Conv2D) Kernel() *Param { return c.kernel }

// Bias is the bias (Filters); nil before Build or without a bias.
func (c *Conv2D) Bias() *Param { return c.bias }

// geometry checks the tensors a Forward or Backward got (they may be
// called directly, outside a Session) and returns the geometry.
func (c *Conv2D) geometry(x []int, y []int) (convGeo, error) {
	if c.kernel == nil {
		return convGeo{}, fmt.Errorf("Conv2D: run before Build")
	}
	if len(x) != 4 || x[3] != c.cin {
		return convGeo{}, fmt.Errorf("Conv2D: input shape %s, built for (batch, height, width, %d)", shapeText(x), c.cin)
	}
	dh, dw := c.dilations()
	oh, pt, err := convAxis(x[1], c.KernelH, c.StrideH, dh, c.Padding, true)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(x), err)
	}
	ow, pl, err := convAxis(x[2], c.KernelW, c.StrideW, dw, c.Padding, false)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", c.config(), shapeText(x), err)
	}
	if len(y) != 4 || y[0] != x[0] || y[1] != oh || y[2] != ow || y[3] != c.Filters {
		return convGeo{}, fmt.Errorf("Conv2D: output shape %s, want (%d, %d, %d, %d) for input %s", shapeText(y), x[0], oh, ow, c.Filters, shapeText(x))
	}
	return convGeo{n: x[0], h: x[1], w: x[2], cin: c.cin, oh: oh, ow: ow, f: c.Filters,
		kh: c.KernelH, kw: c.KernelW, sh: c.StrideH, sw: c.StrideW, dh: dh, dw: dw,
		padT: pt, padL: pl, groups: c.groups()}, nil
}

// depthwise reports whether the convolution is a depthwise one (every
// input channel its own group), which DepthwiseConv2D's kernels run.
func (g *convGeo) depthwise() bool { return g.groups > 1 && g.groups == g.cin }

// fuseAct implements actFuser: a copy with the activation in its
// epilogue (sharing the weights).
func (c *Conv2D) fuseAct(a Act) (Op, bool) {
	if c.Act.Kind != "" {
		return nil, false
	}
	nc := *c
	nc.Act = a
	return &nc, true
}

// fuseResidual implements residualFuser: a copy that adds a second input
// before its activation. Not after an activation (act(conv) + r is not
// act(conv + r)).
func (c *Conv2D) fuseResidual() (Op, bool) {
	if c.Residual || c.Act.Kind != "" {
		return nil, false
	}
	nc := *c
	nc.Residual = true
	return &nc, true
}

// foldAffine implements affineFolder: y*scale + shift per output channel
// is a convolution with kernel W*scale and bias b*scale + shift. The copy
// gets new (non-trainable) params; c is unchanged.
func (c *Conv2D) foldAffine(scale, shift []float32) (Op, error) {
	if c.Act.Kind != "" || c.Residual {
		return nil, fmt.Errorf("Conv2D: cannot fold an affine map after a fused activation or residual")
	}
	if c.kernel == nil {
		return nil, fmt.Errorf("Conv2D: foldAffine before Build")
	}
	if len(scale) != c.Filters || len(shift) != c.Filters {
		return nil, fmt.Errorf("Conv2D: folding %d scales and %d shifts into %d filters", len(scale), len(shift), c.Filters)
	}
	nc := *c
	nc.kernel, nc.bias, nc.UseBias = foldKernel(c.kernel, c.bias, scale, shift, c.Filters)
	return &nc, nil
}

// foldKernel returns copies of a kernel whose last axis is the output
// channel (f values) and of its bias, absorbing y*scale + shift.
func foldKernel(kernel, bias *Param, scale, shift []float32, f int) (*Param, *Param, bool) {
	k := kernel.Value.Clone()
	for i := 0; i < len(k.Data); i += f {
		row := k.Data[i : i+f]
		for j := range row {
			row[j] *= scale[j]
		}
	}
	b := tensor.New(f)
	for j := range f {
		if bias != nil {
			b.Data[j] = bias.Value.Data[j] * scale[j]
		}
		b.Data[j] += shift[j]
	}
	return NewState("kernel", k), NewState("bias", b), true
}
