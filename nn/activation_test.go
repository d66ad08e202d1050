package nn

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// kinkFree returns distinct values spread over [lo, hi] (a shuffled ramp)
// with none within margin of a kink, so that a gradient check's
// perturbation never crosses one.
func kinkFree(seed uint64, lo, hi, margin float32, kinks []float32, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	n := len(x.Data)
	for i, p := range NewRNG(seed).Perm(n) {
		v := lo + (hi-lo)*(float32(p)+0.5)/float32(n)
		for _, k := range kinks {
			if d := v - k; d > -margin && d < margin {
				v = k + 2*margin
				if d < 0 {
					v = k - 2*margin
				}
			}
		}
		x.Data[i] = v
	}
	return x
}

func TestActivationGrads(t *testing.T) {
	kinks := []float32{0, -3, 3, 6, -2.5, 2.5, -0.5, 0.7}
	for _, tc := range []struct {
		op    Op
		shape []int
	}{
		{NewReLU(), []int{3, 3, 3, 3}},
		{NewLeakyReLU(DefaultLeakyReLUAlpha), []int{3, 5}},
		{NewLeakyReLU(0.01), []int{1, 3, 3, 3}},
		{NewELU(1), []int{3, 3, 3, 3}},
		{NewELU(0.5), []int{3, 5}},
		{NewSigmoid(), []int{3, 3, 3, 3}},
		{NewTanh(), []int{3, 5}},
		{NewClip(-0.5, 0.7), []int{2, 7, 3}},
		{NewReLU6(), []int{3, 3, 5}},
		{NewHardSigmoid(), []int{3, 11}},
		{&HardSigmoid{Alpha: 1.0 / 6, Beta: 0.5}, []int{2, 3, 7}},
		{&HardSigmoid{Alpha: -0.3, Beta: 0.2}, []int{5, 7}},
		{NewHardSwish(), []int{3, 3, 3, 3}},
		{&HardSwish{Scale: 0.16662598}, []int{3, 7}}, // TF.js's float16 1/6
		{NewSiLU(), []int{3, 3, 3, 3}},
		{NewGELU(""), []int{3, 3, 3, 3}},
		{NewGELU("tanh"), []int{3, 13}},
		{NewPReLU(false), []int{3, 3, 3, 5}},
		{NewPReLU(true), []int{2, 3, 7}},
		{NewPReLU(true), []int{2, 4, 6}}, // a multiple of 8 values: rows of 8 copies of alpha
		{NewPReLU(false), []int{2, 3, 17}},
	} {
		t.Run(tc.op.Kind(), func(t *testing.T) {
			// Values over [-7, 7], which spans every region, at least 4e-3
			// from every kink: the perturbation of 1e-3 never crosses one.
			x := kinkFree(1, -7, 7, 4e-3, kinks, tc.shape...)
			gradCheckOp(t, tc.op, [][]int{tc.shape}, gradOpts{Eps: 1e-3, Tol: 1e-2, Inputs: []*tensor.Tensor{x}, Training: true})
		})
	}
}

func TestActivationValues(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{-2, -0.5, 0, 0.5, 3, -100, 100, 1e-3, -3, 6, 7, -1e-3}, 2, 6)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	phi := func(v float64) float64 { return 0.5 * math.Erfc(-v/math.Sqrt2) }
	for _, c := range []struct {
		op  Op
		ref func(float64) float64
	}{
		{NewReLU(), func(v float64) float64 { return math.Max(v, 0) }},
		{NewLeakyReLU(0.3), func(v float64) float64 { return math.Max(v, 0.3*v) }},
		{NewELU(1.5), func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 1.5 * (math.Exp(v) - 1)
		}},
		{NewSigmoid(), sig},
		{NewTanh(), math.Tanh},
		{NewClip(-1, 2.5), func(v float64) float64 { return math.Min(math.Max(v, -1), 2.5) }},
		{NewReLU6(), func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }},
		{NewHardSigmoid(), func(v float64) float64 { return math.Min(math.Max(0.2*v+0.5, 0), 1) }},
		{NewHardSwish(), func(v float64) float64 { return v * math.Min(math.Max(v+3, 0), 6) / 6 }},
		{&HardSwish{Scale: 0.16662598}, func(v float64) float64 { return v * math.Min(math.Max(v+3, 0), 6) * 0.16662598 }},
		{NewSiLU(), func(v float64) float64 { return v * sig(v) }},
		{NewGELU(""), func(v float64) float64 { return v * phi(v) }},
		{NewGELU("none"), func(v float64) float64 { return v * phi(v) }},
		{NewGELU("tanh"), func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{NewPReLU(true), func(v float64) float64 { return math.Max(v, 0.25*v) }},
	} {
		y := evalOp(t, c.op, &Call{}, x)[0]
		if !y.SameShape(x) {
			t.Fatalf("%s: shape %v", c.op.Kind(), y.Shape)
		}
		for i, v := range x.Data {
			want := c.ref(float64(v))
			// float32 results: a few ulp, and an absolute floor for the
			// tiny values of sigmoid(-100).
			if got := float64(y.Data[i]); math.IsNaN(got) || math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s(%v) = %v, want %v", c.op.Kind(), v, got, want)
			}
		}
	}
}

func TestActivationErrors(t *testing.T) {
	shapeErr(t, NewLeakyReLU(-0.1), [][]int{{2, 3}}, "alpha -0.1")
	shapeErr(t, NewELU(float32(math.NaN())), [][]int{{2, 3}}, "alpha NaN")
	shapeErr(t, NewReLU(), [][]int{{}}, "scalar")
	shapeErr(t, NewReLU(), [][]int{{2}, {2}}, "1 input, got 2")
	shapeErr(t, NewClip(2, 1), [][]int{{2, 3}}, "min 2", "max 1")
	shapeErr(t, NewClip(0, float32(math.Inf(1))), [][]int{{2, 3}}, "+Inf", "finite")
	shapeErr(t, &HardSigmoid{Alpha: float32(math.NaN()), Beta: 0.5}, [][]int{{2, 3}}, "alpha NaN")
	shapeErr(t, NewGELU("fast"), [][]int{{2, 3}}, `"fast"`, "tanh")
	shapeErr(t, NewPReLU(false), [][]int{{5}}, "(5,)", "channel axis", "Shared")
	if _, err := NewPReLU(true).Shapes([][]int{{5}}); err != nil {
		t.Errorf("shared PReLU on a vector: %v", err)
	}
	p := NewPReLU(false)
	if err := p.Build([][]int{{-1, 4, 3}}, nil); err != nil {
		t.Fatal(err)
	}
	shapeErr(t, p, [][]int{{2, 4, 5}}, "(2, 4, 5)", "5 channels", "built for 3")
	if err := NewPReLU(false).Build([][]int{{-1, -1}}, nil); err == nil {
		t.Error("PReLU built with unknown channels")
	}
	if err := NewPReLU(false).Forward(&Call{}, []*tensor.Tensor{tensor.New(1, 2)}, []*tensor.Tensor{tensor.New(1, 2)}); err == nil {
		t.Error("PReLU Forward before Build succeeded")
	}
}

func TestActivationJSON(t *testing.T) {
	for _, c := range []struct {
		op   Op
		json string
	}{
		{NewReLU(), `{}`},
		{NewLeakyReLU(0.3), `{"alpha":0.3}`},
		{NewELU(1), `{"alpha":1}`},
		{NewClip(-1, 2), `{"min":-1,"max":2}`},
		{NewReLU6(), `{}`},
		{NewHardSigmoid(), `{"alpha":0.2,"beta":0.5}`},
		{NewHardSwish(), `{}`},
		{&HardSwish{Scale: 0.25}, `{"scale":0.25}`},
		{NewSiLU(), `{}`},
		{NewGELU(""), `{}`},
		{NewGELU("tanh"), `{"approximate":"tanh"}`},
		{NewPReLU(false), `{}`},
		{NewPReLU(true), `{"shared":true}`},
	} {
		b, err := json.Marshal(c.op)
		if err != nil || string(b) != c.json {
			t.Errorf("%s: JSON %s %v, want %s", c.op.Kind(), b, err, c.json)
			continue
		}
		back, err := newOp(c.op.Kind(), b)
		if err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.Marshal(back); string(b2) != c.json {
			t.Errorf("%s: reloaded as %s", c.op.Kind(), b2)
		}
	}
}

// Training fuses only activations whose derivative comes from the output;
// Optimize fuses all of them. Every variant computes the same outputs.
func TestActivationsFuseIntoDense(t *testing.T) {
	for _, act := range []Op{NewReLU6(), NewClip(-0.3, 0.4), NewHardSigmoid(), NewHardSwish(), NewSiLU(), NewGELU(""), NewGELU("tanh")} {
		g := NewGraph()
		x := g.Input("x", 7)
		g.Output(g.Apply(act, g.Apply(NewDense(5), x)))
		if err := g.Build(2); err != nil {
			t.Fatal(err)
		}
		in := randNormal(NewRNG(3), 4, 7)
		want, err := g.NewSession().Run(false, in)
		if err != nil {
			t.Fatal(err)
		}
		fa, _ := act.(ActOp).FusedAct()
		train, err := FuseActivations(g)
		if err != nil {
			t.Fatal(err)
		}
		if fused := len(train.Nodes()) == 2; fused != fa.FromOutput() {
			t.Errorf("%s: fused for training %v, want %v", act.Kind(), fused, fa.FromOutput())
		}
		opt, err := Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		if len(opt.Nodes()) != 2 {
			t.Errorf("%s: not fused by Optimize", act.Kind())
		}
		for _, h := range []*Graph{train, opt} {
			got, err := h.NewSession().Run(false, in)
			if err != nil {
				t.Fatal(err)
			}
			relClose(t, act.Kind()+" fused", got[0].Data, want[0].Data, 1e-6)
		}
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

// The activation benchmarks are Forward + Backward on (32, 16, 16, 32).
func BenchmarkReLU(b *testing.B)      { benchOp(b, NewReLU(), true, 32, 16, 16, 32) }
func BenchmarkReLU6(b *testing.B)     { benchOp(b, NewReLU6(), true, 32, 16, 16, 32) }
func BenchmarkHardSwish(b *testing.B) { benchOp(b, NewHardSwish(), true, 32, 16, 16, 32) }
func BenchmarkSiLU(b *testing.B)      { benchOp(b, NewSiLU(), true, 32, 16, 16, 32) }
func BenchmarkGELU(b *testing.B)      { benchOp(b, NewGELU(""), true, 32, 16, 16, 32) }
func BenchmarkGELUTanh(b *testing.B)  { benchOp(b, NewGELU("tanh"), true, 32, 16, 16, 32) }
func BenchmarkPReLU(b *testing.B)     { benchOp(b, NewPReLU(false), true, 32, 16, 16, 32) }

// BenchmarkSiLUInference is Forward alone.
func BenchmarkSiLUInference(b *testing.B) { benchOp(b, NewSiLU(), false, 32, 16, 16, 32) }
