package nn

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// mathRef is each function in float64, the reference of the tests.
var mathRef = map[string]func(x float64) float64{
	"Exp": math.Exp, "Log": math.Log, "Sqrt": math.Sqrt, "Neg": func(x float64) float64 { return -x },
	"Abs": math.Abs, "Reciprocal": func(x float64) float64 { return 1 / x }, "Erf": math.Erf,
	"Floor": math.Floor, "Ceil": math.Ceil, "Round": math.RoundToEven, "Trunc": math.Trunc,
	"Sign": func(x float64) float64 {
		if x > 0 {
			return 1
		} else if x < 0 {
			return -1
		}
		return 0
	},
	"Sin": math.Sin, "Cos": math.Cos, "Tan": math.Tan, "Asin": math.Asin, "Acos": math.Acos, "Atan": math.Atan,
	"Sinh": math.Sinh, "Cosh": math.Cosh, "Asinh": math.Asinh, "Acosh": math.Acosh, "Atanh": math.Atanh,
	"Softplus": func(x float64) float64 { return math.Log(1 + math.Exp(x)) },
	"Softsign": func(x float64) float64 { return x / (1 + math.Abs(x)) },
	"Selu": func(x float64) float64 {
		if x > 0 {
			return 1.0507 * x
		}
		return 1.0507 * 1.6733 * (math.Exp(x) - 1)
	},
	"Celu": func(x float64) float64 { return math.Max(0, x) + math.Min(0, 0.5*(math.Exp(x/0.5)-1)) },
	"ThresholdedRelu": func(x float64) float64 {
		if x > 0.5 {
			return x
		}
		return 0
	},
	"IsNaN":        func(x float64) float64 { return b2f64(math.IsNaN(x)) },
	"IsInf":        func(x float64) float64 { return b2f64(math.IsInf(x, 0)) },
	"Not":          func(x float64) float64 { return b2f64(x == 0) },
	"RoundFloat16": func(x float64) float64 { return x }, "RoundBFloat16": func(x float64) float64 { return x },
}

func b2f64(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// mathOp returns the op for fn with the attributes the references use.
func mathOp(fn string) *UnaryMath {
	o := NewUnaryMath(fn)
	switch fn {
	case "Selu":
		o.Alpha, o.Gamma = 1.6733, 1.0507
	case "Celu":
		o.Alpha = 0.5
	case "ThresholdedRelu":
		o.Alpha = 0.5
	case "IsInf":
		o.Alpha, o.Gamma = 1, 1
	}
	return o
}

// mathInputs returns values inside each function's domain, away from its
// kinks.
func mathInputs(fn string, n int) *tensor.Tensor {
	x := tensor.New(2, n)
	rng := NewRNG(5)
	for i := range x.Data {
		v := rng.Float64()*3 - 1.5
		switch fn {
		case "Log", "Sqrt", "Acosh":
			v = 1.2 + math.Abs(v)
		case "Asin", "Acos", "Atanh":
			v /= 2
		case "Floor", "Ceil", "Round", "Trunc":
			v = math.Round(v*4)/4 + 0.1
		case "Reciprocal":
			v = math.Copysign(0.5+math.Abs(v), v)
		}
		x.Data[i] = float32(v)
	}
	return x
}

func TestUnaryMathMatchesFloat64(t *testing.T) {
	for _, fn := range UnaryMathFuncs() {
		ref := mathRef[fn]
		if ref == nil {
			t.Errorf("%s: no reference", fn)
			continue
		}
		x := mathInputs(fn, 37)
		if fn == "IsNaN" || fn == "IsInf" {
			x.Data[3], x.Data[4], x.Data[5] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		}
		y := evalOp(t, mathOp(fn), &Call{}, x)[0]
		if fn == "RoundFloat16" || fn == "RoundBFloat16" {
			continue // TestRoundFloat16
		}
		for i, v := range x.Data {
			want := ref(float64(v))
			if got := float64(y.Data[i]); math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%s(%v) = %v, want %v", fn, v, got, want)
				break
			}
		}
	}
}

func TestUnaryMathGradients(t *testing.T) {
	for _, fn := range UnaryMathFuncs() {
		switch fn {
		case "IsNaN", "IsInf", "Not", "RoundFloat16", "RoundBFloat16":
			continue // no gradient, or a straight-through one
		}
		x := mathInputs(fn, 9)
		gradCheckOp(t, mathOp(fn), [][]int{{2, 9}}, gradOpts{Inputs: []*tensor.Tensor{x}, Eps: 1e-3, Tol: 1e-2})
	}
}

func TestRoundFloat16(t *testing.T) {
	for _, c := range []struct{ in, want float32 }{
		{1, 1}, {1.0 + 1.0/2048, 1}, {1.0 + 3.0/2048, 1 + 2.0/1024}, {65504, 65504}, {65520, float32(math.Inf(1))},
		{1e-8, 0}, {6e-8, 5.9604645e-08}, {-3.14159, -3.140625},
	} {
		if b := kernels.RoundBFloat16(c.in); c.in == 1 && b != 1 {
			t.Errorf("RoundBFloat16(1) = %v", b)
		}
		if got := NewUnaryMath("RoundFloat16"); got != nil {
			y := evalOp(t, got, &Call{}, &tensor.Tensor{Shape: []int{1}, Data: []float32{c.in}})[0]
			if y.Data[0] != c.want {
				t.Errorf("RoundFloat16(%v) = %v, want %v", c.in, y.Data[0], c.want)
			}
		}
	}
}

func TestBinaryMath(t *testing.T) {
	a := &tensor.Tensor{Shape: []int{2, 3}, Data: []float32{1.5, -2, 3, 4, 0.5, -7}}
	b := &tensor.Tensor{Shape: []int{3}, Data: []float32{2, 3, -2}}
	for _, c := range []struct {
		fn   string
		fmod bool
		want []float32
	}{
		{"Pow", false, []float32{2.25, -8, 1.0 / 9, 16, 0.125, 1.0 / 49}},
		{"Max", false, []float32{2, 3, 3, 4, 3, -2}},
		{"Min", false, []float32{1.5, -2, -2, 2, 0.5, -7}},
		{"Mod", false, []float32{1.5, 1, -1, 0, 0.5, -1}},
		{"Mod", true, []float32{1.5, -2, 1, 0, 0.5, -1}},
	} {
		op := NewBinaryMath(c.fn)
		op.Fmod = c.fmod
		y := evalOp(t, op, &Call{}, a, b)[0]
		for i, w := range c.want {
			if math.Abs(float64(y.Data[i]-w)) > 1e-6 {
				t.Errorf("%s (fmod %v) = %v, want %v", c.fn, c.fmod, y.Data, c.want)
				break
			}
		}
	}
	pos := tensor.New(3, 4)
	for i := range pos.Data {
		pos.Data[i] = 0.5 + float32(i)/7
	}
	gradCheckOp(t, NewBinaryMath("Pow"), [][]int{{3, 4}, {1, 4}}, gradOpts{Inputs: []*tensor.Tensor{pos}})
	gradCheckOp(t, NewBinaryMath("Max"), [][]int{{3, 4}, {4}}, gradOpts{Distinct: true, Eps: 1e-3})
	gradCheckOp(t, NewBinaryMath("Min"), [][]int{{2, 1, 4}, {3, 1}}, gradOpts{Distinct: true, Eps: 1e-3})
	gradCheckOp(t, NewBinaryMath("Mod"), [][]int{{3, 4}, {4}}, gradOpts{Inputs: []*tensor.Tensor{pos, {Shape: []int{4}, Data: []float32{0.7, 0.9, 1.3, 2.1}}}, Eps: 1e-3})
}

func TestMathErrors(t *testing.T) {
	shapeErr(t, NewUnaryMath("Frobnicate"), [][]int{{2, 3}}, "unknown function", "Frobnicate")
	shapeErr(t, NewUnaryMath("Exp"), [][]int{{2}, {2}}, "1 input")
	shapeErr(t, &UnaryMath{Func: "Celu"}, [][]int{{2}}, "alpha")
	shapeErr(t, NewBinaryMath("Pow"), [][]int{{2, 3}, {4}}, "broadcast")
	shapeErr(t, NewBinaryMath("Hypot"), [][]int{{2}, {2}}, "unknown function")
}

// TestImportOpsGraph runs the new ops in one graph: inference and a
// training step allocate nothing after the first calls, the gradients
// check end to end, and the graph saves and loads.
func TestImportOpsGraph(t *testing.T) {
	build := func() *Graph {
		g := NewGraph()
		x := g.Input("x", 4, 6)
		e := g.Apply(NewUnaryMath("Exp"), g.Apply(NewUnaryMath("Neg"), x))
		p := g.Apply(NewBinaryMath("Pow"), g.Apply(NewUnaryMath("Abs"), x), g.Apply(NewConstant(&tensor.Tensor{Shape: []int{1}, Data: []float32{1.5}})))
		m := g.Apply(NewBinaryMath("Max"), e, p)
		cond := g.Apply(NewCompare("Greater"), x, g.Apply(NewConstant(&tensor.Tensor{Shape: []int{}, Data: []float32{0}})))
		w := g.Apply(NewWhere(), cond, m, g.Apply(NewUnaryMath("Sin"), x))
		idx := g.Apply(NewConstant(&tensor.Tensor{Shape: []int{3}, Data: []float32{2, 0, -1}}))
		ga := g.Apply(NewGather(2), w, idx)
		sl := g.Apply(NewSlice([]int{1}, []int{-1}, []int{1}, nil), ga)
		ex := g.Apply(NewExpand(1, 2, 1, 1), g.Apply(NewUnsqueeze(1), sl))
		ti := g.Apply(NewTile(1, 1, 2, 1), ex)
		tk := g.Node("topk", NewTopK(2, -1, true), ti)
		d := g.Apply(NewDense(3), g.Apply(NewFlatten(), g.Apply(NewIdentity(), tk.Outputs[0])))
		sh := g.Apply(NewCast("float"), g.Apply(NewShape(), x))
		g.Output(d, g.Apply(NewArgMax(-1, false), ti), sh)
		if err := g.Build(3); err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := build()
	rng := NewRNG(4)
	x := randNormal(rng, 2, 4, 6)
	s := g.NewSession()
	outs, err := s.Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	if got := outs[2].Data; len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Errorf("Shape gives %v, want [2 4 6]", got)
	}
	want := outs[0].Clone()
	infer := func() {
		if _, err := s.Run(false, x); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(10, infer); a != 0 {
		t.Errorf("inference allocates %v times per run", a)
	}
	dy := tensor.New(want.Shape...)
	dy.Fill(1)
	step := func() {
		if _, err := s.Run(true, x); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Backward(dy, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(10, step); a != 0 {
		t.Errorf("a training step allocates %v times", a)
	}
	path := filepath.Join(t.TempDir(), "ops.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Graph().NewSession().Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Data {
		if got[0].Data[i] != v {
			t.Fatalf("loaded graph gives %v, the original %v", got[0].Data, want.Data)
		}
	}
	folded, err := FoldConstants(build())
	if err != nil {
		t.Fatal(err)
	}
	_ = folded
}
