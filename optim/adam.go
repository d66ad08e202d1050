package optim

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/nn"
)

// Keras' Adam defaults, used when NewAdam gets zeros.
const (
	DefaultAdamLearningRate = 0.001
	DefaultAdamBeta1        = 0.9
	DefaultAdamBeta2        = 0.999
	DefaultAdamEpsilon      = 1e-7
)

// Adam is Kingma and Ba's optimizer in Keras' form. With t the step
// number from 1:
//
//	m = Beta1*m + (1-Beta1)*g
//	v = Beta2*v + (1-Beta2)*g^2
//	w -= LR*sqrt(1-Beta2^t)/(1-Beta1^t) * m / (sqrt(v) + Epsilon)
//
// This puts Epsilon outside the bias correction ("epsilon hat" in the
// paper). PyTorch's Adam divides by sqrt(v/(1-Beta2^t)) + eps instead, so
// its eps is Epsilon/sqrt(1-Beta2^t) here; with the default 1e-7 and
// non-tiny gradients the two agree to about 1e-6. PyTorch's default eps is
// 1e-8.
type Adam struct {
	LR      float64 `json:"learning_rate"`
	Beta1   float64 `json:"beta_1"`
	Beta2   float64 `json:"beta_2"`
	Epsilon float64 `json:"epsilon"`

	slots
}

// NewAdam returns Adam; a zero argument selects Keras' default (0.001,
// 0.9, 0.999, 1e-7).
func NewAdam(lr, beta1, beta2, eps float64) *Adam {
	return &Adam{LR: orDefault(lr, DefaultAdamLearningRate), Beta1: orDefault(beta1, DefaultAdamBeta1),
		Beta2: orDefault(beta2, DefaultAdamBeta2), Epsilon: orDefault(eps, DefaultAdamEpsilon),
		slots: newSlots("adam", "m", "v")}
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

func (o *Adam) LearningRate() float64      { return o.LR }
func (o *Adam) SetLearningRate(lr float64) { o.LR = lr }

// Step applies one update.
func (o *Adam) Step(params []*nn.Param) error {
	if !(o.LR >= 0) || !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1) || !(o.Epsilon >= 0) {
		return fmt.Errorf("adam: learning_rate %v, beta_1 %v, beta_2 %v, epsilon %v: want lr >= 0, betas in [0, 1), epsilon >= 0",
			o.LR, o.Beta1, o.Beta2, o.Epsilon)
	}
	if err := o.check(params); err != nil {
		return err
	}
	t := float64(o.iter + 1)
	alpha := float32(o.LR * math.Sqrt(1-math.Pow(o.Beta2, t)) / (1 - math.Pow(o.Beta1, t)))
	b1, b2, eps := float32(o.Beta1), float32(o.Beta2), float32(o.Epsilon)
	for _, p := range params {
		if p == nil || !p.Trainable {
			continue
		}
		s := o.get(p)
		w := p.Value.Data
		g, m, v := p.Grad.Data[:len(w)], s[0][:len(w)], s[1][:len(w)]
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			w[i] -= alpha * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
	o.iter++
	return nil
}

// State exports the moments m and v.
func (o *Adam) State(params []*nn.Param) (*State, error) { return o.state(params, o.LR) }

// LoadState restores State's output, learning rate included.
func (o *Adam) LoadState(params []*nn.Param, s *State) error {
	if err := o.load(params, s); err != nil {
		return err
	}
	o.LR = s.LearningRate
	return nil
}
