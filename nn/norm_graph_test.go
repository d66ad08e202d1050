package nn

import (
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// normGraph uses every op of batchnorm.go, layernorm.go,
// activation_more.go and matmul.go: tokens (batch, 5, 4) through dense
// layers, normalisations and activations, self-attention-like products,
// then a Gemm head with a constant weight and bias.
func normGraph(t testing.TB) *Graph {
	t.Helper()
	g := NewGraph()
	x := g.Input("x", 5, 4)
	h := g.Apply(NewDense(8), x)
	h = g.Apply(NewBatchNorm(0.9, 0), h)
	h = g.Apply(NewReLU6(), h)
	h = g.Apply(NewHardSwish(), g.Apply(NewDense(8), h))
	h = g.Apply(NewLayerNorm(1e-5), h)
	h = g.Apply(NewSiLU(), h)
	h = g.Apply(NewPReLU(false), h)
	h = g.Apply(NewGELU(""), h)
	h = g.Apply(NewGELU("tanh"), h)
	h = g.Apply(NewClip(-1, 1.5), h)
	h = g.Apply(NewHardSigmoid(), h)
	// Attention-like: softmax(h h^T) h, then a token-wise constant matrix.
	s := g.Apply(&Softmax{Axis: -1}, g.Apply(&MatMul{TransB: true}, h, h))
	h = g.Apply(NewMatMul(), s, h)
	w := tensor.New(8, 3)
	for i := range w.Data {
		w.Data[i] = float32(i%5)*0.2 - 0.4
	}
	h = g.Apply(NewMatMul(), h, g.Apply(NewConstant(w)))
	h = g.Apply(NewFlatten(), h)
	wb, cb := tensor.New(6, 15), tensor.New(6)
	for i := range wb.Data {
		wb.Data[i] = float32(i%7)*0.1 - 0.3
	}
	cb.Fill(0.1)
	gemm := &Gemm{Alpha: 0.5, Beta: 2, TransB: true}
	h = g.Apply(gemm, h, g.Apply(NewConstant(wb)), g.Apply(NewConstant(cb)))
	g.Output(g.Apply(NewSoftmax(), h))
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNormGraphGradients(t *testing.T) {
	g := normGraph(t)
	gradCheckGraph(t, g, [][]int{{6, 5, 4}}, gradOpts{Training: true, Eps: 1e-2, Tol: 2e-2, Samples: 20})
}

// A steady-state training step and inference through these ops allocate
// nothing.
func TestNormOpsAllocateNothing(t *testing.T) {
	g := normGraph(t)
	in := randNormal(NewRNG(1), 16, 5, 4)
	target := tensor.New(16, 6)
	for i := range 16 {
		target.Data[i*6+i%6] = 1
	}
	loss := NewCategoricalCrossEntropy()
	step := func() {
		if _, err := g.TrainStep(in, target, loss); err != nil {
			t.Fatal(err)
		}
	}
	step()
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Errorf("TrainStep allocates %v times per call", a)
	}
	infer := func() {
		if _, err := g.Predict(in); err != nil {
			t.Fatal(err)
		}
	}
	infer()
	if a := testing.AllocsPerRun(20, infer); a != 0 {
		t.Errorf("Predict allocates %v times per call", a)
	}
	// And with the batch size changing between two plans.
	small := randNormal(NewRNG(2), 3, 5, 4)
	both := func() {
		if _, err := g.Predict(in); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Predict(small); err != nil {
			t.Fatal(err)
		}
	}
	both()
	if a := testing.AllocsPerRun(20, both); a != 0 {
		t.Errorf("Predict on two batch sizes allocates %v times per pair", a)
	}
}

func TestNormGraphSaveLoad(t *testing.T) {
	g := normGraph(t)
	// Train a little so that the moving statistics are not the initial ones.
	in := randNormal(NewRNG(3), 8, 5, 4)
	if _, err := g.Forward(in, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "norm.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	got, err := m.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	relClose(t, "reloaded", got.Data, want.Data, 0)
	if g.Summary() != m.Summary() {
		t.Errorf("summary changed:\n%s\n%s", g.Summary(), m.Summary())
	}
	// Optimize folds what it can; the result is unchanged.
	opt, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	y, err := opt.NewSession().Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	relClose(t, "optimised", y[0].Data, want.Data, 1e-5)
	if len(opt.Nodes()) >= len(g.Nodes()) {
		t.Errorf("Optimize left %d of %d nodes", len(opt.Nodes()), len(g.Nodes()))
	}
}

// At inference batch norm and layer norm write over their input: a chain
// of them needs no buffer beyond the input's.
func TestNormOpsInPlace(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 6, 8)
	h := g.Apply(NewDense(8), x)
	for range 3 {
		h = g.Apply(NewLayerNorm(0), g.Apply(NewBatchNorm(0, 0), h))
	}
	g.Output(g.Apply(NewPReLU(false), h))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	s := g.NewSession()
	in := randNormal(NewRNG(1), 4, 6, 8)
	want, err := s.Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.pool.free); n > 1 {
		t.Errorf("%d free buffers after inference, want 1 (everything after the dense layer in place)", n)
	}
	// The same values as op by op, out of place.
	ref := in
	for _, n := range g.Nodes()[1:] {
		ref = evalOp(t, n.Op, &Call{}, ref)[0]
	}
	relClose(t, "in place", want[0].Data, ref.Data, 0)
}
