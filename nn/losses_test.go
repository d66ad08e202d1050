package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// lossGradCheck compares Backward with central differences of forward in
// every coordinate of x.
func lossGradCheck(t *testing.T, name string, forward func() float64, backward func() (*tensor.Tensor, error), x *tensor.Tensor, eps, tol float64) {
	t.Helper()
	forward()
	g, err := backward()
	if err != nil {
		t.Fatal(err)
	}
	analytic := g.Clone()
	for i := range x.Data {
		old := x.Data[i]
		x.Data[i] = old + float32(eps)
		lp := forward()
		x.Data[i] = old - float32(eps)
		lm := forward()
		x.Data[i] = old
		num := (lp - lm) / (2 * eps)
		a := float64(analytic.Data[i])
		if math.Abs(a-num) > tol*math.Max(1e-2, math.Max(math.Abs(a), math.Abs(num))) {
			t.Errorf("%s: grad[%d] analytic %.6g, numeric %.6g", name, i, a, num)
		}
	}
}

func mustLoss(t *testing.T) func(float64, error) float64 {
	return func(v float64, err error) float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestLossGrads(t *testing.T) {
	rng := NewRNG(3)
	chk := mustLoss(t)
	onehot := tensor.New(4, 5)
	for i := range 4 {
		onehot.Data[i*5+rng.IntN(5)] = 1
	}
	soft := tensor.New(4, 5) // soft labels: rows sum to 1
	for i := range soft.Data {
		soft.Data[i] = 0.2
	}
	for _, y := range []*tensor.Tensor{onehot, soft} {
		for _, cw := range [][]float32{nil, {1, 2, 0.5, 3, 1.5}} {
			l := NewCategoricalCrossEntropy()
			l.ClassWeights = cw
			z := randTensor(rng, 4, 5)
			lossGradCheck(t, "cce logits", func() float64 { return chk(l.ForwardLogits(z, y)) }, l.Backward, z, 1e-3, 1e-3)
			p := tensor.New(4, 5)
			for i := range p.Data {
				p.Data[i] = 0.1 + rng.Float32()
			}
			lossGradCheck(t, "cce probs", func() float64 { return chk(l.Forward(p, y)) }, l.Backward, p, 1e-3, 1e-2)
		}
	}
	y := tensor.New(3, 4)
	for i := range y.Data {
		y.Data[i] = float32(rng.IntN(2))
	}
	b := NewBinaryCrossEntropy()
	p := tensor.New(3, 4)
	for i := range p.Data {
		p.Data[i] = 0.05 + 0.9*rng.Float32()
	}
	lossGradCheck(t, "bce", func() float64 { return chk(b.Forward(p, y)) }, b.Backward, p, 1e-3, 1e-2)
	bl := NewBinaryCrossEntropy()
	bl.FromLogits = true
	z := randTensor(rng, 3, 4)
	lossGradCheck(t, "bce logits", func() float64 { return chk(bl.Forward(z, y)) }, bl.Backward, z, 1e-3, 1e-3)
	m := NewMeanSquaredError()
	q, r := randTensor(rng, 2, 3, 2), randTensor(rng, 2, 3, 2)
	lossGradCheck(t, "mse", func() float64 { return chk(m.Forward(q, r)) }, m.Backward, q, 1e-3, 1e-3)
}

func TestLossTorch(t *testing.T) {
	f := loadBNLossFixtures(t).Losses
	chk := mustLoss(t)
	check := func(name string, l Loss, fwd func() (float64, error), ref lossRef) {
		t.Helper()
		v := chk(fwd())
		if math.Abs(v-ref.Value) > 1e-4*math.Abs(ref.Value) {
			t.Errorf("%s = %.7g, want %.7g", name, v, ref.Value)
		}
		g, err := l.Backward()
		if err != nil {
			t.Fatal(err)
		}
		relClose(t, name+" grad", g.Data, ref.Grad, 1e-4)
	}
	y := fixtureTensor(t, f.Onehot, f.N, f.C)
	z := fixtureTensor(t, f.Logits, f.N, f.C)
	cce := NewCategoricalCrossEntropy()
	check("cce logits", cce, func() (float64, error) { return cce.ForwardLogits(z, y) }, f.CCELogits)
	p := fixtureTensor(t, f.Probs, f.N, f.C)
	check("cce probs", cce, func() (float64, error) { return cce.Forward(p, y) }, f.CCEProbs)
	cw := NewCategoricalCrossEntropy()
	cw.ClassWeights = f.ClassWeights
	check("cce weighted", cw, func() (float64, error) { return cw.ForwardLogits(z, y) }, f.CCEWeighted)

	by := fixtureTensor(t, f.BCEY, f.BCEShape...)
	bce := NewBinaryCrossEntropy()
	bp := fixtureTensor(t, f.BCEP, f.BCEShape...)
	check("bce", bce, func() (float64, error) { return bce.Forward(bp, by) }, f.BCE)
	bl := NewBinaryCrossEntropy()
	bl.FromLogits = true
	bz := fixtureTensor(t, f.BCEZ, f.BCEShape...)
	check("bce logits", bl, func() (float64, error) { return bl.Forward(bz, by) }, f.BCELogits)
	mse := NewMeanSquaredError()
	mp, my := fixtureTensor(t, f.MSEP, f.MSEShape...), fixtureTensor(t, f.MSEY, f.MSEShape...)
	check("mse", mse, func() (float64, error) { return mse.Forward(mp, my) }, f.MSE)
}

func TestLossStabilityAndClipping(t *testing.T) {
	chk := mustLoss(t)
	y := fixtureTensor(t, []float32{0, 1, 0, 1, 0, 0}, 2, 3)
	z := fixtureTensor(t, []float32{1000, -1000, 0, -1e4, 0, 1e4}, 2, 3)
	l := NewCategoricalCrossEntropy()
	// row 1: lse = 1000, loss = 1000 - (-1000) = 2000; row 2: 1e4 + 1e4.
	if v := chk(l.ForwardLogits(z, y)); math.Abs(v-(2000+2e4)/2) > 1e-3 {
		t.Errorf("huge logits: loss %v, want %v", v, (2000+2e4)/2)
	}
	g, _ := l.Backward()
	want := []float32{0.5, -0.5, 0, -0.5, 0, 0.5}
	relClose(t, "huge logits grad", g.Data, want, 1e-6)
	// A zero probability for the true class is clipped to 1e-7: -log(1e-7).
	p := fixtureTensor(t, []float32{1, 0, 0}, 1, 3)
	if v := chk(l.Forward(p, fixtureTensor(t, []float32{0, 1, 0}, 1, 3))); math.Abs(v-16.118095) > 1e-4 {
		t.Errorf("clipped cce = %v, want -log(1e-7) = 16.118", v)
	}
	b := NewBinaryCrossEntropy()
	if v := chk(b.Forward(fixtureTensor(t, []float32{0, 1}, 1, 2), fixtureTensor(t, []float32{1, 1}, 1, 2))); math.Abs(v-16.118095/2) > 1e-3 {
		t.Errorf("clipped bce = %v, want %v", v, 16.118095/2)
	}
	b.FromLogits = true
	if v := chk(b.Forward(fixtureTensor(t, []float32{-1e4, 1e4}, 1, 2), fixtureTensor(t, []float32{1, 0}, 1, 2))); math.Abs(v-1e4) > 1e-2 {
		t.Errorf("bce with huge logits = %v, want 1e4", v)
	}
	// NaN predictions give a NaN loss, not an error: the training loop decides.
	if v, err := NewMeanSquaredError().Forward(fixtureTensor(t, []float32{float32(math.NaN())}, 1, 1), tensor.New(1, 1)); err != nil || !math.IsNaN(v) {
		t.Errorf("NaN prediction: loss %v err %v, want NaN and nil", v, err)
	}
}

func TestLossErrors(t *testing.T) {
	for _, l := range []Loss{NewCategoricalCrossEntropy(), NewBinaryCrossEntropy(), NewMeanSquaredError()} {
		if _, err := l.Backward(); err == nil {
			t.Errorf("%s: Backward before Forward did not fail", l.Name())
		}
		_, err := l.Forward(tensor.New(2, 3), tensor.New(2, 4))
		if err == nil || !strings.Contains(err.Error(), "(2, 3)") || !strings.Contains(err.Error(), "(2, 4)") {
			t.Errorf("%s: shape mismatch error %v does not name both shapes", l.Name(), err)
		}
	}
	l := NewCategoricalCrossEntropy()
	l.ClassWeights = []float32{1, 2}
	if _, err := l.ForwardLogits(tensor.New(2, 3), tensor.New(2, 3)); err == nil {
		t.Error("2 class weights for 3 classes accepted")
	}
}

func TestLossNoAllocs(t *testing.T) {
	rng := NewRNG(1)
	z, y := randTensor(rng, 16, 10), tensor.New(16, 10)
	for i := range 16 {
		y.Data[i*10+i%10] = 1
	}
	p := tensor.New(16, 10)
	SoftmaxRows(p.Data, z.Data, 10)
	cce := NewCategoricalCrossEntropy()
	cce.ClassWeights = make([]float32, 10)
	bce, mse := NewBinaryCrossEntropy(), NewMeanSquaredError()
	allocs := testing.AllocsPerRun(5, func() {
		cce.ForwardLogits(z, y)
		cce.Backward()
		cce.Forward(p, y)
		cce.Backward()
		bce.Forward(p, y)
		bce.Backward()
		mse.Forward(p, y)
		mse.Backward()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}

// BenchmarkCCELogits is ForwardLogits + Backward on 256 rows of 10 classes.
func BenchmarkCCELogits(b *testing.B) {
	z, y := randTensor(NewRNG(1), 256, 10), tensor.New(256, 10)
	for i := range 256 {
		y.Data[i*10+i%10] = 1
	}
	l := NewCategoricalCrossEntropy()
	for b.Loop() {
		l.ForwardLogits(z, y)
		l.Backward()
	}
}
