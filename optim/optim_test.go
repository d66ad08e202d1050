package optim

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

func param(vals ...float32) *nn.Param {
	v, _ := tensor.FromSlice(vals, len(vals))
	return nn.NewParam("w", v)
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// Hand-computed updates for a single weight w = 1 with gradient g = 0.5 at
// every step, then 2 at the third.
func TestHandComputed(t *testing.T) {
	grads := []float32{0.5, 0.5, 2}
	run := func(o Optimizer) []float64 {
		p := param(1)
		var out []float64
		for _, g := range grads {
			p.Grad.Data[0] = g
			if err := o.Step([]*nn.Param{p}); err != nil {
				t.Fatal(err)
			}
			out = append(out, float64(p.Value.Data[0]))
		}
		return out
	}
	// SGD lr 0.1: w -= 0.1 g.
	for i, w := range run(NewSGD(0.1, 0, false)) {
		near(t, "sgd", w, []float64{0.95, 0.9, 0.7}[i])
	}
	// Momentum 0.9: v1 = -0.05, v2 = -0.045-0.05 = -0.095, v3 = -0.0855-0.2 = -0.2855.
	for i, w := range run(NewSGD(0.1, 0.9, false)) {
		near(t, "sgd momentum", w, []float64{0.95, 0.855, 0.5695}[i])
	}
	// Nesterov: w += 0.9 v - 0.1 g: -0.095, -0.1355, -0.45695.
	for i, w := range run(NewSGD(0.1, 0.9, true)) {
		near(t, "sgd nesterov", w, []float64{0.905, 0.7695, 0.31255}[i])
	}
	// Decay 1: lr 0.1, 0.05, 0.0333.
	s := NewSGD(0.1, 0, false)
	s.Decay = 1
	for i, w := range run(s) {
		near(t, "sgd decay", w, []float64{0.95, 0.925, 0.925 - 2*0.1/3}[i])
	}
	// Adam with a large epsilon, which pins where it goes (Keras' form).
	// t=1: m=0.05, v=0.00025, alpha = 0.1*sqrt(0.001)/0.1,
	// step = alpha*m/(sqrt(v)+0.1).
	a := NewAdam(0.1, 0.9, 0.999, 0.1)
	w := run(a)
	alpha1 := 0.1 * math.Sqrt(1-0.999) / (1 - 0.9)
	near(t, "adam step 1", w[0], 1-alpha1*0.05/(math.Sqrt(0.00025)+0.1))
	m2, v2 := 0.9*0.05+0.05, 0.999*0.00025+0.001*0.25
	alpha2 := 0.1 * math.Sqrt(1-0.999*0.999) / (1 - 0.81)
	near(t, "adam step 2", w[1], w[0]-alpha2*m2/(math.Sqrt(v2)+0.1))
	// RMSprop rho 0.9 eps 0.1: v1 = 0.025, v2 = 0.0475, v3 = 0.44275.
	r := run(NewRMSprop(0.1, 0.9, 0.1))
	w1 := 1 - 0.1*0.5/(math.Sqrt(0.025)+0.1)
	w2 := w1 - 0.1*0.5/(math.Sqrt(0.0475)+0.1)
	near(t, "rmsprop", r[0], w1)
	near(t, "rmsprop", r[1], w2)
	near(t, "rmsprop", r[2], w2-0.1*2/(math.Sqrt(0.44275)+0.1))
}

func TestDefaults(t *testing.T) {
	a := NewAdam(0, 0, 0, 0)
	if a.LR != 0.001 || a.Beta1 != 0.9 || a.Beta2 != 0.999 || a.Epsilon != 1e-7 || a.Name() != "adam" {
		t.Errorf("Adam defaults %+v", a)
	}
	r := NewRMSprop(0, 0, 0)
	if r.LR != 0.001 || r.Rho != 0.9 || r.Epsilon != 1e-7 || r.Name() != "rmsprop" {
		t.Errorf("RMSprop defaults %+v", r)
	}
	s := NewSGD(0, 0, false)
	if s.LR != 0.01 || s.Name() != "sgd" {
		t.Errorf("SGD defaults %+v", s)
	}
	s.SetLearningRate(0.5)
	if s.LearningRate() != 0.5 {
		t.Error("SetLearningRate")
	}
}

type torchOptim struct {
	Shapes [][]int
	Init   [][]float32
	Grads  [][][]float32
	Cases  map[string]struct {
		LR, Momentum, Decay, Beta1, Beta2, Eps, Rho float64
		Nesterov                                    bool
		Traj                                        [][][]float32
	}
}

func TestTorchTrajectories(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_optim.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f torchOptim
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("torch_optim.json: %v", err)
	}
	if len(f.Cases) != 7 {
		t.Fatalf("%d cases in torch_optim.json, want 7", len(f.Cases))
	}
	for name, c := range f.Cases {
		var o Optimizer
		switch {
		case strings.HasPrefix(name, "sgd"):
			s := NewSGD(c.LR, c.Momentum, c.Nesterov)
			s.Decay = c.Decay
			o = s
		case strings.HasPrefix(name, "adam"):
			o = NewAdam(c.LR, c.Beta1, c.Beta2, c.Eps)
		case name == "rmsprop":
			o = NewRMSprop(c.LR, c.Rho, c.Eps)
		default:
			t.Fatalf("unknown case %q", name)
		}
		var params []*nn.Param
		for _, v := range f.Init {
			params = append(params, param(append([]float32(nil), v...)...))
		}
		for step, g := range f.Grads {
			for i, p := range params {
				copy(p.Grad.Data, g[i])
			}
			if err := o.Step(params); err != nil {
				t.Fatal(err)
			}
			for i, p := range params {
				for j, v := range p.Value.Data {
					want := float64(c.Traj[step][i][j])
					if math.Abs(float64(v)-want) > 1e-4*math.Max(math.Abs(want), 1e-2) {
						t.Fatalf("%s step %d param %d[%d] = %.8g, torch %.8g", name, step+1, i, j, v, want)
					}
				}
			}
		}
	}
}

// Stopping after k steps, saving State through JSON and loading it into a
// fresh optimizer continues exactly as an uninterrupted run.
func TestResumeExactly(t *testing.T) {
	makers := map[string]func() Optimizer{
		"sgd":     func() Optimizer { s := NewSGD(0.1, 0.9, true); s.Decay = 0.1; return s },
		"sgd0":    func() Optimizer { return NewSGD(0.1, 0, false) },
		"adam":    func() Optimizer { return NewAdam(0.01, 0, 0, 0) },
		"rmsprop": func() Optimizer { return NewRMSprop(0.01, 0, 0) },
	}
	for name, mk := range makers {
		newParams := func() []*nn.Param {
			frozen := param(7, 8)
			frozen.Trainable, frozen.Grad = false, nil
			return []*nn.Param{param(1, 2, 3), frozen, param(-1, 0.5)}
		}
		grad := func(params []*nn.Param, step int) {
			for i, p := range params {
				if p.Trainable {
					for j := range p.Grad.Data {
						p.Grad.Data[j] = float32(math.Sin(float64(step*7 + i*3 + j)))
					}
				}
			}
		}
		ref, refP := mk(), newParams()
		for step := range 6 {
			grad(refP, step)
			if err := ref.Step(refP); err != nil {
				t.Fatal(err)
			}
		}
		first, p := mk(), newParams()
		for step := range 3 {
			grad(p, step)
			first.Step(p)
		}
		st, err := first.State(p)
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		second := mk()
		second.SetLearningRate(123) // LoadState restores the rate
		if err := second.LoadState(p, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if second.Iterations() != 3 || second.LearningRate() != first.LearningRate() {
			t.Fatalf("%s: restored iterations %d lr %v", name, second.Iterations(), second.LearningRate())
		}
		for step := 3; step < 6; step++ {
			grad(p, step)
			second.Step(p)
		}
		for i := range p {
			for j, v := range p[i].Value.Data {
				if v != refP[i].Value.Data[j] {
					t.Errorf("%s: resumed param %d[%d] = %v, uninterrupted %v", name, i, j, v, refP[i].Value.Data[j])
				}
			}
		}
		if p[1].Value.Data[0] != 7 || p[1].Value.Data[1] != 8 {
			t.Errorf("%s: non-trainable param changed to %v", name, p[1].Value.Data)
		}
	}
}

func TestStateErrors(t *testing.T) {
	params := []*nn.Param{param(1, 2), param(3)}
	a := NewAdam(0, 0, 0, 0)
	for _, p := range params {
		p.Grad.Fill(1)
	}
	a.Step(params)
	st, _ := a.State(params)
	if len(st.Slots) != 4 {
		t.Fatalf("adam state has %d slots, want 4: %v", len(st.Slots), st.Slots)
	}
	bad := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"wrong optimizer", func(s *State) { s.Name = "sgd" }, "sgd"},
		{"unknown key", func(s *State) { s.Slots["q/0"] = []float32{1, 2} }, "q/0"},
		{"bad index", func(s *State) { s.Slots["m/5"] = []float32{1} }, "m/5"},
		{"wrong length", func(s *State) { s.Slots["m/1"] = []float32{1, 2} }, "m/1"},
		{"missing slot", func(s *State) { delete(s.Slots, "v/0") }, "some slots"},
	}
	for _, b := range bad {
		st, _ := a.State(params)
		b.edit(st)
		err := NewAdam(0, 0, 0, 0).LoadState(params, st)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want one naming %q", b.name, err, b.want)
		}
	}
	if err := NewAdam(-1, 0, 0, 0).Step(params); err == nil {
		t.Error("negative learning rate accepted")
	}
	if err := NewSGD(0.1, 1.5, false).Step(params); err == nil {
		t.Error("momentum 1.5 accepted")
	}
	params[0].Grad = tensor.New(3)
	if err := NewRMSprop(0, 0, 0).Step(params); err == nil {
		t.Error("gradient of the wrong size accepted")
	}
}

func TestStepNoAllocs(t *testing.T) {
	params := []*nn.Param{param(make([]float32, 100)...), param(make([]float32, 10)...)}
	for _, o := range []Optimizer{NewSGD(0.1, 0.9, true), NewAdam(0, 0, 0, 0), NewRMSprop(0, 0, 0)} {
		o.Step(params)
		if allocs := testing.AllocsPerRun(10, func() { o.Step(params) }); allocs != 0 {
			t.Errorf("%s: %v allocations per Step, want 0", o.Name(), allocs)
		}
	}
}

func TestSchedules(t *testing.T) {
	s := StepDecay(0.1, 0.5, 10)
	for _, c := range []struct {
		epoch int
		want  float64
	}{{0, 0.1}, {9, 0.1}, {10, 0.05}, {25, 0.025}} {
		near(t, "StepDecay", s(c.epoch), c.want)
	}
	near(t, "StepDecay every 0", StepDecay(0.1, 0.5, 0)(50), 0.1)
	lin := PolynomialDecay(0.1, 100, 1)
	near(t, "linear 0", lin(0), 0.1)
	near(t, "linear 25", lin(25), 0.075)
	near(t, "linear 100", lin(100), 0)
	near(t, "linear 150", lin(150), 0)
	near(t, "quadratic 50", PolynomialDecay(0.1, 100, 2)(50), 0.025)
}

// BenchmarkStep updates 1M parameters (bench/training compares with torch).
func BenchmarkStep(b *testing.B) {
	params := []*nn.Param{param(make([]float32, 1<<20)...)}
	params[0].Grad.Fill(0.1)
	for _, o := range []Optimizer{NewSGD(0.01, 0.9, false), NewAdam(0, 0, 0, 0), NewRMSprop(0, 0, 0)} {
		b.Run(o.Name(), func(b *testing.B) {
			b.SetBytes(4 << 20)
			for b.Loop() {
				o.Step(params)
			}
		})
	}
}

// FuzzLoadState feeds arbitrary JSON states (as read from a checkpoint) to
// LoadState: it must return an error or a state Step can use, never panic.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"name":"adam","iterations":3,"learning_rate":0.001,"slots":{"m/0":[1,2],"v/0":[1,2]}}`))
	f.Add([]byte(`{"name":"sgd","iterations":1,"slots":{"momentum/1":[0.5]}}`))
	f.Add([]byte(`{"name":"rmsprop","iterations":-1,"slots":{"velocity/9":[]}}`))
	f.Add([]byte(`{"name":"adam","slots":{"m/-1":[1],"v/x":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		for _, o := range []Optimizer{NewSGD(0.1, 0.9, false), NewAdam(0, 0, 0, 0), NewRMSprop(0, 0, 0)} {
			params := []*nn.Param{param(1, 2), param(3)}
			if o.LoadState(params, &st) != nil {
				continue
			}
			params[0].Grad.Fill(1)
			params[1].Grad.Fill(1)
			if err := o.Step(params); err != nil {
				t.Errorf("%s: Step after LoadState: %v", o.Name(), err)
			}
		}
	})
}
