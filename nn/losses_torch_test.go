package nn

import (
	"math"
	"testing"
)

// TestLossTorch checks the losses against the PyTorch values of
// testdata/torch_bn_losses.json (gen_torch_bn_fixtures.py).
func TestLossTorch(t *testing.T) {
	f := loadBNLossFixtures(t).Losses
	check := func(name string, l Loss, fwd func() (float64, error), ref lossRef) {
		t.Helper()
		v, err := fwd()
		if err != nil {
			t.Fatal(err)
		}
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
