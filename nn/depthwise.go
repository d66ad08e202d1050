package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// DepthwiseConv2D is Keras' DepthwiseConv2D over NHWC input: every input
// channel c is convolved with DepthMultiplier filters of its own, giving
// output channel c*DepthMultiplier + m:
//
//	y[n, oy, ox, c*M+m] = act(b[c*M+m] + r[n, oy, ox, c*M+m] +
//	    sum_{ky, kx} x[n, oy*sh-pt+ky*dh, ox*sw-pl+kx*dw, c] * W[ky, kx, c, m])
//
// The kernel W is stored as (KH, KW, Cin, DepthMultiplier), Keras' layout,
// which in memory is the (KH, KW, 1, Cin*M) kernel of the equivalent
// Conv2D with Groups = Cin (PyTorch's (Cin*M, 1, KH, KW) weight permuted
// by (2, 3, 1, 0)). The kernels work on one output row at a time,
// vectorised over the channels of a pixel (MobileNet's 3x3 layers).
type DepthwiseConv2D struct {
	KernelH int     `json:"kernel_h"`
	KernelW int     `json:"kernel_w"`
	StrideH int     `json:"stride_h"`
	StrideW int     `json:"stride_w"`
	Padding Padding `json:"padding"`
	// DepthMultiplier is the number of filters per input channel (0 means
	// 1).
	DepthMultiplier int `json:"depth_multiplier"`
	// DilationH and DilationW space the taps (0 or 1: adjacent).
	DilationH int  `json:"dilation_h,omitempty"`
	DilationW int  `json:"dilation_w,omitempty"`
	UseBias   bool `json:"use_bias"`
	// Act and Residual are the fused epilogue, as Conv2D's.
	Act         Act         `json:"activation,omitzero"`
	Residual    bool        `json:"residual,omitempty"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	cin          int
}

// NewDepthwiseConv2D returns a square depthwise convolution with depth
// multiplier 1, bias on and Glorot-uniform kernel initialisation.
func NewDepthwiseConv2D(kernelSize, stride int, pad Padding) *DepthwiseConv2D {
	return &DepthwiseConv2D{KernelH: kernelSize, KernelW: kernelSize, StrideH: stride, StrideW: stride,
		Padding: pad, DepthMultiplier: 1, UseBias: true}
}

func init() {
	mustRegister(func() Op { return NewDepthwiseConv2D(1, 1, Valid) })
}

// Kind is "DepthwiseConv2D".
func (d *DepthwiseConv2D) Kind() string { return "DepthwiseConv2D" }

// Saves: the input, and the output when an activation is fused.
func (d *DepthwiseConv2D) Saves() (inputs, outputs bool) { return true, d.Act.Kind != "" }

func (d *DepthwiseConv2D) mult() int { return max(1, d.DepthMultiplier) }

func (d *DepthwiseConv2D) dilations() (int, int) { return max(1, d.DilationH), max(1, d.DilationW) }

func (d *DepthwiseConv2D) config() string {
	s := fmt.Sprintf("DepthwiseConv2D %dx%d stride %dx%d padding %s", d.KernelH, d.KernelW, d.StrideH, d.StrideW, d.Padding)
	if dh, dw := d.dilations(); dh > 1 || dw > 1 {
		s += fmt.Sprintf(" dilation %dx%d", dh, dw)
	}
	if d.mult() > 1 {
		s += fmt.Sprintf(" depth multiplier %d", d.mult())
	}
	return s
}

// Shapes checks the settings and the input (N, H, W, C) and returns
// (N, OH, OW, C*DepthMultiplier).
func (d *DepthwiseConv2D) Shapes(in [][]int) ([][]int, error) {
	want := 1
	if d.Residual {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("DepthwiseConv2D takes %d input(s) (residual %v), got %d", want, d.Residual, len(in))
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("DepthwiseConv2D: input shape %s, want (batch, height, width, channels)", shapeText(s))
	}
	if d.DepthMultiplier < 0 || d.DilationH < 0 || d.DilationW < 0 {
		return nil, fmt.Errorf("%s: depth multiplier %d and dilations %d, %d must not be negative", d.config(), d.DepthMultiplier, d.DilationH, d.DilationW)
	}
	c := s[3]
	if c == 0 || c < -1 {
		return nil, fmt.Errorf("DepthwiseConv2D: input shape %s has no channels", shapeText(s))
	}
	if d.kernel != nil && c > 0 && c != d.cin {
		return nil, fmt.Errorf("DepthwiseConv2D: input shape %s, built for %d channels", shapeText(s), d.cin)
	}
	if err := d.Act.Validate(); err != nil {
		return nil, fmt.Errorf("DepthwiseConv2D: %w", err)
	}
	dh, dw := d.dilations()
	oh, _, err := convAxis(s[1], d.KernelH, d.StrideH, dh, d.Padding, true)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", d.config(), shapeText(s), err)
	}
	ow, _, err := convAxis(s[2], d.KernelW, d.StrideW, dw, d.Padding, false)
	if err != nil {
		return nil, fmt.Errorf("%s on input %s: %v", d.config(), shapeText(s), err)
	}
	f := -1
	if c > 0 {
		f = c * d.mult()
	}
	out := []int{s[0], oh, ow, f}
	if d.Residual && !shapesCompatible(in[1], out) {
		return nil, fmt.Errorf("DepthwiseConv2D: residual input shape %s does not match the output %s", shapeText(in[1]), shapeText(out))
	}
	return [][]int{out}, nil
}

// Build creates the kernel (KH, KW, C, DepthMultiplier) and the bias.
func (d *DepthwiseConv2D) Build(in [][]int, rng *rand.Rand) error {
	c := in[0][3]
	if c < 1 {
		return fmt.Errorf("DepthwiseConv2D: the number of input channels must be known when the graph is built, got %s", shapeText(in[0]))
	}
	d.cin = c
	m := d.mult()
	kernel := tensor.New(d.KernelH, d.KernelW, c, m)
	init := d.Initializer
	if init == nil {
		init = GlorotUniform
	}
	rf := d.KernelH * d.KernelW // Keras' fans for this kernel shape
	init(kernel.Data, rf*c, rf*m, rng)
	d.kernel = NewParam("kernel", kernel)
	d.bias = nil
	if d.UseBias {
		d.bias = NewParam("bias", tensor.New(c*m))
	}
	return nil
}

// Params is the kernel and, with UseBias, the bias.
func (d *DepthwiseConv2D) Params() []*Param {
	if d.kernel == nil {
		return nil
	}
	if d.bias != nil {
		return []*Param{d.kernel, d.bias}
	}
	return []*Param{d.kernel}
}

// Kernel is the kernel (KH, KW, C, DepthMultiplier); nil before Build.
func (d *DepthwiseConv2D) Kernel() *Param { return d.kernel }

// Bias is the bias (C*DepthMultiplier); nil before Build or without one.
func (d *DepthwiseConv2D) Bias() *Param { return d.bias }

func (d *DepthwiseConv2D) geometry(x, y []int) (convGeo, error) {
	if d.kernel == nil {
		return convGeo{}, fmt.Errorf("DepthwiseConv2D: run before Build")
	}
	if len(x) != 4 || x[3] != d.cin {
		return convGeo{}, fmt.Errorf("DepthwiseConv2D: input shape %s, built for (batch, height, width, %d)", shapeText(x), d.cin)
	}
	dh, dw := d.dilations()
	oh, pt, err := convAxis(x[1], d.KernelH, d.StrideH, dh, d.Padding, true)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", d.config(), shapeText(x), err)
	}
	ow, pl, err := convAxis(x[2], d.KernelW, d.StrideW, dw, d.Padding, false)
	if err != nil {
		return convGeo{}, fmt.Errorf("%s on input %s: %v", d.config(), shapeText(x), err)
	}
	f := d.cin * d.mult()
	if len(y) != 4 || y[0] != x[0] || y[1] != oh || y[2] != ow || y[3] != f {
		return convGeo{}, fmt.Errorf("DepthwiseConv2D: output shape %s, want (%d, %d, %d, %d) for input %s", shapeText(y), x[0], oh, ow, f, shapeText(x))
	}
	return convGeo{n: x[0], h: x[1], w: x[2], cin: d.cin, oh: oh, ow: ow, f: f,
		kh: d.KernelH, kw: d.KernelW, sh: d.StrideH, sw: d.StrideW, dh: dh, dw: dw,
		padT: pt, padL: pl, groups: d.cin}, nil
}

// Forward computes the depthwise convolution, bias, residual and
// activation.
func (d *DepthwiseConv2D) Forward(call *Call, in, out []*tensor.Tensor) error {
	if len(in) < 1 || len(out) != 1 {
		return fmt.Errorf("DepthwiseConv2D: %d inputs and %d outputs", len(in), len(out))
	}
	g, err := d.geometry(in[0].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	var res []float32
	if d.Residual {
		if len(in) != 2 || !tensor.EqualShape(in[1].Shape, out[0].Shape) {
			return fmt.Errorf("DepthwiseConv2D: residual input missing or not of the output's shape %s", shapeText(out[0].Shape))
		}
		res = in[1].Data
	}
	var bias []float32
	if d.bias != nil {
		bias = d.bias.Value.Data
	}
	stateOf[dwState](call).forward(&g, in[0].Data, out[0].Data, res, d.kernel.Value.Data, bias, d.Act)
	return nil
}

// Backward adds dW and db to the Params that have a gradient and writes
// dx (and, with Residual, d(residual)), all from g = dy * act'(y).
func (d *DepthwiseConv2D) Backward(call *Call, in, out, dout, din []*tensor.Tensor) error {
	if len(in) < 1 || in[0] == nil || len(dout) != 1 {
		return fmt.Errorf("DepthwiseConv2D: Backward needs the input and one output gradient")
	}
	if dout[0] == nil {
		for _, t := range din {
			if t != nil {
				clear(t.Data)
			}
		}
		return nil
	}
	g, err := d.geometry(in[0].Shape, dout[0].Shape)
	if err != nil {
		return err
	}
	if err := convCheckAct("DepthwiseConv2D", d.Act); err != nil {
		return err
	}
	st := stateOf[dwState](call)
	dy := dout[0].Data
	if d.Act.Kind != "" {
		if len(out) < 1 || out[0] == nil {
			return fmt.Errorf("DepthwiseConv2D: Backward with a fused activation needs the output")
		}
		gb := call.Scratch(len(dy))
		convActGrad(&st.act, d.Act, gb, dy, out[0].Data)
		dy = gb
	}
	if d.Residual && len(din) > 1 && din[1] != nil {
		copy(din[1].Data, dy)
	}
	var dx, dW, dB []float32
	if len(din) > 0 && din[0] != nil {
		dx = din[0].Data
	}
	if d.kernel.Grad != nil {
		dW = d.kernel.Grad.Data
	}
	if d.bias != nil && d.bias.Grad != nil {
		dB = d.bias.Grad.Data
	}
	st.backward(&g, in[0].Data, dy, dx, d.kernel.Value.Data, dW, dB)
	return nil
}

// fuseAct implements actFuser.
func (d *DepthwiseConv2D) fuseAct(a Act) (Op, bool) {
	if d.Act.Kind != "" {
		return nil, false
	}
	nd := *d
	nd.Act = a
	return &nd, true
}

// fuseResidual implements residualFuser.
func (d *DepthwiseConv2D) fuseResidual() (Op, bool) {
	if d.Residual || d.Act.Kind != "" {
		return nil, false
	}
	nd := *d
	nd.Residual = true
	return &nd, true
}

// foldAffine implements affineFolder (see Conv2D.foldAffine): the kernel
// in memory is (KH*KW, C*M), output channel last.
func (d *DepthwiseConv2D) foldAffine(scale, shift []float32) (Op, error) {
	if d.Act.Kind != "" || d.Residual {
		return nil, fmt.Errorf("DepthwiseConv2D: cannot fold an affine map after a fused activation or residual")
	}
	if d.kernel == nil {
		return nil, fmt.Errorf("DepthwiseConv2D: foldAffine before Build")
	}
	f := d.cin * d.mult()
	if len(scale) != f || len(shift) != f {
		return nil, fmt.Errorf("DepthwiseConv2D: folding %d scales and %d shifts into %d channels", len(scale), len(shift), f)
	}
	nd := *d
	nd.kernel, nd.bias, nd.UseBias = foldKernel(d.kernel, d.bias, scale, shift, f)
	return &nd, nil
}
