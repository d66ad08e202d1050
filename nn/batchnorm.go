package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// The defaults NewBatchNorm uses for zeros: PyTorch's momentum (its 0.1,
// which is 0.9 in Keras' convention used here) and Keras' epsilon. Keras'
// own 0.99 keeps 0.99^t of the initial statistics (mean 0, variance 1)
// after t steps: 16% after the 180 steps of 10 epochs of a 2,000-image
// dataset at batch 128, enough to keep a MiniVGGNet's validation accuracy
// at chance while its training accuracy is 0.8 (docs/accuracy.md). With
// 0.9 the start is forgotten after about 40 steps. Model files store their
// momentum, so older files (0.99) load unchanged.
const (
	DefaultBNMomentum = 0.9
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
// running_var.) At inference, and in training when Frozen, the moving
// statistics are used instead and left unchanged.
//
// At inference the op is y = x*scale + shift per channel, which Optimize
// folds into the convolution or dense layer before it (inferenceAffine).
//
// Act, set by FuseActivations for an activation that follows (ResNet's
// batch norm -> ReLU), is applied to y in the same pass, and Backward
// takes its derivative from the output (only activations with
// Act.FromOutput fuse), which saves the activation's two passes over
// memory each way.
//
// Residual, set by FuseActivations for a residual Add that follows
// (ResNet's batch norm -> Add -> ReLU), adds a second input of the
// output's shape before Act: y = act(bn(x) + r), and Backward writes
// dr = dy*act'(y), so the Add's pass and its gradient copies go too.
type BatchNorm struct {
	Momentum float32 `json:"momentum"`
	Epsilon  float32 `json:"epsilon"`
	// Frozen makes training use and keep the moving statistics, as Keras'
	// BatchNormalization with trainable=False does when fine-tuning. Gamma
	// and beta are frozen separately, by making their params
	// non-trainable (Grad nil).
	Frozen bool `json:"frozen,omitempty"`
	// Act is applied to the output (identity unless set).
	Act Act `json:"activation,omitzero"`
	// Residual adds a second input, of the output's shape, before Act.
	Residual bool `json:"residual,omitempty"`

	gamma, beta, movingMean, movingVar *Param
	c                                  int
}

// NewBatchNorm returns a batch-normalisation layer. A zero momentum or
// epsilon selects the defaults (DefaultBNMomentum 0.9, PyTorch's 0.1;
// DefaultBNEpsilon 1e-3, Keras').
func NewBatchNorm(momentum, epsilon float32) *BatchNorm {
	if momentum == 0 {
		momentum = DefaultBNMomentum
	}
	if epsilon == 0 {
		epsilon = DefaultBNEpsilon
	}
	return &BatchNorm{Momentum: momentum, Epsilon: epsilon}
}

func init() {
	mustRegister(func() Op { return NewBatchNorm(0, 0) })
}

// Kind is "BatchNormalization", Keras' name.
func (b *BatchNorm) Kind() string { return "BatchNormalization" }

// Saves: the input, from which Backward recomputes x-hat = (x-mean)*invStd
// with the statistics kept in the op state. Saving x-hat instead would cost
// a second activation-sized buffer per layer, and recovering it from the
// output divides by gamma, which may be 0. A frozen layer whose gamma is
// frozen too needs nothing: dx = dy*gamma*invStd.
//
// With a fused activation Backward also reads the output. The residual
// input is not needed, but inputs are kept together.
func (b *BatchNorm) Saves() (inputs, outputs bool) {
	if b.Frozen && b.gamma != nil && b.gamma.Grad == nil {
		return false, b.Act.Kind != ""
	}
	return true, b.Act.Kind != ""
}

// InPlace: the output may be written over the input (at inference, when
// the input is not kept for Backward): each value is read before it is
// written.
func (b *BatchNorm) InPlace() bool { return true }

// Shapes checks the settings and that the channel count is the one built
// for; the output has the input's shape.
func (b *BatchNorm) Shapes(in [][]int) ([][]int, error) {
	want := 1
	if b.Residual {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("BatchNormalization takes %d input(s) (residual %v), got %d", want, b.Residual, len(in))
	}
	if !(b.Momentum >= 0 && b.Momentum < 1) {
		return nil, fmt.Errorf("BatchNormalization: momentum %v must be in [0, 1)", b.Momentum)
	}
	if !(b.Epsilon > 0) || math.IsInf(float64(b.Epsilon), 1) {
		return nil, fmt.Errorf("BatchNormalization: epsilon %v must be > 0", b.Epsilon)
	}
	s := in[0]
	if len(s) < 2 {
		return nil, fmt.Errorf("BatchNormalization: input shape %s has no channel axis after the batch axis", shapeText(s))
	}
	c := s[len(s)-1]
	if c == 0 || c < -1 {
		return nil, fmt.Errorf("BatchNormalization: input shape %s has no channels", shapeText(s))
	}
	if b.gamma != nil && c != -1 && c != b.c {
		return nil, fmt.Errorf("BatchNormalization: input shape %s has %d channels, built for %d", shapeText(s), c, b.c)
	}
	if err := b.Act.Validate(); err != nil {
		return nil, fmt.Errorf("BatchNormalization: %w", err)
	}
	if b.Residual && !shapesCompatible(in[1], s) {
		return nil, fmt.Errorf("BatchNormalization: residual input shape %s is not the output's %s", shapeText(in[1]), shapeText(s))
	}
	return [][]int{s}, nil
}

// Build makes gamma = 1, beta = 0, moving_mean = 0, moving_variance = 1
// for the last axis of the input.
func (b *BatchNorm) Build(in [][]int, _ *rand.Rand) error {
	c := in[0][len(in[0])-1]
	if c < 1 {
		return fmt.Errorf("BatchNormalization: the channel count must be known when the graph is built, got %s", shapeText(in[0]))
	}
	b.c = c
	b.gamma = NewParam("gamma", tensor.New(c))
	b.gamma.Value.Fill(1)
	b.beta = NewParam("beta", tensor.New(c))
	b.movingMean = NewState("moving_mean", tensor.New(c))
	b.movingVar = NewState("moving_variance", tensor.New(c))
	b.movingVar.Value.Fill(1)
	return nil
}

// Params returns gamma, beta (trainable), moving_mean and moving_variance
// (state), in Keras' order.
func (b *BatchNorm) Params() []*Param {
	if b.gamma == nil {
		return nil
	}
	return []*Param{b.gamma, b.beta, b.movingMean, b.movingVar}
}

// Gamma, Beta, MovingMean and MovingVariance are the params (nil before
// Build).
func (b *BatchNorm) Gamma() *Param          { return b.gamma }
func (b *BatchNorm) Beta() *Param           { return b.beta }
func (b *BatchNorm) MovingMean() *Param     { return b.movingMean }
func (b *BatchNorm) MovingVariance() *Param { return b.movingVar }

// inferenceAffine implements channelAffine: at inference y = x*scale +
// shift with scale = gamma/sqrt(moving_variance + eps) and shift = beta -
// moving_mean*scale. Not with a fused activation or residual (y is not
// affine in x).
func (b *BatchNorm) inferenceAffine() (scale, shift []float32, ok bool) {
	if b.gamma == nil || b.Act.Kind != "" || b.Residual {
		return nil, nil, false
	}
	scale, shift = make([]float32, b.c), make([]float32, b.c)
	g, be := b.gamma.Value.Data, b.beta.Value.Data
	mm, mv := b.movingMean.Value.Data, b.movingVar.Value.Data
	for j := range b.c {
		s := float64(g[j]) / math.Sqrt(float64(mv[j])+float64(b.Epsilon))
		scale[j] = float32(s)
		shift[j] = float32(float64(be[j]) - float64(mm[j])*s)
	}
	return scale, shift, true
}

// fuseAct implements actFuser: a copy with the activation applied to its
// output (sharing the params).
func (b *BatchNorm) fuseAct(a Act) (Op, bool) {
	if b.Act.Kind != "" {
		return nil, false
	}
	nb := *b
	nb.Act = a
	return &nb, true
}

// fuseResidual implements residualFuser: a copy that adds a second input
// before its activation (not after one: act(bn) + r is not act(bn + r)).
func (b *BatchNorm) fuseResidual() (Op, bool) {
	if b.Residual || b.Act.Kind != "" {
		return nil, false
	}
	nb := *b
	nb.Residual = true
	return &nb, true
}

// bnState is a BatchNorm's per-session state: the statistics the last
// Forward used (Backward recomputes x-hat from them) and the passes'
// buffers.
type bnState struct {
	chanRunner
	act       actTask   // the fused activation's derivative (frozen statistics)
	batch     bool      // the last Forward normalised with batch statistics
	mean, inv []float32 // per channel: the mean subtracted and 1/sqrt(var+eps)
	// Per-channel coefficients of the element-wise passes.
	ca, cb, cc []float32
	ref        []float64 // per channel: the shift of the shifted sums (the first row)
}

func (st *bnState) size(c int) {
	if len(st.mean) == c {
		return
	}
	st.mean, st.inv = make([]float32, c), make([]float32, c)
	st.ca, st.cb, st.cc = make([]float32, c), make([]float32, c), make([]float32, c)
	st.ref = make([]float64, c)
}

// Forward normalises x with the batch statistics (training, not Frozen;
// updating the moving ones) or the moving statistics.
func (b *BatchNorm) Forward(c *Call, in, out []*tensor.Tensor) error {
	if b.gamma == nil {
		return fmt.Errorf("BatchNormalization: Forward before Build")
	}
	x, y := in[0].Data, out[0].Data
	ch := b.c
	rows := len(x) / ch
	if rows == 0 {
		return fmt.Errorf("BatchNormalization: empty input %s", tensor.ShapeString(in[0].Shape))
	}
	var res []float32
	if b.Residual {
		if len(in) != 2 || !tensor.EqualShape(in[1].Shape, in[0].Shape) {
			return fmt.Errorf("BatchNormalization: residual input missing or not of the input's shape %s", tensor.ShapeString(in[0].Shape))
		}
		res = in[1].Data
	}
	st := stateOf[bnState](c)
	st.size(ch)
	st.batch = c.Train && !b.Frozen
	mean, inv := st.mean[:ch], st.inv[:ch]
	eps := float64(b.Epsilon)
	mm, mv := b.movingMean.Value.Data[:ch], b.movingVar.Value.Data[:ch]
	if st.batch {
		// One pass of sums shifted by the first row, in float64: the
		// variance E[(x-K)^2] - E[x-K]^2 stays accurate when |mean| >> std
		// because K is a sample, close to the mean.
		ref := st.ref[:ch]
		for j, v := range x[:ch] {
			ref[j] = float64(v)
		}
		st.task = chanTask{mode: chanStats, x: x, ref: ref}
		s1, s2 := st.pass(len(x), ch, true)
		m := b.Momentum
		for j := range ch {
			d := s1[j] / float64(rows)
			vr := max(s2[j]/float64(rows)-d*d, 0)
			mu := ref[j] + d
			mean[j] = float32(mu)
			inv[j] = float32(1 / math.Sqrt(vr+eps))
			mm[j] = mm[j]*m + float32(mu)*(1-m)
			mv[j] = mv[j]*m + float32(vr)*(1-m)
		}
	} else {
		for j := range ch {
			mean[j] = mm[j]
			inv[j] = float32(1 / math.Sqrt(float64(mv[j])+eps))
		}
	}
	g := b.gamma.Value.Data[:ch]
	scale := st.ca[:ch]
	for j := range ch {
		scale[j] = g[j] * inv[j]
	}
	st.task = chanTask{mode: chanAffine, x: x, y: y, res: res, mean: mean, a: scale, b: b.beta.Value.Data[:ch], act: b.Act}
	st.pass(len(x), ch, false)
	return nil
}

// Backward adds dgamma = sum(dy*xhat) and dbeta = sum(dy). For dx, with
// fixed statistics (inference, Frozen) dx = dy*gamma*invStd; with batch
// statistics, which depend on x,
//
//	dx = gamma*invStd * (dy - mean(dy) - xhat*mean(dy*xhat))
//
// computed as A*dy + B*(x-mean) + C with per-channel A, B and C.
func (b *BatchNorm) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	st := stateOf[bnState](c)
	ch := b.c
	if b.gamma == nil || len(st.mean) != ch {
		return fmt.Errorf("BatchNormalization: Backward before Forward")
	}
	dy := dout[0].Data
	// The residual's gradient, where one is wanted, is g = dy*act'(y).
	var dres []float32
	if b.Residual && len(din) > 1 && din[1] != nil {
		dres = din[1].Data
	}
	// With a fused activation the passes take g = dy * act'(y) instead of
	// dy: the first pass writes it (yact) into dres or scratch, the second
	// reads it.
	var yact, gact []float32
	if b.Act.Kind != "" {
		if err := convCheckAct("BatchNormalization", b.Act); err != nil {
			return err
		}
		if len(out) < 1 || out[0] == nil {
			return fmt.Errorf("BatchNormalization: Backward with a fused activation needs the output")
		}
		yact, gact = out[0].Data, dres
		if gact == nil {
			gact = c.Scratch(len(dy))
		}
	} else if dres != nil {
		copy(dres, dy)
	}
	mean, inv := st.mean[:ch], st.inv[:ch]
	g := b.gamma.Value.Data[:ch]
	learn := b.gamma.Grad != nil || b.beta.Grad != nil
	var x, dx []float32
	if in[0] != nil {
		x = in[0].Data
	}
	if din[0] != nil {
		dx = din[0].Data
	}
	if (st.batch || b.gamma.Grad != nil) && x == nil {
		return fmt.Errorf("BatchNormalization: Backward needs the input")
	}
	a := st.ca[:ch]
	for j := range ch {
		a[j] = g[j] * inv[j]
	}
	if !learn && dx == nil { // only the residual's gradient
		if yact != nil && dres != nil {
			convActGrad(&st.act, b.Act, dres, dy, yact)
		}
		return nil
	}
	if !st.batch {
		switch {
		case learn: // the sums, and dx = A*dy in the same pass
			st.task = chanTask{mode: chanGradSums, x: x, dy: dy, y: dx, mean: mean, a: a, act: b.Act, yact: yact, g: gact}
			sdy, sdx := st.pass(len(dy), ch, true)
			b.addParamGrads(sdy, sdx, inv)
		case dx != nil:
			if yact != nil {
				convActGrad(&st.act, b.Act, gact, dy, yact)
				dy = gact
			}
			st.task = chanTask{mode: chanScale, dy: dy, y: dx, a: a}
			st.pass(len(dy), ch, false)
		}
		return nil
	}
	st.task = chanTask{mode: chanGradSums, x: x, dy: dy, mean: mean, act: b.Act, yact: yact, g: gact}
	sdy, sdx := st.pass(len(dy), ch, true)
	if yact != nil {
		dy = gact // written by the pass
	}
	b.addParamGrads(sdy, sdx, inv)
	if dx == nil {
		return nil
	}
	cb, cc := st.cb[:ch], st.cc[:ch]
	m := float64(len(dy) / ch)
	for j := range ch {
		iv, aj := float64(inv[j]), float64(a[j])
		// xhat*mean(dy*xhat) = (x-mean) * inv^2 * sdx/m.
		cb[j] = float32(-aj * iv * iv * sdx[j] / m)
		cc[j] = float32(-aj * sdy[j] / m)
	}
	st.task = chanTask{mode: chanGradInput, x: x, dy: dy, y: dx, mean: mean, a: a, b: cb, cc: cc}
	st.pass(len(dy), ch, false)
	return nil
}

// addParamGrads adds dgamma = invStd*sum(dy*(x-mean)) and dbeta = sum(dy)
// where they learn.
func (b *BatchNorm) addParamGrads(sdy, sdx []float64, inv []float32) {
	if p := b.gamma.Grad; p != nil {
		for j := range b.c {
			p.Data[j] += float32(sdx[j] * float64(inv[j]))
		}
	}
	if p := b.beta.Grad; p != nil {
		for j := range b.c {
			p.Data[j] += float32(sdy[j])
		}
	}
}
