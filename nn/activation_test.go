package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestActivationGrads(t *testing.T) {
	for _, tc := range []struct {
		l     Layer
		shape []int
	}{
		{NewReLU(), []int{3, 3, 3, 3}},
		{NewLeakyReLU(DefaultLeakyReLUAlpha), []int{3, 5}},
		{NewLeakyReLU(0.01), []int{1, 3, 3, 3}},
		{NewELU(1), []int{3, 3, 3, 3}},
		{NewELU(0.5), []int{3, 5}},
		{NewSigmoid(), []int{3, 3, 3, 3}},
		{NewTanh(), []int{3, 5}},
	} {
		t.Run(tc.l.Kind(), func(t *testing.T) {
			// Distinct inputs are 4/n apart and, with n odd, none is 0: the
			// perturbation never crosses the kink at 0.
			gradCheck(t, tc.l, tc.shape, gradOpts{Eps: 1e-3, Tol: 1e-2, Distinct: true})
		})
	}
}

func TestActivationValues(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{-2, -0.5, 0, 0.5, 3, -100, 100, 1e-3}, 2, 4)
	ref := map[string]func(float64) float64{
		"ReLU":      func(v float64) float64 { return math.Max(v, 0) },
		"LeakyReLU": func(v float64) float64 { return math.Max(v, 0.3*v) },
		"ELU": func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 1.5 * (math.Exp(v) - 1)
		},
		"Sigmoid": func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		"Tanh":    math.Tanh,
	}
	for _, l := range []Layer{NewReLU(), NewLeakyReLU(0.3), NewELU(1.5), NewSigmoid(), NewTanh()} {
		if _, err := l.Build([]int{4}, nil); err != nil {
			t.Fatal(err)
		}
		y, err := l.Forward(x, false)
		if err != nil {
			t.Fatal(err)
		}
		if !y.SameShape(x) {
			t.Fatalf("%s: shape %v", l.Kind(), y.Shape)
		}
		for i, v := range x.Data {
			want := ref[l.Kind()](float64(v))
			if got := float64(y.Data[i]); math.IsNaN(got) || math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s(%v) = %v, want %v", l.Kind(), v, got, want)
			}
		}
	}
}

func TestActivationErrors(t *testing.T) {
	if _, err := NewLeakyReLU(-0.1).Build([]int{3}, nil); err == nil {
		t.Error("LeakyReLU accepted negative alpha")
	}
	if _, err := NewELU(float32(math.NaN())).Build([]int{3}, nil); err == nil {
		t.Error("ELU accepted NaN alpha")
	}
	r := NewReLU()
	if _, err := r.Build(nil, nil); err == nil {
		t.Error("ReLU accepted empty shape")
	}
	if _, err := r.Backward(tensor.New(2, 3)); err == nil {
		t.Error("Backward before Forward did not fail")
	}
	if _, err := r.Forward(tensor.New(2, 3), true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backward(tensor.New(3, 2)); err == nil {
		t.Error("Backward with wrong shape did not fail")
	}
}

func TestActivationNoAllocs(t *testing.T) {
	x := randTensor(NewRNG(1), 8, 6, 6, 4)
	for _, l := range []Layer{NewReLU(), NewLeakyReLU(0.3), NewELU(1), NewSigmoid(), NewTanh()} {
		if _, err := l.Build(x.Shape[1:], nil); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(5, func() {
			y, _ := l.Forward(x, true)
			l.Backward(y)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Forward+Backward, want 0", l.Kind(), allocs)
		}
	}
}

// BenchmarkReLU is Forward + Backward on (32, 16, 16, 32).
func BenchmarkReLU(b *testing.B) {
	l := NewReLU()
	x := randTensor(NewRNG(1), 32, 16, 16, 32)
	l.Build(x.Shape[1:], nil)
	b.SetBytes(int64(4 * len(x.Data)))
	for b.Loop() {
		y, _ := l.Forward(x, true)
		l.Backward(y)
	}
}

func TestPosMask(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want bool
	}{{1, true}, {1e-45, true}, {float32(math.Inf(1)), true}, {0, false},
		{float32(math.Copysign(0, -1)), false}, {-1e-45, false}, {-3, false}, {float32(math.Inf(-1)), false}} {
		if got := posMask(c.v) == ^uint32(0); got != c.want || (!got && posMask(c.v) != 0) {
			t.Errorf("posMask(%v) = %#x", c.v, posMask(c.v))
		}
	}
	if pick(posMask(2), 1, 7) != 1 || pick(posMask(-2), 1, 7) != 7 {
		t.Error("pick")
	}
}
