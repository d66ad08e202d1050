package nn

import (
	"math"
	"sync"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// frozenNet has a convolution on each forward path that can read frozen
// copies: Winograd (3x3, stride 1), the implicit GEMM (2x2, stride 1),
// im2col (3x3, stride 2; and 2x2 stride 1 on rows too narrow for the
// implicit path with packed weights), a 1x1 one whose kernel is too large
// for the all-tiles kernel (convGemm), and a grouped one (no copies).
func frozenNet(t testing.TB) (*Graph, map[string]*Conv2D) {
	t.Helper()
	g := NewGraph()
	x := g.Input("x", 9, 10, 12)
	convs := map[string]*Conv2D{
		"wino":     NewConv2D(20, 3, 1, Same),
		"implicit": NewConv2D(17, 2, 1, Same),
		"im2col":   NewConv2D(33, 3, 2, Same),
		"narrow":   NewConv2D(19, 2, 1, Same),
		"direct":   NewConv2D(300, 1, 1, Valid),
		"grouped":  NewConv2D(8, 3, 1, Same),
	}
	convs["grouped"].Groups = 4
	convs["wino"].Act = Act{Kind: "relu"}
	h := g.Apply(convs["wino"], x)
	h = g.Apply(convs["implicit"], h)
	h = g.Apply(convs["im2col"], h)
	h = g.Apply(convs["narrow"], h)
	h = g.Apply(convs["direct"], h)
	h = g.Apply(convs["grouped"], h)
	g.Output(g.Apply(NewDense(5), g.Apply(NewFlatten(), h)))
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	rng := NewRNG(4)
	for _, p := range g.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(rng.NormFloat64()) / 8
		}
	}
	return g, convs
}

func frozenInput(n int) *tensor.Tensor {
	x := tensor.New(n, 9, 10, 12)
	rng := NewRNG(5)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

func runOnce(t *testing.T, s *Session, x *tensor.Tensor) []float32 {
	t.Helper()
	ys, err := s.Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), ys[0].Data...)
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: output %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// closeTo checks got against want within 1e-5 of want's largest
// magnitude: a frozen graph may sum in another order (im2col for the
// implicit GEMM's kernel rows).
func frozenClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	var big float64
	for _, v := range want {
		big = max(big, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= 1e-5*big) {
			t.Fatalf("%s: output %d = %g, want %g (largest %g)", what, i, got[i], want[i], big)
		}
	}
}

// TestFrozenSameBits: a frozen graph gives the results of the unfrozen
// one (the packed and transformed copies feed the same arithmetic; only
// the narrow convolution changes path and sums in another order), and
// the copies are there for the paths that read them.
func TestFrozenSameBits(t *testing.T) {
	g, convs := frozenNet(t)
	for _, n := range []int{1, 3} {
		x := frozenInput(n)
		want := runOnce(t, g.NewSession(), x)
		g.SetFrozen(true)
		s := g.NewSession()
		frozenClose(t, "frozen", runOnce(t, s, x), want)
		frozenClose(t, "frozen, second run", runOnce(t, s, x), want)
		g.SetFrozen(false)
		sameBits(t, "unfrozen again", runOnce(t, s, x), want)
	}
	g.SetFrozen(true)
	runOnce(t, g.NewSession(), frozenInput(2))
	gen := g.frozen.Load()
	for _, n := range g.Nodes() {
		if d, ok := n.Op.(*Dense); ok {
			if dd := d.kernel.derived; dd == nil || dd.gen != gen {
				t.Error("dense: no packed kernel kept at batch 2")
			} else if _, ok := dd.val.(*kernels.PackedB); !ok {
				t.Errorf("dense: kept %T, want a packed kernel", dd.val)
			}
		}
	}
	for name, c := range convs {
		d := c.kernel.derived
		var f *convFrozen
		if d != nil && d.gen == gen {
			f, _ = d.val.(*convFrozen)
		}
		switch {
		case name == "grouped":
			if f != nil {
				t.Errorf("%s: has a frozen copy", name)
			}
		case name == "wino":
			if f == nil || f.wino == nil {
				t.Errorf("%s: no transformed kernel kept", name)
			}
		default:
			if f == nil || f.packed == nil {
				t.Errorf("%s: no packed kernel kept", name)
			}
		}
	}
}

// TestFrozenWeightChanges: copies follow the weights wherever the
// contract says they do: refreezing or WeightsChanged after a change by
// hand, and a
// training run (the optimizer's change comes after it) on this graph or
// on another that shares the Params.
func TestFrozenWeightChanges(t *testing.T) {
	g, convs := frozenNet(t)
	ref, refConvs := frozenNet(t) // the same weights, never frozen
	x := frozenInput(2)
	g.SetFrozen(true)
	s, rs := g.NewSession(), ref.NewSession()
	before := runOnce(t, s, x)
	frozenClose(t, "frozen", before, runOnce(t, rs, x))
	bump := func() {
		for _, cs := range []map[string]*Conv2D{convs, refConvs} {
			for _, c := range cs {
				for i := range c.kernel.Value.Data {
					c.kernel.Value.Data[i] *= 1.5
				}
			}
		}
	}

	bump()
	g.SetFrozen(true)
	got := runOnce(t, s, x)
	frozenClose(t, "refrozen after a change", got, runOnce(t, rs, x))
	if got[0] == before[0] {
		t.Fatal("the change of weights made no difference")
	}

	bump()
	WeightsChanged(g.Params())
	frozenClose(t, "after WeightsChanged", runOnce(t, s, x), runOnce(t, rs, x))

	// A training run of a graph sharing the Params (the Model methods'
	// fused copy) drops the copies before the step that changes them.
	other, err := FuseActivations(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.NewSession().Run(true, x); err != nil {
		t.Fatal(err)
	}
	bump()
	frozenClose(t, "after a training run elsewhere", runOnce(t, s, x), runOnce(t, rs, x))

	if _, err := s.Run(true, x); err != nil {
		t.Fatal(err)
	}
	bump()
	frozenClose(t, "after a training run", runOnce(t, s, x), runOnce(t, rs, x))
	if !g.Frozen() {
		t.Fatal("a training run unfroze the graph")
	}
}

// TestFrozenConcurrent: sessions of a frozen graph build and share the
// copies at once (run with -race).
func TestFrozenConcurrent(t *testing.T) {
	g, _ := frozenNet(t)
	x := frozenInput(1)
	want := runOnce(t, g.NewSession(), x)
	g.SetFrozen(true)
	var wg sync.WaitGroup
	outs := make([][]float32, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ys, err := g.NewSession().Run(false, x)
			if err == nil {
				outs[i] = append([]float32(nil), ys[0].Data...)
			}
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if o == nil {
			t.Fatalf("session %d failed", i)
		}
		frozenClose(t, "concurrent session", o, want)
	}
}
