package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// DefaultLNEpsilon is Keras' LayerNormalization epsilon, used when
// NewLayerNorm gets 0. PyTorch's nn.LayerNorm and ONNX use 1e-5.
const DefaultLNEpsilon = 1e-3

// LayerNorm normalises each sample over its last Axes axes (the
// features of a token, or H, W and C of an image):
//
//	y = gamma * (x - mean) / sqrt(var + Epsilon) + beta
//
// with mean and (biased) variance over those axes, and gamma and beta of
// their shape. Training and inference compute the same thing. This is
// PyTorch's nn.LayerNorm(normalized_shape) and ONNX LayerNormalization with
// axis = -Axes.
type LayerNorm struct {
	// Axes is how many trailing axes are normalised; 0 means 1.
	Axes    int     `json:"axes,omitempty"`
	Epsilon float32 `json:"epsilon"`

	gamma, beta *Param
	shape       []int // the normalised axes' dimensions
}

// NewLayerNorm returns a layer normalisation over the last axis; epsilon 0
// selects DefaultLNEpsilon (Keras'). Set Axes to normalise over more.
func NewLayerNorm(epsilon float32) *LayerNorm {
	if epsilon == 0 {
		epsilon = DefaultLNEpsilon
	}
	return &LayerNorm{Epsilon: epsilon}
}

func init() {
	mustRegister(func() Op { return NewLayerNorm(0) })
}

// Kind is "LayerNormalization", Keras' name.
func (l *LayerNorm) Kind() string { return "LayerNormalization" }

// Saves: the input; Backward recomputes x-hat with the per-row statistics
// of the op state.
func (l *LayerNorm) Saves() (inputs, outputs bool) { return true, false }

// InPlace: the output may be written over the input (at inference): a
// row's values are all read before they are written.
func (l *LayerNorm) InPlace() bool { return true }

func (l *LayerNorm) axes() int { return max(l.Axes, 1) }

// Shapes checks the settings and that the normalised axes are those built
// for; the output has the input's shape.
func (l *LayerNorm) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if !(l.Epsilon > 0) || math.IsInf(float64(l.Epsilon), 1) {
		return nil, fmt.Errorf("LayerNormalization: epsilon %v must be > 0", l.Epsilon)
	}
	if l.Axes < 0 {
		return nil, fmt.Errorf("LayerNormalization: axes %d must be >= 1 (0 means 1)", l.Axes)
	}
	s := in[0]
	k := l.axes()
	if len(s) < k+1 {
		return nil, fmt.Errorf("LayerNormalization: input shape %s has fewer than %d axes after the batch axis", shapeText(s), k)
	}
	for i, d := range s[len(s)-k:] {
		if d == 0 || d < -1 {
			return nil, fmt.Errorf("LayerNormalization: input shape %s is empty", shapeText(s))
		}
		if l.gamma != nil && d != -1 && d != l.shape[i] {
			return nil, fmt.Errorf("LayerNormalization: input shape %s, built for normalised axes %s", shapeText(s), tensor.ShapeString(l.shape))
		}
	}
	return [][]int{s}, nil
}

// Build makes gamma = 1 and beta = 0 of the normalised axes' shape.
func (l *LayerNorm) Build(in [][]int, _ *rand.Rand) error {
	s := in[0]
	shape := append([]int(nil), s[len(s)-l.axes():]...)
	for _, d := range shape {
		if d < 1 {
			return fmt.Errorf("LayerNormalization: the normalised axes must be known when the graph is built, got %s", shapeText(s))
		}
	}
	l.shape = shape
	l.gamma = NewParam("gamma", tensor.New(shape...))
	l.gamma.Value.Fill(1)
	l.beta = NewParam("beta", tensor.New(shape...))
	return nil
}

// Params returns gamma and beta.
func (l *LayerNorm) Params() []*Param {
	if l.gamma == nil {
		return nil
	}
	return []*Param{l.gamma, l.beta}
}

// Gamma and Beta are the params (nil before Build).
func (l *LayerNorm) Gamma() *Param { return l.gamma }
func (l *LayerNorm) Beta() *Param  { return l.beta }

// lnState is the per-session state: per-row statistics of the last
// Forward, and the task splitting the passes over the cores.
type lnState struct {
	mean, inv []float32 // per row
	acc       []float64 // 2 per feature: dgamma and dbeta sums (Backward)
	task      lnTask
}

// lnTask is one LayerNorm pass: over rows (forward, dx) or over feature
// columns (the param gradients).
type lnTask struct {
	mode        int // lnForward, lnGradInput, lnGradParams
	d           int // features per row
	eps         float32
	x, y, dy    []float32
	gamma, beta []float32
	mean, inv   []float32
	acc         []float64
}

const (
	lnForward = iota
	lnGradInput
	lnGradParams
)

// Run implements kernels.Task: rows, or feature columns, [lo, hi).
func (t *lnTask) Run(lo, hi int) {
	d := t.d
	switch t.mode {
	case lnForward:
		kernels.LayerNormRows(t.y[lo*d:hi*d], t.x[lo*d:hi*d], t.gamma, t.beta, t.mean[lo:hi], t.inv[lo:hi], t.eps)
	case lnGradInput:
		kernels.LayerNormRowsGrad(t.y[lo*d:hi*d], t.dy[lo*d:hi*d], t.x[lo*d:hi*d], t.gamma, t.mean[lo:hi], t.inv[lo:hi])
	case lnGradParams:
		kernels.LayerNormParamGrads(t.acc[lo:hi], t.acc[d+lo:d+hi], t.dy, t.x, t.mean, t.inv, d, lo)
	}
}

// Forward normalises every row of the last Axes axes
// (kernels.LayerNormRows: float32 sums in 8 lanes, the variance of the
// centred values).
func (l *LayerNorm) Forward(c *Call, in, out []*tensor.Tensor) error {
	if l.gamma == nil {
		return fmt.Errorf("LayerNormalization: Forward before Build")
	}
	x := in[0].Data
	d := l.gamma.Value.Len()
	rows := len(x) / d
	st := stateOf[lnState](c)
	if cap(st.mean) < rows {
		st.mean, st.inv = make([]float32, rows), make([]float32, rows)
	}
	st.mean, st.inv = st.mean[:rows], st.inv[:rows]
	st.task = lnTask{mode: lnForward, d: d, eps: l.Epsilon, x: x, y: out[0].Data,
		gamma: l.gamma.Value.Data, beta: l.beta.Value.Data, mean: st.mean, inv: st.inv}
	kernels.Parallel(rows, max(1, ewGrain/(4*d)), &st.task)
	st.task = lnTask{}
	return nil
}

// Backward adds dgamma = sum(dy*xhat) and dbeta = sum(dy) over the rows
// (float64 sums, split over the cores by feature columns) and writes
// dx = invStd * (g - mean(g) - xhat*mean(g*xhat)) per row, with
// g = dy*gamma (kernels.LayerNormRowsGrad).
func (l *LayerNorm) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	st := stateOf[lnState](c)
	if l.gamma == nil || st.mean == nil {
		return fmt.Errorf("LayerNormalization: Backward before Forward")
	}
	x, dy := in[0].Data, dout[0].Data
	d := l.gamma.Value.Len()
	rows := len(x) / d
	if len(st.mean) != rows {
		return fmt.Errorf("LayerNormalization: Backward on %d rows after a Forward on %d", rows, len(st.mean))
	}
	if din[0] != nil {
		st.task = lnTask{mode: lnGradInput, d: d, x: x, dy: dy, y: din[0].Data,
			gamma: l.gamma.Value.Data, mean: st.mean, inv: st.inv}
		kernels.Parallel(rows, max(1, ewGrain/(8*d)), &st.task)
	}
	dg, db := l.gamma.Grad, l.beta.Grad
	if dg != nil || db != nil {
		if len(st.acc) != 2*d {
			st.acc = make([]float64, 2*d)
		}
		st.task = lnTask{mode: lnGradParams, d: d, x: x, dy: dy, mean: st.mean, inv: st.inv, acc: st.acc}
		kernels.Parallel(d, max(1, ewGrain/(4*rows)), &st.task)
		if dg != nil {
			for j, v := range st.acc[:d] {
				dg.Data[j] += float32(v)
			}
		}
		if db != nil {
			for j, v := range st.acc[d:] {
				db.Data[j] += float32(v)
			}
		}
	}
	st.task = lnTask{}
	return nil
}
