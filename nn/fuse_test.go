package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// A Conv2D followed by a ReLU in a Sequential applies the ReLU itself;
// outputs and gradients must equal those of the two layers run apart.
func TestSequentialFusedReLUMatchesSeparate(t *testing.T) {
	rng := NewRNG(3)
	x := randTensor(rng, 3, 6, 6, 2)
	target := tensor.New(3, 4)
	for i := range 3 {
		target.Data[i*4+i] = 1
	}
	build := func() (*Conv2D, *ReLU, *Sequential) {
		c, r := NewConv2D(4, 3, 1, Same), NewReLU()
		m := NewSequential(c, r, NewMaxPool2D(2, 2), NewFlatten(), NewDense(4), NewSoftmax())
		if err := m.Build([]int{6, 6, 2}, 9); err != nil {
			t.Fatal(err)
		}
		return c, r, m
	}
	c, r, m := build()
	if !c.fuseReLU || !r.fused || !r.gradFused || !m.Layers()[2].(*MaxPool2D).reluGrad {
		t.Fatal("Conv2D + ReLU + MaxPool2D not fused by Sequential.Build")
	}
	if _, err := m.TrainStep(x, target, NewCategoricalCrossEntropy()); err != nil {
		t.Fatal(err)
	}
	// The same model with fusion turned off.
	c2, r2, m2 := build()
	m2.SetFusion(false)
	if c2.fuseReLU || r2.fused || r2.gradFused || m2.Layers()[2].(*MaxPool2D).reluGrad {
		t.Fatal("SetFusion(false) left a layer fused")
	}
	if _, err := m2.TrainStep(x, target, NewCategoricalCrossEntropy()); err != nil {
		t.Fatal(err)
	}
	check := func(what string, a, b *tensor.Tensor) {
		t.Helper()
		for i := range a.Data {
			if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-5 {
				t.Fatalf("%s[%d]: fused %v, separate %v", what, i, a.Data[i], b.Data[i])
			}
		}
	}
	check("relu output", r.y, r2.y)
	for i, p := range m.Params() {
		check(p.Name+" grad", p.Grad, m2.Params()[i].Grad)
	}
	// A ReLU that follows no convolution is not fused.
	m3 := NewSequential(NewFlatten(), NewReLU(), NewDense(2))
	if err := m3.Build([]int{2, 2, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if m3.Layers()[1].(*ReLU).fused {
		t.Error("ReLU after Flatten marked fused")
	}
}
