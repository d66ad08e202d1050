package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func scalar(g *Graph, v float32) *Value {
	k := tensor.New(1)
	k.Data[0] = v
	return g.Apply(NewConstant(k))
}

// buildFused builds g and returns FuseDecomposed's graph and its node
// kinds in order, space-separated.
func buildFused(t *testing.T, g *Graph) (*Graph, string) {
	t.Helper()
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	fused, err := FuseDecomposed(g)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range fused.Nodes() {
		kinds = append(kinds, n.Op.Kind())
	}
	return fused, strings.Join(kinds, " ")
}

// Each decomposition, in the orders exporters write it, becomes one
// activation node; the graph computes what it did (within 1e-6) and,
// after Optimize, the activation sits in the convolution's epilogue.
func TestFuseDecomposed(t *testing.T) {
	relu6 := func(g *Graph, v *Value) *Value { return g.Apply(NewReLU6(), v) }
	clip06 := func(g *Graph, v *Value) *Value { return g.Apply(NewClip(0, 6), v) }
	plus3 := func(g *Graph, x *Value) *Value { return g.Add(x, scalar(g, 3)) }
	three := func(g *Graph, x *Value) *Value { return g.Add(scalar(g, 3), x) }
	div := func(g *Graph, a *Value, k float32) *Value { return g.Apply(NewDiv(), a, scalar(g, k)) }
	hsig := func(g *Graph, x *Value) *Value {
		h := NewHardSigmoid()
		h.Alpha = 1.0 / 6
		return g.Apply(h, x)
	}
	erf := func(g *Graph, v *Value) *Value { return g.Apply(NewUnaryMath("Erf"), v) }
	cases := []struct {
		name, kind string
		f          func(g *Graph, x *Value) *Value
	}{
		// TF.js (MobileNetV3 in CenterNet): x * (1/6) * relu6(x + 3).
		{"tfjs hard swish", "HardSwish", func(g *Graph, x *Value) *Value {
			return g.Mul(g.Mul(scalar(g, 1.0/6), x), relu6(g, plus3(g, x)))
		}},
		// TF.js stores the 1/6 as float16: the fused op keeps it.
		{"float16 hard swish", "HardSwish", func(g *Graph, x *Value) *Value {
			return g.Mul(relu6(g, plus3(g, x)), g.Mul(x, scalar(g, 0.16662598)))
		}},
		// PaddleOCR: x * clip(x + 3, 0, 6) / 6.
		{"clip hard swish", "HardSwish", func(g *Graph, x *Value) *Value {
			return div(g, g.Mul(x, clip06(g, three(g, x))), 6)
		}},
		{"hard sigmoid swish", "HardSwish", func(g *Graph, x *Value) *Value { return g.Mul(hsig(g, x), x) }},
		{"silu", "SiLU", func(g *Graph, x *Value) *Value { return g.Mul(x, g.Apply(NewSigmoid(), x)) }},
		{"gelu div", "GELU", func(g *Graph, x *Value) *Value {
			return g.Mul(g.Mul(x, g.Add(erf(g, div(g, x, float32(math.Sqrt2))), scalar(g, 1))), scalar(g, 0.5))
		}},
		{"gelu mul", "GELU", func(g *Graph, x *Value) *Value {
			return g.Mul(g.Mul(x, scalar(g, 0.5)), g.Add(scalar(g, 1), erf(g, g.Mul(x, scalar(g, float32(1/math.Sqrt2))))))
		}},
		// MobileNetV3's squeeze-excite gate: relu6(x + 3) * (1/6).
		{"hard sigmoid", "HardSigmoid", func(g *Graph, x *Value) *Value {
			return g.Mul(relu6(g, plus3(g, x)), scalar(g, 1.0/6))
		}},
		// A product as the activation's input.
		{"hard swish of a product", "HardSwish", func(g *Graph, x *Value) *Value {
			p := g.Mul(x, x)
			return g.Mul(g.Mul(p, scalar(g, 1.0/6)), relu6(g, plus3(g, p)))
		}},
	}
	// 3x3 and 1x1 kernels of 20 filters: the stems' and the 1x1
	// convolutions' all-tiles paths, whose activation runs after them.
	for _, k := range []int{3, 1} {
		for _, c := range cases {
			testFuseDecomposed(t, k, c.name, c.kind, c.f)
		}
	}
}

func testFuseDecomposed(t *testing.T, k int, name, kind string, f func(g *Graph, x *Value) *Value) {
	t.Run(fmt.Sprintf("%s %dx%d", name, k, k), func(t *testing.T) {
		g := NewGraph()
		x := g.Input("x", 5, 6, 7)
		y := g.Apply(NewConv2D(20, k, 1, Same), x)
		g.Output(g.Apply(NewReLU(), f(g, y)))
		fused, got := buildFused(t, g)
		want := "InputLayer Conv2D " + kind + " ReLU"
		if name == "hard swish of a product" {
			want = "InputLayer Conv2D Mul HardSwish ReLU"
		}
		if got != want {
			t.Fatalf("fused graph %s, want %s (%d nodes before)", got, want, len(g.Nodes()))
		}
		if len(fused.Nodes()) >= len(g.Nodes()) {
			t.Errorf("%d nodes fused, %d before", len(fused.Nodes()), len(g.Nodes()))
		}
		in := convRand(NewRNG(2), 3, 5, 6, 7)
		for i := range in.Data {
			in.Data[i] *= 4 // reach both kinks of the hard activations
		}
		y1, err := g.NewSession().Run(false, in)
		if err != nil {
			t.Fatal(err)
		}
		want1 := y1[0].Clone()
		y2, err := fused.NewSession().Run(false, in)
		if err != nil {
			t.Fatal(err)
		}
		fuseClose(t, "fused", y2[0].Data, want1.Data, 1e-6)
		opt, err := Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		y3, err := opt.NewSession().Run(false, in)
		if err != nil {
			t.Fatal(err)
		}
		fuseClose(t, "optimized", y3[0].Data, want1.Data, 1e-6)
		if name != "hard swish of a product" {
			if n := len(opt.Nodes()); n != 3 {
				t.Errorf("optimized graph has %d nodes, want input, conv and relu", n)
			}
			if cv, ok := opt.Nodes()[1].Op.(*Conv2D); !ok || cv.Act.Kind == "" {
				t.Errorf("the activation did not fuse into the conv: %v", opt.Nodes()[1].Op.Kind())
			}
		}
	})
}

// Near misses stay as they are: a wrong constant, a different x, a gate
// read by another node (it stays, the product still fuses).
func TestFuseDecomposedNearMisses(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 4, 4, 3)
	z := g.Input("z", 4, 4, 3)
	a := g.Mul(g.Mul(x, scalar(g, 0.2)), g.Apply(NewReLU6(), g.Add(x, scalar(g, 3)))) // 0.2, not 1/6
	b := g.Mul(z, g.Apply(NewSigmoid(), x))                                           // z * sigmoid(x)
	gate := g.Apply(NewSigmoid(), x)
	c := g.Mul(gate, x)
	// A hard sigmoid whose top would be 6 * 0.16663, not 1.
	d := g.Mul(g.Apply(NewReLU6(), g.Add(x, scalar(g, 3))), scalar(g, 0.16662598))
	g.Output(a, b, c, gate, d)
	_, got := buildFused(t, g)
	want := "InputLayer InputLayer Constant Mul Constant Add ReLU6 Mul Sigmoid Mul Sigmoid SiLU Constant Add ReLU6 Constant Mul"
	if got != want {
		t.Errorf("fused graph %s, want %s", got, want)
	}
}

func fuseClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
