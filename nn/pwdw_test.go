package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// pdCase is a pointwise convolution (cin -> f, activation act1) and a
// depthwise one (k x k, stride s, padding pad, dilation dil, multiplier
// mult, activation act2) on n x h x w images; conv makes the depthwise
// layer a grouped Conv2D (ONNX's form) instead of a DepthwiseConv2D.
type pdCase struct {
	n, h, w, cin, f int
	k, s, dil, mult int
	pad             Padding
	act1, act2      string
	conv            bool
}

func (c pdCase) String() string {
	return fmt.Sprintf("%dx%dx%dx%d-%d/k%d s%d d%d m%d %s/%s,%s conv=%v", c.n, c.h, c.w, c.cin, c.f, c.k, c.s, c.dil, c.mult, c.pad, c.act1, c.act2, c.conv)
}

func applyAct(g *Graph, kind string, v *Value) *Value {
	switch kind {
	case "relu6":
		return g.Apply(NewReLU6(), v)
	case "relu":
		return g.Apply(NewReLU(), v)
	case "silu":
		return g.Apply(NewSiLU(), v)
	case "hard_swish":
		return g.Apply(NewHardSwish(), v)
	}
	return v
}

// pdGraph builds c's two layers (with random biases) and their Optimize
// copy, checking that the copy fused them.
func pdGraph(t testing.TB, c pdCase) (g, opt *Graph, op *PointwiseDepthwise) {
	t.Helper()
	g = NewGraph()
	x := g.Input("x", c.h, c.w, c.cin)
	y := applyAct(g, c.act1, g.Apply(NewConv2D(c.f, 1, 1, Valid), x))
	var dw Op
	if c.conv {
		cv := &Conv2D{Filters: c.f * c.mult, KernelH: c.k, KernelW: c.k, StrideH: c.s, StrideW: c.s, Padding: c.pad,
			UseBias: true, Groups: c.f, DilationH: c.dil, DilationW: c.dil}
		dw = cv
	} else {
		d := NewDepthwiseConv2D(c.k, c.s, c.pad)
		d.DepthMultiplier, d.DilationH, d.DilationW = c.mult, c.dil, c.dil
		dw = d
	}
	g.Output(applyAct(g, c.act2, g.Apply(dw, y)))
	opt = buildOptimized(t, g, 3)
	var kinds []string
	for _, n := range opt.Nodes() {
		kinds = append(kinds, n.Op.Kind())
		if o, ok := n.Op.(*PointwiseDepthwise); ok {
			op = o
		}
	}
	if op == nil || len(kinds) != 2 {
		t.Fatalf("optimized graph %s, want InputLayer PointwiseDepthwise", strings.Join(kinds, " "))
	}
	return g, opt, op
}

// buildOptimized builds g, gives its biases random values (seed) and
// returns its Optimize copy.
func buildOptimized(t testing.TB, g *Graph, seed uint64) *Graph {
	t.Helper()
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	rng := NewRNG(seed)
	for _, p := range g.Params() {
		if p.Name == "bias" {
			copy(p.Value.Data, convRand(rng, len(p.Value.Data)).Data)
		}
	}
	opt, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// TestPointwiseDepthwise checks the fused op against the two layers it
// replaces, in strips of several sizes (rows shared between strips
// moved, a strip of one row, a whole image), on 1 and 3 threads, and run
// one after the other as small expansions are.
func TestPointwiseDepthwise(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	cases := []pdCase{
		{n: 2, h: 13, w: 11, cin: 5, f: 32, k: 3, s: 1, dil: 1, mult: 1, pad: Same, act1: "relu6", act2: "relu6"},
		{n: 1, h: 17, w: 9, cin: 8, f: 48, k: 3, s: 2, dil: 1, mult: 1, pad: Explicit(1), act1: "silu", act2: "silu", conv: true},
		{n: 2, h: 12, w: 14, cin: 3, f: 20, k: 5, s: 2, dil: 1, mult: 1, pad: Same, act1: "hard_swish", act2: "hard_swish"},
		{n: 1, h: 15, w: 10, cin: 16, f: 16, k: 5, s: 1, dil: 1, mult: 1, pad: Padding{Mode: "explicit", Top: 2, Bottom: 1, Left: 0, Right: 2}, act1: "", act2: "silu"},
		{n: 2, h: 11, w: 13, cin: 7, f: 24, k: 3, s: 1, dil: 2, mult: 1, pad: Same, act1: "relu", act2: ""},
		{n: 1, h: 9, w: 8, cin: 4, f: 12, k: 3, s: 2, dil: 1, mult: 2, pad: Valid, act1: "relu6", act2: "relu"},
		{n: 2, h: 10, w: 7, cin: 6, f: 10, k: 3, s: 1, dil: 1, mult: 3, pad: Same, act1: "silu", act2: "relu6", conv: true},
		// Taller padding than the kernel reaches: rows of zeros only.
		{n: 1, h: 6, w: 6, cin: 4, f: 16, k: 3, s: 1, dil: 1, mult: 1, pad: Padding{Mode: "explicit", Top: 4, Bottom: 3, Left: 1, Right: 1}, act1: "relu", act2: "relu6"},
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			g, opt, op := pdGraph(t, c)
			rng := NewRNG(4)
			in := convRand(rng, c.n, c.h, c.w, c.cin)
			for i := range in.Data {
				in.Data[i] *= 3
			}
			kernels.SetThreads(1)
			ref, err := g.NewSession().Run(false, in)
			if err != nil {
				t.Fatal(err)
			}
			want := ref[0].Clone()
			row := c.w * c.f
			for _, strip := range []int{0, 1, 2 * row, 3*row + 5, 5 * row, 1 << 20} {
				for _, th := range []int{1, 3} {
					kernels.SetThreads(th)
					op.stripFloats, op.stripMin = strip, 1 // strips on any size
					if strip == 0 {
						op.stripMin = 0 // these images are small: one op after the other
					}
					got, err := opt.NewSession().Run(false, in)
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.EqualShape(got[0].Shape, want.Shape) {
						t.Fatalf("shape %v, want %v", got[0].Shape, want.Shape)
					}
					fuseClose(t, fmt.Sprintf("strip %d floats, %d threads: out", strip, th), got[0].Data, want.Data, 1e-5)
				}
			}
		})
	}
}

// TestPointwiseDepthwiseNotFused: a pointwise output read twice, or one
// the graph returns, or a depthwise layer with a residual, keeps the two
// layers.
func TestPointwiseDepthwiseNotFused(t *testing.T) {
	build := func(f func(g *Graph, x *Value)) string {
		g := NewGraph()
		f(g, g.Input("x", 6, 6, 4))
		return kindsOf(buildOptimized(t, g, 1))
	}
	cases := []struct {
		name, want string
		f          func(g *Graph, x *Value)
	}{
		{"read twice", "InputLayer Conv2D DepthwiseConv2D", func(g *Graph, x *Value) {
			y := g.Apply(NewConv2D(8, 1, 1, Valid), x)
			g.Output(g.Add(g.Apply(NewDepthwiseConv2D(3, 1, Same), y), y))
		}},
		{"graph output", "InputLayer Conv2D DepthwiseConv2D", func(g *Graph, x *Value) {
			y := g.Apply(NewConv2D(8, 1, 1, Valid), x)
			g.Output(y, g.Apply(NewDepthwiseConv2D(3, 1, Same), y))
		}},
		{"residual", "InputLayer Conv2D DepthwiseConv2D", func(g *Graph, x *Value) {
			y := g.Apply(NewConv2D(4, 1, 1, Valid), x)
			g.Output(g.Add(g.Apply(NewDepthwiseConv2D(3, 1, Same), y), x))
		}},
		{"3x3 first", "InputLayer Conv2D DepthwiseConv2D", func(g *Graph, x *Value) {
			g.Output(g.Apply(NewDepthwiseConv2D(3, 1, Same), g.Apply(NewConv2D(8, 3, 1, Same), x)))
		}},
		{"strided pointwise", "InputLayer Conv2D DepthwiseConv2D", func(g *Graph, x *Value) {
			g.Output(g.Apply(NewDepthwiseConv2D(3, 1, Same), g.Apply(NewConv2D(8, 1, 2, Valid), x)))
		}},
	}
	for _, c := range cases {
		if got := build(c.f); got != c.want {
			t.Errorf("%s: optimized graph %s, want %s", c.name, got, c.want)
		}
	}
}

// TestPointwiseDepthwiseTrainAndSave: the fused op refuses training with
// an error that says why, and a model file stores the two layers it
// replaced, which load and compute the same.
func TestPointwiseDepthwiseTrainAndSave(t *testing.T) {
	g, opt, _ := pdGraph(t, pdCase{n: 1, h: 5, w: 5, cin: 3, f: 8, k: 3, s: 1, dil: 1, mult: 1, pad: Same, act1: "relu6", act2: "silu"})
	x := convRand(NewRNG(1), 2, 5, 5, 3)
	s := opt.NewSession()
	if _, err := s.Run(true, x); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backward(tensor.New(2, 5, 5, 8)); err == nil || !strings.Contains(err.Error(), "inference only") {
		t.Errorf("Backward: %v, want an inference-only error", err)
	}
	checkSavedUnfused(t, g, opt, "InputLayer Conv2D DepthwiseConv2D", x)
}

// checkSavedUnfused saves opt, loads it back and checks its node kinds and
// that it computes what g does on xs.
func checkSavedUnfused(t *testing.T, g, opt *Graph, kinds string, xs ...*tensor.Tensor) {
	t.Helper()
	path := t.TempDir() + "/m.safetensors"
	if err := SaveFile(path, opt, nil); err != nil {
		t.Fatal(err)
	}
	back, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(back.Graph()); got != kinds {
		t.Errorf("loaded graph %s, want %s", got, kinds)
	}
	want, err := g.NewSession().Run(false, xs...)
	if err != nil {
		t.Fatal(err)
	}
	w := want[0].Clone()
	got, err := back.Graph().NewSession().Run(false, xs...)
	if err != nil {
		t.Fatal(err)
	}
	fuseClose(t, "loaded", got[0].Data, w.Data, 1e-5)
	reopt, err := Optimize(back.Graph())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := kindsOf(reopt), kindsOf(opt); a != b {
		t.Errorf("loaded and optimized again: %s, want %s", a, b)
	}
}

// BenchmarkPointwiseDepthwise times MobileNetV2's and EfficientNet-B0's
// largest expansions with their depthwise layers at batch 1 on a frozen
// graph, fused (strips of the expansion in cache) and as the two
// layers, the expanded tensor written to memory and read back. Between
// runs (untimed) 64 MB are written, as a network's other layers would
// push these layers' buffers out of the caches.
func BenchmarkPointwiseDepthwise(b *testing.B) {
	evict := make([]float32, 16<<20)
	for _, c := range []pdCase{
		{n: 1, h: 112, w: 112, cin: 16, f: 96, k: 3, s: 2, dil: 1, mult: 1, pad: Same, act1: "relu6", act2: "relu6"},
		{n: 1, h: 56, w: 56, cin: 24, f: 144, k: 3, s: 1, dil: 1, mult: 1, pad: Same, act1: "silu", act2: "silu"},
	} {
		g, opt, _ := pdGraph(b, c)
		x := convRand(NewRNG(1), c.n, c.h, c.w, c.cin)
		for _, v := range []struct {
			name string
			g    *Graph
		}{{"layers", g}, {"fused", opt}} {
			b.Run(fmt.Sprintf("%dx%dx%d-%d s%d/%s", c.h, c.w, c.cin, c.f, c.s, v.name), func(b *testing.B) {
				v.g.SetFrozen(true)
				defer v.g.SetFrozen(false)
				s := v.g.NewSession()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					for j := range evict {
						evict[j] = float32(i)
					}
					b.StartTimer()
					if _, err := s.Run(false, x); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
