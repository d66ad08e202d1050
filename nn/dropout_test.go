package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestDropoutGrad(t *testing.T) {
	// gradCheck reseeds the layer before every Forward, so the mask is fixed.
	gradCheck(t, NewDropout(0.4), []int{4, 3, 3, 2}, gradOpts{Training: true})
	gradCheck(t, NewDropout(0.4), []int{4, 6}, gradOpts{Training: false})
}

func TestDropoutStatistics(t *testing.T) {
	d := NewDropout(0.3)
	if _, err := d.Build([]int{1000}, nil); err != nil {
		t.Fatal(err)
	}
	d.SetRNG(NewRNG(11))
	x := tensor.New(20, 1000)
	x.Fill(1)
	y, err := d.Forward(x, true)
	if err != nil {
		t.Fatal(err)
	}
	zeros, sum := 0, 0.0
	for _, v := range y.Data {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v)-1/0.7) > 1e-6:
			t.Fatalf("kept value %v, want 1/(1-0.3)", v)
		}
		sum += float64(v)
	}
	frac := float64(zeros) / float64(len(y.Data))
	if math.Abs(frac-0.3) > 0.015 {
		t.Errorf("dropped fraction %.4f, want 0.3", frac)
	}
	if mean := sum / float64(len(y.Data)); math.Abs(mean-1) > 0.03 {
		t.Errorf("mean %.4f, want 1 (inverted dropout keeps the expectation)", mean)
	}
	// Backward uses the same mask.
	dx, err := d.Backward(y)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range y.Data {
		if want := v * v; math.Abs(float64(dx.Data[i]-want)) > 1e-5 {
			t.Fatalf("dx[%d] = %v, want %v", i, dx.Data[i], want)
		}
	}
}

func TestDropoutDeterministicAndInference(t *testing.T) {
	x := randTensor(NewRNG(2), 3, 50)
	run := func(seed uint64) []float32 {
		d := NewDropout(0.5)
		if _, err := d.Build([]int{50}, nil); err != nil {
			t.Fatal(err)
		}
		d.SetRNG(NewRNG(seed))
		y, err := d.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), y.Data...)
	}
	a, b, c := run(4), run(4), run(5)
	same := func(u, v []float32) bool {
		for i := range u {
			if u[i] != v[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different masks")
	}
	if same(a, c) {
		t.Error("different seeds gave the same mask")
	}
	d := NewDropout(0.5)
	if _, err := d.Build([]int{50}, nil); err != nil {
		t.Fatal(err)
	}
	y, err := d.Forward(x, false)
	if err != nil {
		t.Fatal(err)
	}
	if !same(y.Data, x.Data) {
		t.Error("inference is not the identity")
	}
	for _, r := range []float32{-0.1, 1, float32(math.NaN())} {
		if _, err := NewDropout(r).Build([]int{3}, nil); err == nil {
			t.Errorf("rate %v accepted", r)
		}
	}
}

func TestDropoutNoAllocs(t *testing.T) {
	d := NewDropout(0.5)
	x := randTensor(NewRNG(1), 8, 64)
	if _, err := d.Build([]int{64}, nil); err != nil {
		t.Fatal(err)
	}
	d.SetRNG(NewRNG(1))
	allocs := testing.AllocsPerRun(5, func() {
		y, _ := d.Forward(x, true)
		d.Backward(y)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}
