package optim

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/nn"
)

// Keras' RMSprop defaults, used when NewRMSprop gets zeros.
const (
	DefaultRMSpropLearningRate = 0.001
	DefaultRMSpropRho          = 0.9
	DefaultRMSpropEpsilon      = 1e-7
)

// RMSprop divides the gradient by a running root mean square:
//
//	v = Rho*v + (1-Rho)*g^2
//	w -= LR * g / (sqrt(v) + Epsilon)
//
// as Keras 3 and PyTorch's RMSprop (alpha = Rho) do; v starts at 0. (The
// TensorFlow kernel behind Keras 2 used sqrt(v + Epsilon).) Momentum and
// the centred variant are not implemented.
type RMSprop struct {
	LR      float64 `json:"learning_rate"`
	Rho     float64 `json:"rho"`
	Epsilon float64 `json:"epsilon"`

	slots
}

// NewRMSprop returns RMSprop; a zero argument selects Keras' default
// (0.001, 0.9, 1e-7).
func NewRMSprop(lr, rho, eps float64) *RMSprop {
	return &RMSprop{LR: orDefault(lr, DefaultRMSpropLearningRate), Rho: orDefault(rho, DefaultRMSpropRho),
		Epsilon: orDefault(eps, DefaultRMSpropEpsilon), slots: newSlots("rmsprop", "velocity")}
}

func (o *RMSprop) LearningRate() float64      { return o.LR }
func (o *RMSprop) SetLearningRate(lr float64) { o.LR = lr }

// Step applies one update.
func (o *RMSprop) Step(params []*nn.Param) error {
	if !(o.LR >= 0) || !(o.Rho >= 0 && o.Rho < 1) || !(o.Epsilon >= 0) {
		return fmt.Errorf("rmsprop: learning_rate %v, rho %v, epsilon %v: want lr >= 0, 0 <= rho < 1, epsilon >= 0", o.LR, o.Rho, o.Epsilon)
	}
	if err := o.check(params); err != nil {
		return err
	}
	lr, rho, eps := float32(o.LR), float32(o.Rho), float32(o.Epsilon)
	for _, p := range params {
		if p == nil || !p.Trainable {
			continue
		}
		w := p.Value.Data
		g, v := p.Grad.Data[:len(w)], o.get(p)[0][:len(w)]
		for i := range w {
			v[i] = rho*v[i] + (1-rho)*g[i]*g[i]
			w[i] -= lr * g[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
	o.iter++
	return nil
}

// State exports the mean squares.
func (o *RMSprop) State(params []*nn.Param) (*State, error) { return o.state(params, o.LR) }

// LoadState restores State's output, learning rate included.
func (o *RMSprop) LoadState(params []*nn.Param, s *State) error {
	if err := o.load(params, s); err != nil {
		return err
	}
	o.LR = s.LearningRate
	return nil
}

var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*RMSprop)(nil)
)
