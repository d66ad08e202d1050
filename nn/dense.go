package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Dense is a fully connected layer: y = x W + b for x of shape
// (N, in), W of shape (in, units) and b of shape (units). Backward:
// dW = x^T dY, db = column sums of dY, dX = dY W^T.
type Dense struct {
	Units       int         `json:"units"`
	UseBias     bool        `json:"use_bias"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	in           int
	skipDX       bool
	x, y, dx     *tensor.Tensor
	sumBuf       []float32 // scratch of the bias gradient
}

// NewDense returns a dense layer with bias and Glorot-uniform weights.
func NewDense(units int) *Dense { return &Dense{Units: units, UseBias: true} }

func (d *Dense) Kind() string { return "Dense" }

// SkipInputGrad stops Backward from computing dL/dx (it returns nil).
func (d *Dense) SkipInputGrad(skip bool) { d.skipDX = skip }

func (d *Dense) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Dense: input shape %s, want (features,); add a Flatten layer before it", tensor.ShapeString(in))
	}
	if d.Units < 1 || in[0] < 1 {
		return nil, fmt.Errorf("Dense: %d units on input %s, both must be >= 1", d.Units, tensor.ShapeString(in))
	}
	d.in = in[0]
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
	return []int{d.Units}, nil
}

func (d *Dense) Params() []*Param {
	if d.bias != nil {
		return []*Param{d.kernel, d.bias}
	}
	return []*Param{d.kernel}
}

func (d *Dense) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if d.kernel == nil {
		return nil, fmt.Errorf("Dense: Forward before Build")
	}
	if x.Dims() != 2 || x.Shape[1] != d.in {
		return nil, fmt.Errorf("Dense: input shape %s, built for (batch, %d); flatten image inputs first", tensor.ShapeString(x.Shape), d.in)
	}
	n, u := x.Shape[0], d.Units
	d.x = x
	d.y = tensor.Reuse(d.y, n, u)
	beta := float32(0)
	if d.bias != nil {
		broadcastRows(d.y.Data, d.bias.Value.Data)
		beta = 1
	}
	kernels.Sgemm(false, false, n, u, d.in, 1, x.Data, d.in, d.kernel.Value.Data, u, beta, d.y.Data, u)
	return d.y, nil
}

func (d *Dense) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if d.x == nil {
		return nil, fmt.Errorf("Dense: Backward before Forward")
	}
	n, u := d.x.Shape[0], d.Units
	if dy.Dims() != 2 || dy.Shape[0] != n || dy.Shape[1] != u {
		return nil, fmt.Errorf("Dense: gradient shape %s, want output shape (%d, %d)", tensor.ShapeString(dy.Shape), n, u)
	}
	kernels.Sgemm(true, false, d.in, u, n, 1, d.x.Data, d.in, dy.Data, u, 1, d.kernel.Grad.Data, u)
	if d.bias != nil {
		if len(d.sumBuf) < sumBlock(u) {
			d.sumBuf = make([]float32, sumBlock(u))
		}
		sumColumns(d.bias.Grad.Data, dy.Data, d.sumBuf)
	}
	if d.skipDX {
		return nil, nil
	}
	d.dx = tensor.Reuse(d.dx, n, d.in)
	kernels.Sgemm(false, true, n, d.in, u, 1, dy.Data, u, d.kernel.Value.Data, u, 0, d.dx.Data, d.in)
	return d.dx, nil
}
