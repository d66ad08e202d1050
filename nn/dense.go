package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Dense is a fully connected layer over the last axis: y = act(x W + b) for
// x of shape (..., in), W of shape (in, units) and b of shape (units).
// Backward: with g = dY * act'(y), dW = x^T g, db = column sums of g,
// dX = g W^T. Act is the identity unless a fusion pass set it.
type Dense struct {
	Units       int         `json:"units"`
	UseBias     bool        `json:"use_bias"`
	Act         Act         `json:"activation,omitzero"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	in           int
}

// NewDense returns a dense layer with bias and Glorot-uniform weights.
func NewDense(units int) *Dense { return &Dense{Units: units, UseBias: true} }

func (d *Dense) Kind() string { return "Dense" }

// Saves: the input, and the output when an activation is fused.
func (d *Dense) Saves() (inputs, outputs bool) { return true, d.Act.Kind != "" }

func (d *Dense) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) < 2 {
		return nil, fmt.Errorf("Dense: input shape %s, want (batch, features); add a Flatten before it", shapeText(s))
	}
	if d.Units < 1 {
		return nil, fmt.Errorf("Dense: %d units, want >= 1", d.Units)
	}
	f := s[len(s)-1]
	if f == 0 || f < -1 {
		return nil, fmt.Errorf("Dense: input shape %s has no features", shapeText(s))
	}
	if d.kernel != nil && f != -1 && f != d.in {
		return nil, fmt.Errorf("Dense: input shape %s, built for %d features", shapeText(s), d.in)
	}
	if err := d.Act.Validate(); err != nil {
		return nil, fmt.Errorf("Dense: %w", err)
	}
	out := append([]int(nil), s...)
	out[len(out)-1] = d.Units
	return [][]int{out}, nil
}

func (d *Dense) Build(in [][]int, rng *rand.Rand) error {
	f := in[0][len(in[0])-1]
	if f < 1 {
		return fmt.Errorf("Dense: the number of input features must be known when the graph is built, got %s", shapeText(in[0]))
	}
	d.in = f
	kernel := tensor.New(d.in, d.Units)
	init := d.Initializer
	if init == nil {
		init = GlorotUniform
	}
	init(kernel.Data, d.in, d.Units, rng)
	d.kernel = NewParam("kernel", kernel)
	d.bias = nil
	if d.UseBias {
		d.bias = NewParam("bias", tensor.New(d.Units))
	}
	return nil
}

func (d *Dense) Params() []*Param {
	if d.kernel == nil {
		return nil
	}
	if d.bias != nil {
		return []*Param{d.kernel, d.bias}
	}
	return []*Param{d.kernel}
}

// Kernel and Bias are the weights (nil before Build; Bias nil without bias).
func (d *Dense) Kernel() *Param { return d.kernel }
func (d *Dense) Bias() *Param   { return d.bias }

func (d *Dense) Forward(c *Call, in, out []*tensor.Tensor) error {
	if d.kernel == nil {
		return fmt.Errorf("Dense: Forward before Build")
	}
	x, y := in[0], out[0]
	n, u := len(x.Data)/d.in, d.Units
	beta := float32(0)
	if d.bias != nil {
		broadcastRows(y.Data, d.bias.Value.Data)
		beta = 1
	}
	if pb := frozenDense(c.frozen, d.kernel, n, d.in, u); pb != nil {
		kernels.SgemmPacked(n, d.in, x.Data, d.in, pb, 0, beta, y.Data, u)
	} else {
		kernels.Sgemm(false, false, n, u, d.in, 1, x.Data, d.in, d.kernel.Value.Data, u, beta, y.Data, u)
	}
	if d.Act.Kind != "" {
		runAct(c, d.Act, y.Data, y.Data)
	}
	return nil
}

func (d *Dense) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	x, dy := in[0], dout[0]
	n, u := len(x.Data)/d.in, d.Units
	g := dy.Data
	if d.Act.Kind != "" {
		g = c.Scratch(len(dy.Data))
		runActGrad(c, d.Act, g, dy.Data, out[0].Data)
	}
	if d.kernel.Grad != nil {
		kernels.Sgemm(true, false, d.in, u, n, 1, x.Data, d.in, g, u, 1, d.kernel.Grad.Data, u)
	}
	if d.bias != nil && d.bias.Grad != nil {
		sumColumns(d.bias.Grad.Data, g, c.Scratch(sumBlock(u)))
	}
	if din[0] != nil {
		kernels.Sgemm(false, true, n, d.in, u, 1, g, u, d.kernel.Value.Data, u, 0, din[0].Data, d.in)
	}
	return nil
}

// fuseAct implements actFuser.
func (d *Dense) fuseAct(a Act) (Op, bool) {
	if d.Act.Kind != "" {
		return nil, false
	}
	nd := *d
	nd.Act = a
	return &nd, true
}

// foldAffine implements affineFolder: y*scale + shift = x (W scale) + (b scale + shift).
func (d *Dense) foldAffine(scale, shift []float32) (Op, error) {
	if d.Act.Kind != "" {
		return nil, fmt.Errorf("Dense: cannot fold after a fused activation")
	}
	nd := *d
	k := d.kernel.Value.Clone()
	for i := 0; i < len(k.Data); i += d.Units {
		for j := range d.Units {
			k.Data[i+j] *= scale[j]
		}
	}
	b := tensor.New(d.Units)
	for j := range d.Units {
		if d.bias != nil {
			b.Data[j] = d.bias.Value.Data[j] * scale[j]
		}
		b.Data[j] += shift[j]
	}
	nd.kernel, nd.bias, nd.UseBias = NewState("kernel", k), NewState("bias", b), true
	return &nd, nil
}
