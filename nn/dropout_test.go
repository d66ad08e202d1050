package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestDropoutGrad(t *testing.T) {
	// gradCheckOp gives Forward the same generator seed every call, so the
	// mask is fixed.
	gradCheckOp(t, NewDropout(0.4), [][]int{{4, 3, 3, 2}}, gradOpts{Training: true})
	gradCheckOp(t, NewDropout(0.4), [][]int{{4, 6}}, gradOpts{Training: false})
}

func TestDropoutStatistics(t *testing.T) {
	d := NewDropout(0.3)
	x := tensor.New(20, 1000)
	x.Fill(1)
	call := &Call{Train: true, RNG: NewRNG(11)}
	y := evalOp(t, d, call, x)[0]
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
	dx := evalOpGrad(t, d, call, []*tensor.Tensor{x}, []*tensor.Tensor{y}, []*tensor.Tensor{y})[0]
	for i, v := range y.Data {
		if want := v * v; math.Abs(float64(dx.Data[i]-want)) > 1e-5 {
			t.Fatalf("dx[%d] = %v, want %v", i, dx.Data[i], want)
		}
	}
}

func TestDropoutDeterministicAndInference(t *testing.T) {
	x := randNormal(NewRNG(2), 3, 50)
	run := func(seed uint64) []float32 {
		return evalOp(t, NewDropout(0.5), &Call{Train: true, RNG: NewRNG(seed)}, x)[0].Data
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
	if y := evalOp(t, NewDropout(0.5), &Call{}, x)[0]; !same(y.Data, x.Data) {
		t.Error("inference is not the identity")
	}
	for _, r := range []float32{-0.1, 1, float32(math.NaN())} {
		shapeErr(t, NewDropout(r), [][]int{{2, 3}}, "rate", "[0, 1)")
	}
}

func TestDropoutNoAllocs(t *testing.T) {
	d := NewDropout(0.5)
	x := randNormal(NewRNG(1), 8, 64)
	y, dx := tensor.New(8, 64), tensor.New(8, 64)
	call := &Call{Train: true, RNG: NewRNG(1)}
	in, out := []*tensor.Tensor{x}, []*tensor.Tensor{y}
	dout, din := []*tensor.Tensor{y}, []*tensor.Tensor{dx}
	step := func() {
		if err := d.Forward(call, in, out); err != nil {
			t.Fatal(err)
		}
		if err := d.Backward(call, nil, nil, dout, din); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if allocs := testing.AllocsPerRun(5, step); allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}
