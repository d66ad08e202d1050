package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/tensor"
)

// ProbEpsilon is the clipping bound Keras applies to probabilities before
// taking logs: p is clipped to [ProbEpsilon, 1-ProbEpsilon].
const ProbEpsilon = 1e-7

// checkPair validates pred and target for a loss.
func checkPair(name string, pred, target *tensor.Tensor) error {
	if pred == nil || target == nil {
		return fmt.Errorf("%s: nil prediction or target", name)
	}
	if !pred.SameShape(target) {
		return fmt.Errorf("%s: prediction shape %s and target shape %s differ",
			name, tensor.ShapeString(pred.Shape), tensor.ShapeString(target.Shape))
	}
	if pred.Dims() < 1 || len(pred.Data) == 0 {
		return fmt.Errorf("%s: empty prediction %s", name, tensor.ShapeString(pred.Shape))
	}
	return nil
}

// CategoricalCrossEntropy is -sum_j y_j log p_j per row (the last axis
// holds the classes), averaged over rows. With ClassWeights each row's loss
// is multiplied by the weight of its class (argmax of the target row, as
// Keras' fit(class_weight=...) does) and the sum is still divided by the
// number of rows N, not by the sum of weights (PyTorch's
// CrossEntropyLoss(weight=...) divides by the sum of weights):
//
//	L = sum_i w_i * loss_i / N
type CategoricalCrossEntropy struct {
	// ClassWeights, if set, holds one weight per class.
	ClassWeights []float32 `json:"class_weights,omitempty"`

	logits bool           // last forward was ForwardLogits
	w      []float32      // per-row weight from the last forward
	p      *tensor.Tensor // softmax (logits) or clipped normalised probabilities
	pred   *tensor.Tensor // the probabilities of the last Forward
	target *tensor.Tensor
	g      *tensor.Tensor
}

// NewCategoricalCrossEntropy returns the categorical cross-entropy loss.
func NewCategoricalCrossEntropy() *CategoricalCrossEntropy { return &CategoricalCrossEntropy{} }

func (l *CategoricalCrossEntropy) Name() string { return "categorical_crossentropy" }

// prepare checks shapes and fills the per-row weights.
func (l *CategoricalCrossEntropy) prepare(pred, target *tensor.Tensor) (rows, c int, err error) {
	if err := checkPair(l.Name(), pred, target); err != nil {
		return 0, 0, err
	}
	c = pred.Shape[pred.Dims()-1]
	rows = len(pred.Data) / c
	if l.ClassWeights != nil && len(l.ClassWeights) != c {
		return 0, 0, fmt.Errorf("%s: %d class weights for prediction shape %s (%d classes)",
			l.Name(), len(l.ClassWeights), tensor.ShapeString(pred.Shape), c)
	}
	if cap(l.w) < rows {
		l.w = make([]float32, rows)
	}
	l.w = l.w[:rows]
	for i := range rows {
		l.w[i] = 1
		if l.ClassWeights != nil {
			t := target.Data[i*c : i*c+c]
			best := 0
			for j, v := range t {
				if v > t[best] {
					best = j
				}
			}
			l.w[i] = l.ClassWeights[best]
		}
	}
	l.target = target
	l.p = tensor.Reuse(l.p, pred.Shape...)
	return rows, c, nil
}

// Forward takes probabilities. Like Keras it rescales each row to sum to
// 1 and clips to [ProbEpsilon, 1-ProbEpsilon] before the log.
func (l *CategoricalCrossEntropy) Forward(pred, target *tensor.Tensor) (float64, error) {
	rows, c, err := l.prepare(pred, target)
	if err != nil {
		return 0, err
	}
	l.logits, l.pred = false, pred
	total := 0.0
	for i := range rows {
		p, q, t := pred.Data[i*c:i*c+c], l.p.Data[i*c:i*c+c], target.Data[i*c:i*c+c]
		var s float64
		for _, v := range p {
			s += float64(v)
		}
		var li float64
		for j, v := range p {
			qj := float64(v) / s
			q[j] = float32(qj)
			li -= float64(t[j]) * math.Log(min(max(qj, ProbEpsilon), 1-ProbEpsilon))
		}
		total += float64(l.w[i]) * li
	}
	return total / float64(rows), nil
}

// ForwardLogits computes the loss of softmax(logits) with log-sum-exp:
// loss_i = sum_j y_j * (logsumexp(z) - z_j).
func (l *CategoricalCrossEntropy) ForwardLogits(logits, target *tensor.Tensor) (float64, error) {
	rows, c, err := l.prepare(logits, target)
	if err != nil {
		return 0, err
	}
	l.logits, l.pred = true, nil
	total := 0.0
	for i := range rows {
		z, s, t := logits.Data[i*c:i*c+c], l.p.Data[i*c:i*c+c], target.Data[i*c:i*c+c]
		m := z[0]
		for _, v := range z[1:] {
			m = max(m, v)
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v - m))
		}
		lse := float64(m) + math.Log(sum)
		var li float64
		for j, v := range z {
			s[j] = float32(math.Exp(float64(v) - lse))
			li += float64(t[j]) * (lse - float64(v))
		}
		total += float64(l.w[i]) * li
	}
	return total / float64(rows), nil
}

// Backward returns dL/dpred for Forward, or dL/dlogits for ForwardLogits:
// w_i/N * (softmax_j * sum_k y_k - y_j), which is (softmax - y) * w / N for
// one-hot targets.
func (l *CategoricalCrossEntropy) Backward() (*tensor.Tensor, error) {
	if l.target == nil {
		return nil, fmt.Errorf("%s: Backward before Forward", l.Name())
	}
	y := l.target
	c := y.Shape[y.Dims()-1]
	rows := len(y.Data) / c
	l.g = tensor.Reuse(l.g, y.Shape...)
	for i := range rows {
		q, t, g := l.p.Data[i*c:i*c+c], y.Data[i*c:i*c+c], l.g.Data[i*c:i*c+c]
		scale := float64(l.w[i]) / float64(rows)
		if l.logits {
			var sy float64
			for _, v := range t {
				sy += float64(v)
			}
			for j := range g {
				g[j] = float32(scale * (float64(q[j])*sy - float64(t[j])))
			}
			continue
		}
		// q = p/S, L = -sum_k y_k log clip(q_k):
		// dL/dp_j = (dL/dq_j - sum_k dL/dq_k q_k) / S, dL/dq_k = -y_k/q_k
		// inside the clip range and 0 outside.
		p := l.pred.Data[i*c : i*c+c]
		var s, dot float64
		for _, v := range p {
			s += float64(v)
		}
		for j, v := range q {
			if v > ProbEpsilon && v < 1-ProbEpsilon {
				dot -= float64(t[j]) // (-y_j/q_j) * q_j
			}
		}
		for j, v := range q {
			var dq float64
			if v > ProbEpsilon && v < 1-ProbEpsilon {
				dq = -float64(t[j]) / float64(v)
			}
			g[j] = float32(scale * (dq - dot) / s)
		}
	}
	return l.g, nil
}

// BinaryCrossEntropy is -(y log p + (1-y) log(1-p)) averaged over every
// value. On probabilities p is clipped to [ProbEpsilon, 1-ProbEpsilon] as
// in Keras. With FromLogits the input is z with p = sigmoid(z) and the loss
// is computed stably as max(z, 0) - z*y + log(1 + exp(-|z|)).
type BinaryCrossEntropy struct {
	FromLogits bool `json:"from_logits"`

	pred, target, g *tensor.Tensor
}

// NewBinaryCrossEntropy returns the binary cross-entropy loss on
// probabilities (set FromLogits for logits).
func NewBinaryCrossEntropy() *BinaryCrossEntropy { return &BinaryCrossEntropy{} }

func (l *BinaryCrossEntropy) Name() string { return "binary_crossentropy" }

func (l *BinaryCrossEntropy) Forward(pred, target *tensor.Tensor) (float64, error) {
	if err := checkPair(l.Name(), pred, target); err != nil {
		return 0, err
	}
	l.pred, l.target = pred, target
	total := 0.0
	for i, v := range pred.Data {
		y := float64(target.Data[i])
		if l.FromLogits {
			z := float64(v)
			total += max(z, 0) - z*y + math.Log1p(math.Exp(-math.Abs(z)))
			continue
		}
		p := min(max(float64(v), ProbEpsilon), 1-ProbEpsilon)
		total -= y*math.Log(p) + (1-y)*math.Log(1-p)
	}
	return total / float64(len(pred.Data)), nil
}

// Backward returns (sigmoid(z) - y)/n for logits, and
// (-y/p + (1-y)/(1-p))/n for probabilities (0 where p was clipped).
func (l *BinaryCrossEntropy) Backward() (*tensor.Tensor, error) {
	if l.target == nil {
		return nil, fmt.Errorf("%s: Backward before Forward", l.Name())
	}
	l.g = tensor.Reuse(l.g, l.pred.Shape...)
	n := float64(len(l.pred.Data))
	for i, v := range l.pred.Data {
		y := float64(l.target.Data[i])
		if l.FromLogits {
			l.g.Data[i] = float32((float64(sigmoid(v)) - y) / n)
			continue
		}
		p := float64(v)
		if p <= ProbEpsilon || p >= 1-ProbEpsilon {
			l.g.Data[i] = 0
			continue
		}
		l.g.Data[i] = float32((-y/p + (1-y)/(1-p)) / n)
	}
	return l.g, nil
}

// MeanSquaredError is mean((pred - target)^2) over every value.
type MeanSquaredError struct {
	pred, target, g *tensor.Tensor
}

// NewMeanSquaredError returns the mean-squared-error loss.
func NewMeanSquaredError() *MeanSquaredError { return &MeanSquaredError{} }

func (l *MeanSquaredError) Name() string { return "mean_squared_error" }

func (l *MeanSquaredError) Forward(pred, target *tensor.Tensor) (float64, error) {
	if err := checkPair(l.Name(), pred, target); err != nil {
		return 0, err
	}
	l.pred, l.target = pred, target
	total := 0.0
	for i, v := range pred.Data {
		d := float64(v) - float64(target.Data[i])
		total += d * d
	}
	return total / float64(len(pred.Data)), nil
}

// Backward returns 2*(pred - target)/n.
func (l *MeanSquaredError) Backward() (*tensor.Tensor, error) {
	if l.target == nil {
		return nil, fmt.Errorf("%s: Backward before Forward", l.Name())
	}
	l.g = tensor.Reuse(l.g, l.pred.Shape...)
	n := float32(len(l.pred.Data))
	for i, v := range l.pred.Data {
		l.g.Data[i] = 2 * (v - l.target.Data[i]) / n
	}
	return l.g, nil
}

var (
	_ LogitsLoss = (*CategoricalCrossEntropy)(nil)
	_ Loss       = (*BinaryCrossEntropy)(nil)
	_ Loss       = (*MeanSquaredError)(nil)
)
