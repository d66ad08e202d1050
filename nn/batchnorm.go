package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Keras' BatchNormalization defaults, used when NewBatchNorm gets zeros.
const (
	DefaultBNMomentum = 0.99
	DefaultBNEpsilon  = 1e-3
)

// BatchNorm normalises each channel (the last axis) over all other axes:
// the batch, and height and width for NHWC conv outputs.
//
//	y = gamma * (x - mean) / sqrt(var + Epsilon) + beta
//
// In training mean and var are the batch's (var biased, divided by the
// count), and the moving statistics are updated as Keras does:
//
//	moving = moving*Momentum + batch*(1-Momentum)
//
// using the biased batch variance. (PyTorch writes momentum the other way,
// torch_momentum = 1 - Momentum, and feeds the unbiased variance into
// running_var.) At inference the moving statistics are used instead.
type BatchNorm struct {
	Momentum float32 `json:"momentum"`
	Epsilon  float32 `json:"epsilon"`

	gamma, beta, movingMean, movingVar *Param

	c        int
	training bool      // mode of the last Forward
	invStd   []float32 // per channel, from the last Forward
	shift    []float32 // per channel mean subtracted in the last Forward
	sum, dot []float64 // per channel scratch
	xhat     *tensor.Tensor
	y, dx    *tensor.Tensor
}

// NewBatchNorm returns a batch-normalisation layer. A zero momentum or
// epsilon selects Keras' defaults (DefaultBNMomentum 0.99,
// DefaultBNEpsilon 1e-3).
func NewBatchNorm(momentum, epsilon float32) *BatchNorm {
	if momentum == 0 {
		momentum = DefaultBNMomentum
	}
	if epsilon == 0 {
		epsilon = DefaultBNEpsilon
	}
	return &BatchNorm{Momentum: momentum, Epsilon: epsilon}
}

func (b *BatchNorm) Kind() string { return "BatchNormalization" }

// Build makes gamma = 1, beta = 0, moving_mean = 0, moving_variance = 1
// for the last axis of in.
func (b *BatchNorm) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || in[len(in)-1] < 1 {
		return nil, fmt.Errorf("BatchNormalization: input shape %s has no channel axis", tensor.ShapeString(in))
	}
	if !(b.Momentum >= 0 && b.Momentum < 1) {
		return nil, fmt.Errorf("BatchNormalization: momentum %v must be in [0, 1)", b.Momentum)
	}
	if !(b.Epsilon > 0) {
		return nil, fmt.Errorf("BatchNormalization: epsilon %v must be > 0", b.Epsilon)
	}
	c := in[len(in)-1]
	b.c = c
	b.gamma = NewParam("gamma", tensor.New(c))
	b.gamma.Value.Fill(1)
	b.beta = NewParam("beta", tensor.New(c))
	b.movingMean = NewState("moving_mean", tensor.New(c))
	b.movingVar = NewState("moving_variance", tensor.New(c))
	b.movingVar.Value.Fill(1)
	b.invStd = make([]float32, c)
	b.shift = make([]float32, c)
	b.sum = make([]float64, c)
	b.dot = make([]float64, c)
	return append([]int(nil), in...), nil
}

// Params returns gamma, beta (trainable), moving_mean and moving_variance
// (state), in Keras' order.
func (b *BatchNorm) Params() []*Param {
	if b.gamma == nil {
		return nil
	}
	return []*Param{b.gamma, b.beta, b.movingMean, b.movingVar}
}

func (b *BatchNorm) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if b.gamma == nil {
		return nil, fmt.Errorf("BatchNormalization: Forward before Build")
	}
	if x.Dims() < 2 || x.Shape[x.Dims()-1] != b.c {
		return nil, fmt.Errorf("BatchNormalization: input shape %s, want (batch, ..., %d)", tensor.ShapeString(x.Shape), b.c)
	}
	c := b.c
	rows := len(x.Data) / c
	if rows == 0 {
		return nil, fmt.Errorf("BatchNormalization: empty input %s", tensor.ShapeString(x.Shape))
	}
	b.training = training
	eps := float64(b.Epsilon)
	// Row loops slice each row to the channel scratch's length so that
	// the compiler drops the bounds checks.
	sum, dot, shift, inv := b.sum[:c], b.dot[:c], b.shift[:c], b.invStd[:c]
	if training {
		// Two passes in float64: mean, then the centred second moment,
		// which stays accurate when |mean| >> std.
		clear(sum)
		clear(dot)
		for r := 0; r < len(x.Data); r += c {
			xr := x.Data[r : r+c][:len(sum)]
			for j, v := range xr {
				sum[j] += float64(v)
			}
		}
		for j := range sum {
			sum[j] /= float64(rows)
		}
		for r := 0; r < len(x.Data); r += c {
			xr := x.Data[r : r+c][:len(sum)]
			for j, v := range xr {
				d := float64(v) - sum[j]
				dot[j] += d * d
			}
		}
		m := b.Momentum
		mm, mv := b.movingMean.Value.Data, b.movingVar.Value.Data
		for j := range c {
			mean, vr := sum[j], dot[j]/float64(rows)
			shift[j] = float32(mean)
			inv[j] = float32(1 / math.Sqrt(vr+eps))
			mm[j] = mm[j]*m + float32(mean)*(1-m)
			mv[j] = mv[j]*m + float32(vr)*(1-m)
		}
	} else {
		mm, mv := b.movingMean.Value.Data, b.movingVar.Value.Data
		for j := range c {
			shift[j] = mm[j]
			inv[j] = float32(1 / math.Sqrt(float64(mv[j])+eps))
		}
	}
	b.xhat = tensor.Reuse(b.xhat, x.Shape...)
	b.y = tensor.Reuse(b.y, x.Shape...)
	g, be := b.gamma.Value.Data[:c], b.beta.Value.Data[:c]
	for r := 0; r < len(x.Data); r += c {
		xr := x.Data[r : r+c][:len(shift)]
		hr, yr := b.xhat.Data[r : r+c][:len(xr)], b.y.Data[r : r+c][:len(xr)]
		for j, v := range xr {
			h := (v - shift[j]) * inv[j]
			hr[j] = h
			yr[j] = g[j]*h + be[j]
		}
	}
	return b.y, nil
}

// Backward adds dgamma = sum(dy*xhat) and dbeta = sum(dy). For dx, in
// inference the statistics are constants: dx = dy*gamma*invStd. In
// training they depend on x, which gives the standard formula
//
//	dx = gamma*invStd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))
//
// with M the number of values per channel.
func (b *BatchNorm) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if b.y == nil {
		return nil, fmt.Errorf("BatchNormalization: Backward before Forward")
	}
	if !dy.SameShape(b.y) {
		return nil, fmt.Errorf("BatchNormalization: gradient shape %s does not match output shape %s",
			tensor.ShapeString(dy.Shape), tensor.ShapeString(b.y.Shape))
	}
	c := b.c
	sum, dot, inv := b.sum[:c], b.dot[:c], b.invStd[:c]
	clear(sum)
	clear(dot)
	for r := 0; r < len(dy.Data); r += c {
		gr := dy.Data[r : r+c][:len(sum)]
		hr := b.xhat.Data[r : r+c][:len(gr)]
		for j, v := range gr {
			sum[j] += float64(v)
			dot[j] += float64(v) * float64(hr[j])
		}
	}
	dg, db := b.gamma.Grad.Data[:c], b.beta.Grad.Data[:c]
	for j := range c {
		dg[j] += float32(dot[j])
		db[j] += float32(sum[j])
	}
	b.dx = tensor.Reuse(b.dx, dy.Shape...)
	// k = gamma*invStd, kept in shift, which Forward refills.
	k, g := b.shift[:c], b.gamma.Value.Data[:c]
	for j := range c {
		k[j] = g[j] * inv[j]
	}
	if !b.training {
		for r := 0; r < len(dy.Data); r += c {
			gr := dy.Data[r : r+c][:len(k)]
			dr := b.dx.Data[r : r+c][:len(gr)]
			for j, v := range gr {
				dr[j] = v * k[j]
			}
		}
		return b.dx, nil
	}
	m := float64(len(dy.Data) / c)
	for j := range c {
		// the per-channel means of dy and dy*xhat
		sum[j] /= m
		dot[j] /= m
	}
	for r := 0; r < len(dy.Data); r += c {
		gr := dy.Data[r : r+c][:len(k)]
		hr, dr := b.xhat.Data[r : r+c][:len(gr)], b.dx.Data[r : r+c][:len(gr)]
		for j, v := range gr {
			dr[j] = k[j] * (v - float32(sum[j]) - hr[j]*float32(dot[j]))
		}
	}
	return b.dx, nil
}
