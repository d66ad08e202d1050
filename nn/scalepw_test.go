package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// spGraph builds conv(x * s) (+ x with residual, then act) for x
// (h, w, cin) and s (1, 1, cin), the product written as Mul(x, s) or
// Mul(s, x), with a random bias, and its Optimize copy.
func spGraph(t *testing.T, h, w, cin, f int, residual, swap bool, act string) (g, opt *Graph) {
	t.Helper()
	g = NewGraph()
	x := g.Input("x", h, w, cin)
	s := g.Input("s", 1, 1, cin)
	var p *Value
	if swap {
		p = g.Mul(s, x)
	} else {
		p = g.Mul(x, s)
	}
	y := g.Apply(NewConv2D(f, 1, 1, Valid), p)
	if residual {
		y = g.Add(y, x)
	}
	g.Output(applyAct(g, act, y))
	return g, buildOptimized(t, g, 5)
}

func kindsOf(g *Graph) string {
	var kinds []string
	for _, n := range g.Nodes() {
		kinds = append(kinds, n.Op.Kind())
	}
	return strings.Join(kinds, " ")
}

// TestScaledPointwise checks the fused op against the Mul and the
// convolution it replaces: weights scaled per image (an image has at
// least 4 pixels per filter) and the input scaled (fewer), with and
// without a residual, on 1 and 3 threads, with two images whose scales
// differ.
func TestScaledPointwise(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	cases := []struct {
		h, w, cin, f  int
		residual, swp bool
		act           string
	}{
		{13, 11, 24, 8, false, false, "relu6"},
		{9, 7, 20, 20, true, true, ""},
		{12, 10, 40, 24, true, false, "silu"}, // 120 pixels, 40 filters: the input scaled
		{16, 13, 16, 16, true, false, "silu"}, // 208 pixels: the weights scaled
		{11, 15, 12, 12, true, true, "relu6"},
		{3, 3, 16, 40, false, true, "hard_swish"}, // 9 pixels, 40 filters: the input scaled
		{5, 6, 8, 8, true, false, "relu"},         // 30 pixels for 8 filters: the input scaled
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%d-%d res=%v swap=%v %s", c.h, c.w, c.cin, c.f, c.residual, c.swp, c.act)
		t.Run(name, func(t *testing.T) {
			f := c.f
			if c.residual {
				f = c.cin
			}
			g, opt := spGraph(t, c.h, c.w, c.cin, f, c.residual, c.swp, c.act)
			want := "InputLayer InputLayer ScaledPointwise"
			if got := kindsOf(opt); got != want {
				t.Fatalf("optimized graph %s, want %s", got, want)
			}
			rng := NewRNG(6)
			x := convRand(rng, 2, c.h, c.w, c.cin)
			s := convRand(rng, 2, 1, 1, c.cin)
			ref, err := g.NewSession().Run(false, x, s)
			if err != nil {
				t.Fatal(err)
			}
			exp := ref[0].Clone()
			for _, th := range []int{1, 3} {
				kernels.SetThreads(th)
				got, err := opt.NewSession().Run(false, x, s)
				if err != nil {
					t.Fatal(err)
				}
				fuseClose(t, fmt.Sprintf("%d threads: out", th), got[0].Data, exp.Data, 1e-5)
			}
			kernels.SetThreads(1)
		})
	}
}

// TestScaledPointwiseNotFused: a product read twice, a 3x3 convolution,
// and a product by a full tensor keep the Mul.
func TestScaledPointwiseNotFused(t *testing.T) {
	build := func(f func(g *Graph, x, s, z *Value)) string {
		g := NewGraph()
		f(g, g.Input("x", 6, 6, 4), g.Input("s", 1, 1, 4), g.Input("z", 6, 6, 4))
		return kindsOf(buildOptimized(t, g, 1))
	}
	in := "InputLayer InputLayer InputLayer "
	cases := []struct {
		name, want string
		f          func(g *Graph, x, s, z *Value)
	}{
		{"read twice", in + "Mul Conv2D Conv2D", func(g *Graph, x, s, z *Value) {
			p := g.Mul(x, s)
			g.Output(g.Add(g.Apply(NewConv2D(8, 1, 1, Valid), p), g.Apply(NewConv2D(8, 1, 1, Valid), p)))
		}},
		{"3x3", in + "Mul Conv2D", func(g *Graph, x, s, z *Value) {
			g.Output(g.Apply(NewConv2D(8, 3, 1, Same), g.Mul(x, s)))
		}},
		{"full product", in + "Mul Conv2D", func(g *Graph, x, s, z *Value) {
			g.Output(g.Apply(NewConv2D(8, 1, 1, Valid), g.Mul(x, z)))
		}},
	}
	for _, c := range cases {
		if got := build(c.f); got != c.want {
			t.Errorf("%s: optimized graph %s, want %s", c.name, got, c.want)
		}
	}
}

// TestScaledPointwiseTrainAndSave: the fused op refuses training with an
// error that says why, and a model file stores the Mul and the
// convolution, which load and compute the same.
func TestScaledPointwiseTrainAndSave(t *testing.T) {
	g, opt := spGraph(t, 8, 8, 4, 4, true, true, "silu")
	x, sc := convRand(NewRNG(1), 2, 8, 8, 4), convRand(NewRNG(2), 2, 1, 1, 4)
	s := opt.NewSession()
	if _, err := s.Run(true, x, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backward(convRand(NewRNG(3), 2, 8, 8, 4)); err == nil || !strings.Contains(err.Error(), "inference only") {
		t.Errorf("Backward: %v, want an inference-only error", err)
	}
	checkSavedUnfused(t, g, opt, "InputLayer InputLayer Mul Conv2D", x, sc)
}
