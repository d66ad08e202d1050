package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// gradCheck options. Layers compute in float32; the check sums the loss
// L = sum(y * r) in float64 and compares central differences with the
// analytic gradients returned by Backward.
type gradOpts struct {
	Training bool
	Eps      float64 // perturbation (default 1e-2)
	Tol      float64 // |a-n| <= Tol * max(1, |a|, |n|) (default 2e-2)
	Samples  int     // coordinates checked per tensor (default 40)
	// Distinct makes x a shuffled ramp of well-separated values so that
	// max-pooling and ReLU kinks are not crossed by the perturbation.
	Distinct bool
	Seed     uint64
}

// gradCheck builds layer for inShape[1:], runs forward/backward on random
// data and checks dL/dx and dL/dparam for every trainable param.
func gradCheck(t *testing.T, layer Layer, inShape []int, o gradOpts) {
	t.Helper()
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.Tol == 0 {
		o.Tol = 2e-2
	}
	if o.Samples == 0 {
		o.Samples = 40
	}
	rng := NewRNG(o.Seed + 1)
	if _, err := layer.Build(inShape[1:], rng); err != nil {
		t.Fatalf("%s Build(%v): %v", layer.Kind(), inShape, err)
	}
	x := tensor.New(inShape...)
	if o.Distinct {
		perm := rng.Perm(len(x.Data))
		for i, p := range perm {
			x.Data[i] = float32(p)/float32(len(perm))*4 - 2
		}
	} else {
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
	}
	forward := func() *tensor.Tensor {
		if u, ok := layer.(RNGUser); ok {
			u.SetRNG(NewRNG(o.Seed + 99)) // same dropout mask every call
		}
		y, err := layer.Forward(x, o.Training)
		if err != nil {
			t.Fatalf("%s Forward: %v", layer.Kind(), err)
		}
		return y
	}
	y := forward()
	r := tensor.New(y.Shape...)
	for i := range r.Data {
		r.Data[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		y := forward()
		s := 0.0
		for i, v := range y.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	params := layer.Params()
	ZeroGrads(params)
	forward()
	dx, err := layer.Backward(r)
	if err != nil {
		t.Fatalf("%s Backward: %v", layer.Kind(), err)
	}
	if dx == nil || !dx.SameShape(x) {
		t.Fatalf("%s: dx shape %v, want %v", layer.Kind(), dx, x.Shape)
	}
	dxCopy := dx.Clone()
	grads := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		if p.Trainable {
			grads[i] = p.Grad.Clone()
		}
	}
	check := func(what string, data []float32, analytic []float32) {
		t.Helper()
		idx := rng.Perm(len(data))
		if len(idx) > o.Samples {
			idx = idx[:o.Samples]
		}
		for _, i := range idx {
			old := data[i]
			data[i] = old + float32(o.Eps)
			lp := loss()
			data[i] = old - float32(o.Eps)
			lm := loss()
			data[i] = old
			num := (lp - lm) / (2 * o.Eps)
			a := float64(analytic[i])
			if math.Abs(a-num) > o.Tol*math.Max(1, math.Max(math.Abs(a), math.Abs(num))) {
				t.Errorf("%s %s[%d]: analytic %.6g, numeric %.6g (input %v)", layer.Kind(), what, i, a, num, inShape)
			}
		}
	}
	check("dx", x.Data, dxCopy.Data)
	for i, p := range params {
		if p.Trainable {
			check("d"+p.Name, p.Value.Data, grads[i].Data)
		}
	}
}

// randTensor fills a tensor with N(0,1) values.
func randTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}
