package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// The peak extraction chain, in the orders exporters write it, becomes one
// PoolPeaks node that gives the chain's bits exactly, plateaus (ties)
// included; near misses stay as they are.
func TestFuseDecomposedPoolPeaks(t *testing.T) {
	pool3 := func() *MaxPool2D { return &MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 1, StrideW: 1, Padding: Same} }
	cases := []struct {
		name  string
		fused bool
		f     func(g *Graph, x *Value) *Value
	}{
		// TF.js (CenterNet): x * Cast(Equal(x, MaxPool(x))).
		{"tfjs", true, func(g *Graph, x *Value) *Value {
			return g.Mul(x, g.Apply(NewCast("float32"), g.Apply(NewCompare("Equal"), x, g.Apply(pool3(), x))))
		}},
		// TF.js's importer writes that Cast (bool to float) as Identity.
		{"identity", true, func(g *Graph, x *Value) *Value {
			return g.Mul(g.Apply(NewIdentity(), g.Apply(NewCompare("Equal"), x, g.Apply(pool3(), x))), x)
		}},
		// The other orders, no cast, a 5x3 window padded explicitly.
		{"swapped", true, func(g *Graph, x *Value) *Value {
			p := &MaxPool2D{PoolH: 5, PoolW: 3, StrideH: 1, StrideW: 1, Padding: Padding{Mode: "explicit", Top: 1, Bottom: 3, Left: 1, Right: 1}}
			return g.Mul(g.Apply(NewCompare("Equal"), g.Apply(p, x), x), x)
		}},
		// The pool's stride is what the chain's own Shapes check keeps
		// at 1; a pool read elsewhere too stays, and the chain fuses.
		{"pool also an output", true, func(g *Graph, x *Value) *Value {
			pooled := g.Apply(pool3(), x)
			g.Output(pooled, g.Mul(x, g.Apply(NewCompare("Equal"), x, pooled)))
			return nil
		}},
		{"another value", false, func(g *Graph, x *Value) *Value {
			y := g.Apply(NewReLU(), x)
			return g.Mul(x, g.Apply(NewCompare("Equal"), y, g.Apply(pool3(), y)))
		}},
		{"less", false, func(g *Graph, x *Value) *Value {
			return g.Mul(x, g.Apply(NewCompare("Less"), x, g.Apply(pool3(), x)))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewGraph()
			x := g.Input("x", 9, 8, 5)
			y := g.Apply(NewConv2D(5, 3, 1, Same), x)
			if v := c.f(g, y); v != nil {
				g.Output(v)
			}
			fused, got := buildFused(t, g)
			want := "InputLayer Conv2D PoolPeaks"
			if c.name == "pool also an output" {
				want = "InputLayer Conv2D MaxPool2D PoolPeaks"
			}
			if c.fused && got != want {
				t.Fatalf("fused graph %s, want %s", got, want)
			}
			if !c.fused && strings.Contains(got, "PoolPeaks") {
				t.Fatalf("fused graph %s: not a peak extraction", got)
			}
			// Inputs on a coarse grid, so that windows hold ties.
			in := convRand(NewRNG(3), 2, 9, 8, 5)
			for i := range in.Data {
				in.Data[i] = float32(math.Round(float64(in.Data[i]) * 2))
			}
			ref, err := g.NewSession().Run(false, in)
			if err != nil {
				t.Fatal(err)
			}
			w := ref[len(ref)-1].Clone()
			have, err := fused.NewSession().Run(false, in)
			if err != nil {
				t.Fatal(err)
			}
			kept := 0
			for i, v := range have[len(have)-1].Data {
				if math.Float32bits(v) != math.Float32bits(w.Data[i]) {
					t.Fatalf("value %d: %v, the chain gives %v", i, v, w.Data[i])
				}
				if v != 0 {
					kept++
				}
			}
			if c.fused && (kept == 0 || kept == len(w.Data)) {
				t.Fatalf("%d of %d values kept: the test does not exercise the mask", kept, len(w.Data))
			}
		})
	}
}

// PoolPeaks on its own: the gradient flows where a value is kept; a pool
// that changes the size is refused with the shapes named.
func TestPoolPeaksOp(t *testing.T) {
	gradCheckOp(t, NewPoolPeaks(3), [][]int{{2, 6, 5, 3}}, gradOpts{Distinct: true, Eps: 1e-3})
	p := &PoolPeaks{Pool: MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 1, StrideW: 1}}
	if _, err := p.Shapes([][]int{{1, 8, 8, 2}}); err == nil || !strings.Contains(err.Error(), "(1, 6, 6, 2)") {
		t.Fatalf("valid 3x3 pool: err = %v, want the size it maps to", err)
	}
	x := tensor.New(1, 4, 4, 1)
	copy(x.Data, []float32{
		1, 2, 2, 0,
		0, 0, 0, 0,
		3, 0, 0, 5,
		0, 0, 4, 0,
	})
	y := tensor.New(1, 4, 4, 1)
	if err := NewPoolPeaks(3).Forward(&Call{}, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 2, 2, 0, 0, 0, 0, 0, 3, 0, 0, 5, 0, 0, 0, 0}
	for i := range want {
		if y.Data[i] != want[i] {
			t.Fatalf("peaks %v, want %v", y.Data, want)
		}
	}
}
