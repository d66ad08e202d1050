package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every trainable param from its Grad.
	Step(params []*nn.Param) error
	// LearningRate is the base learning rate (before any Decay).
	LearningRate() float64
	// SetLearningRate changes it, e.g. from a schedule between epochs.
	SetLearningRate(lr float64)
	// Name is the optimizer's name as recorded in a model file ("sgd",
	// "adam", "rmsprop").
	Name() string
	// Iterations is the number of Steps taken.
	Iterations() int64
	// State exports the slots and the iteration count for params (the
	// same list, in the same order, as given to Step).
	State(params []*nn.Param) (*State, error)
	// LoadState restores a State exported for the same params.
	LoadState(params []*nn.Param, s *State) error
}

// State is an optimizer's resumable state. Slots are keyed
// "<slot>/<index>", index being the param's position in the list given to
// State, e.g. "m/3" for Adam's first moment of the fourth param; params
// without slots (non-trainable, or never stepped) have no keys.
type State struct {
	Name         string               `json:"name"`
	Iterations   int64                `json:"iterations"`
	LearningRate float64              `json:"learning_rate"`
	Slots        map[string][]float32 `json:"slots"`
}

// slots is the machinery the optimizers share: per-param buffers, the
// iteration count and the learning rate.
type slots struct {
	name  string
	names []string // slot names, e.g. {"m", "v"}
	iter  int64
	buf   map[*nn.Param][][]float32
}

func newSlots(name string, names ...string) slots {
	return slots{name: name, names: names, buf: map[*nn.Param][][]float32{}}
}

// get returns p's slots, allocating zeroed ones the first time.
func (s *slots) get(p *nn.Param) [][]float32 {
	b, ok := s.buf[p]
	if !ok {
		b = make([][]float32, len(s.names))
		for i := range b {
			b[i] = make([]float32, len(p.Value.Data))
		}
		s.buf[p] = b
	}
	return b
}

// check validates the params before an update.
func (s *slots) check(params []*nn.Param) error {
	for i, p := range params {
		if p == nil || !p.Trainable {
			continue
		}
		if p.Value == nil || p.Grad == nil {
			return fmt.Errorf("%s: trainable param %d (%q) has no value or gradient", s.name, i, p.Name)
		}
		if len(p.Grad.Data) != len(p.Value.Data) {
			return fmt.Errorf("%s: param %d (%q) has %d values but %d gradients", s.name, i, p.Name, len(p.Value.Data), len(p.Grad.Data))
		}
	}
	return nil
}

func (s *slots) Name() string      { return s.name }
func (s *slots) Iterations() int64 { return s.iter }

func (s *slots) state(params []*nn.Param, lr float64) (*State, error) {
	st := &State{Name: s.name, Iterations: s.iter, LearningRate: lr, Slots: map[string][]float32{}}
	for i, p := range params {
		b, ok := s.buf[p]
		if !ok {
			continue
		}
		for k, name := range s.names {
			st.Slots[name+"/"+strconv.Itoa(i)] = append([]float32(nil), b[k]...)
		}
	}
	return st, nil
}

// load restores st, checking every key and length before changing anything.
func (s *slots) load(params []*nn.Param, st *State) error {
	if st == nil {
		return fmt.Errorf("%s: nil state", s.name)
	}
	if st.Name != s.name {
		return fmt.Errorf("%s: state is for optimizer %q", s.name, st.Name)
	}
	if !(st.LearningRate >= 0) || math.IsInf(st.LearningRate, 0) {
		return fmt.Errorf("%s: state has learning rate %v", s.name, st.LearningRate)
	}
	if st.Iterations < 0 {
		return fmt.Errorf("%s: state has negative iteration count %d", s.name, st.Iterations)
	}
	for key, v := range st.Slots {
		name, idx, ok := strings.Cut(key, "/")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || !s.hasSlot(name) {
			return fmt.Errorf("%s: unknown state key %q", s.name, key)
		}
		if i < 0 || i >= len(params) || params[i] == nil || !params[i].Trainable || params[i].Value == nil {
			return fmt.Errorf("%s: state key %q names no trainable param (%d params)", s.name, key, len(params))
		}
		if len(v) != len(params[i].Value.Data) {
			return fmt.Errorf("%s: state key %q has %d values, param %q has %d", s.name, key, len(v), params[i].Name, len(params[i].Value.Data))
		}
	}
	if len(s.names) > 0 {
		for i, p := range params {
			if p == nil || !p.Trainable {
				continue
			}
			n := 0
			for _, name := range s.names {
				if _, ok := st.Slots[name+"/"+strconv.Itoa(i)]; ok {
					n++
				}
			}
			if n != 0 && n != len(s.names) {
				return fmt.Errorf("%s: state has only some slots of param %d (%q)", s.name, i, p.Name)
			}
		}
	}
	s.iter = st.Iterations
	clear(s.buf)
	if len(s.names) == 0 {
		return nil
	}
	for i, p := range params {
		if _, ok := st.Slots[s.names[0]+"/"+strconv.Itoa(i)]; !ok {
			continue // never stepped, or not trainable
		}
		b := s.get(p)
		for k, name := range s.names {
			copy(b[k], st.Slots[name+"/"+strconv.Itoa(i)])
		}
	}
	return nil
}

func (s *slots) hasSlot(name string) bool {
	for _, n := range s.names {
		if n == name {
			return true
		}
	}
	return false
}
