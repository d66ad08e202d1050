package optim

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
)

// DefaultSGDLearningRate is Keras' default, used when NewSGD gets lr 0.
const DefaultSGDLearningRate = 0.01

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and Keras' time-based decay. In Keras' form, with
// lr_t = LR / (1 + Decay*iterations):
//
//	v = Momentum*v - lr_t*g
//	w += v                      (plain momentum)
//	w += Momentum*v - lr_t*g    (Nesterov)
//
// PyTorch's SGD keeps b = Momentum*b + g and steps w -= lr*b (Nesterov:
// w -= lr*(g + Momentum*b)). With a constant learning rate the two agree
// (v = -lr*b); when the rate changes, Keras' velocity keeps the old rate's
// steps while PyTorch rescales them at once.
type SGD struct {
	LR       float64 `json:"learning_rate"`
	Momentum float64 `json:"momentum"`
	Nesterov bool    `json:"nesterov"`
	Decay    float64 `json:"decay"`

	slots
}

// NewSGD returns SGD with learning rate lr (0 selects
// DefaultSGDLearningRate), momentum in [0, 1) and optional Nesterov
// momentum.
func NewSGD(lr, momentum float64, nesterov bool) *SGD {
	if lr == 0 {
		lr = DefaultSGDLearningRate
	}
	return &SGD{LR: lr, Momentum: momentum, Nesterov: nesterov, slots: newSlots("sgd", "momentum")}
}

func (o *SGD) LearningRate() float64      { return o.LR }
func (o *SGD) SetLearningRate(lr float64) { o.LR = lr }

// Step applies one update.
func (o *SGD) Step(params []*nn.Param) error {
	if !(o.LR >= 0) || !(o.Momentum >= 0 && o.Momentum < 1) || !(o.Decay >= 0) {
		return fmt.Errorf("sgd: learning_rate %v, momentum %v, decay %v: want lr >= 0, 0 <= momentum < 1, decay >= 0", o.LR, o.Momentum, o.Decay)
	}
	if err := o.check(params); err != nil {
		return err
	}
	lr := float32(o.LR / (1 + o.Decay*float64(o.iter)))
	m := float32(o.Momentum)
	for _, p := range params {
		if p == nil || !p.Trainable {
			continue
		}
		w, g := p.Value.Data, p.Grad.Data[:len(p.Value.Data)]
		if m == 0 {
			kernels.Axpy(-lr, g, w) // w -= lr*g, vectorised
			continue
		}
		v := o.get(p)[0][:len(w)]
		if o.Nesterov {
			for i := range w {
				v[i] = m*v[i] - lr*g[i]
				w[i] += m*v[i] - lr*g[i]
			}
			continue
		}
		kernels.Scal(m, v) // v = m*v - lr*g; w += v
		kernels.Axpy(-lr, g, v)
		kernels.Axpy(1, v, w)
	}
	o.iter++
	return nil
}

// State exports the velocities.
func (o *SGD) State(params []*nn.Param) (*State, error) { return o.state(params, o.LR) }

// LoadState restores State's output, learning rate included.
func (o *SGD) LoadState(params []*nn.Param, s *State) error {
	if err := o.load(params, s); err != nil {
		return err
	}
	o.LR = s.LearningRate
	return nil
}
