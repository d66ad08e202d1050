package nn

import (
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// poolShapeNet uses every pooling, reduction and shape op in one graph,
// after a Dense layer so that training runs their Backward.
func poolShapeNet(t *testing.T) *Graph {
	t.Helper()
	g := NewGraph()
	x := g.Input("x", 8, 8, 3)
	d := g.Apply(NewDense(4), x)                                                                                          // (8, 8, 4)
	a := g.Apply(NewMaxPool2D(2, 2), d)                                                                                   // 2x2 kernels
	b := g.Apply(&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}, d)                                // recorded winners
	c := g.Apply(&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1)}, d)                     // (4, 4, 4)
	h := g.Apply(NewConcat(-1), a, b, c)                                                                                  // (4, 4, 12)
	h = g.Apply(NewPad("constant", 0, 1, 1, 0, 0, 1, 1, 0), h)                                                            // (6, 6, 12)
	h = g.Apply(NewPad("reflect", 0, 1, 1, 0, 0, 1, 1, 0), h)                                                             // (8, 8, 12)
	h = g.Apply(NewResize("bilinear", 0.5, 0.5), h)                                                                       // (4, 4, 12)
	h = g.Apply(&Resize{Mode: "nearest", CoordinateMode: "asymmetric", NearestMode: "floor", Scales: []float32{2, 2}}, h) // (8, 8, 12)
	sp := g.Node("split", NewSplitParts(-1, 2), h)
	t1 := g.Apply(NewTranspose(0, 3, 1, 2), sp.Out(0)) // (6, 8, 8)
	t1 = g.Apply(NewTranspose(0, 2, 3, 1), t1)         // (8, 8, 6)
	m := g.Apply(NewMul(), t1, sp.Out(1))
	m = g.Apply(NewPad("edge", 0, 0, 1, 0, 0, 2, 0, 0), m)                      // (10, 9, 6)
	g1 := g.Apply(NewGlobalAveragePool(), m)                                    // (6)
	g2 := g.Apply(NewSqueeze(1, 2), g.Apply(&GlobalMaxPool{KeepDims: true}, m)) // (6)
	g3 := g.Apply(NewReshape(0, -1), g.Apply(NewUnsqueeze(1), g1))              // (6)
	r1 := g.Apply(NewReduceSum(false, 1, 2), m)                                 // (6)
	r2 := g.Apply(NewReduceMax(false, 1, 2), m)                                 // (6)
	r3 := g.Apply(NewReduceMean(false, 2), g.Apply(NewReduceMean(true, 1), m))  // (1, 6)
	r3 = g.Apply(NewSqueeze(1), r3)
	f := g.Apply(NewConcat(1), g.Apply(NewAdd(), g2, g3), r1, r2, r3)
	g.Output(g.Apply(NewSoftmax(), g.Apply(NewDense(4), f)))
	if err := g.Build(5); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPoolShapeTrainStepAllocatesNothing(t *testing.T) {
	g := poolShapeNet(t)
	in := psRand(1, 16, 8, 8, 3)
	target := tensor.New(16, 4)
	for i := range 16 {
		target.Data[i*4+i%4] = 1
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
}

// TestPoolShapeNetGradients checks the wiring end to end (views, saves,
// nil gradients of unused outputs). The ops' own checks are tighter: here
// a Dense layer mixes the inputs before the max pools, so a perturbation
// can cross a winner change, and the float32 noise of twelve layers limits
// how small it can be; 1e-2 passes with eps 1e-3 while a wrong gradient
// (a missed path, a wrong divisor) is off by far more.
func TestPoolShapeNetGradients(t *testing.T) {
	g := poolShapeNet(t)
	gradCheckGraph(t, g, [][]int{{2, 8, 8, 3}}, gradOpts{Training: true, Distinct: true, Eps: 1e-3, Tol: 1e-2, Samples: 30})
}

func TestPoolShapeNetSaveLoad(t *testing.T) {
	g := poolShapeNet(t)
	path := filepath.Join(t.TempDir(), "ps.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := psRand(2, 3, 8, 8, 3)
	want, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !psEqual(got.Data, want.Data) {
		t.Errorf("loaded model predicts %v, the original %v", got.Data, want.Data)
	}
}
