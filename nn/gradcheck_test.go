package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// Gradient checks. Ops compute in float32; the checks sum the loss
// L = sum_k <y_k, r_k> in float64 for fixed random r_k and compare central
// differences (L(w+eps) - L(w-eps)) / 2eps with the analytic gradients
// Backward returns.
type gradOpts struct {
	Training bool
	Eps      float64 // perturbation (default 1e-2)
	Tol      float64 // |a-n| <= Tol * max(1, |a|, |n|) (default 2e-2)
	Samples  int     // coordinates checked per tensor (default 40)
	// Distinct makes the inputs shuffled ramps of well-separated values so
	// that max-pooling and ReLU kinks are not crossed by the perturbation.
	Distinct bool
	Seed     uint64
	// Inputs, when set, are used instead of random inputs (nil entries are
	// random).
	Inputs []*tensor.Tensor
}

func (o *gradOpts) defaults() {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.Tol == 0 {
		o.Tol = 2e-2
	}
	if o.Samples == 0 {
		o.Samples = 40
	}
}

// randomInputs fills tensors of the given shapes.
func randomInputs(shapes [][]int, o gradOpts) []*tensor.Tensor {
	rng := NewRNG(o.Seed + 7)
	xs := make([]*tensor.Tensor, len(shapes))
	for k, s := range shapes {
		if k < len(o.Inputs) && o.Inputs[k] != nil {
			xs[k] = o.Inputs[k]
			continue
		}
		x := tensor.New(s...)
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
		xs[k] = x
	}
	return xs
}

// gradCheckOp builds op for input shapes (batch axis first), runs Forward
// and Backward outside a graph (honouring Saver and NoGrad) and checks
// dL/din and dL/dparam for every trainable param.
func gradCheckOp(t *testing.T, op Op, shapes [][]int, o gradOpts) {
	t.Helper()
	o.defaults()
	outShapes, err := op.Shapes(shapes)
	if err != nil {
		t.Fatalf("%s Shapes(%v): %v", op.Kind(), shapes, err)
	}
	if err := op.Build(shapes, NewRNG(o.Seed+1)); err != nil {
		t.Fatalf("%s Build(%v): %v", op.Kind(), shapes, err)
	}
	xs := randomInputs(shapes, o)
	outs := make([]*tensor.Tensor, len(outShapes))
	for i, s := range outShapes {
		outs[i] = tensor.New(s...)
	}
	call := &Call{Train: o.Training}
	forward := func() {
		call.RNG = NewRNG(o.Seed + 99) // the same dropout mask every call
		call.Train = o.Training
		if err := op.Forward(call, xs, outs); err != nil {
			t.Fatalf("%s Forward: %v", op.Kind(), err)
		}
	}
	rng := NewRNG(o.Seed + 3)
	rs := make([]*tensor.Tensor, len(outs))
	for i, y := range outs {
		rs[i] = tensor.New(y.Shape...)
		for j := range rs[i].Data {
			rs[i].Data[j] = float32(rng.NormFloat64())
		}
	}
	loss := func() float64 {
		forward()
		s := 0.0
		for k, y := range outs {
			for i, v := range y.Data {
				s += float64(v) * float64(rs[k].Data[i])
			}
		}
		return s
	}
	params := op.Params()
	ZeroGrads(params)
	forward()
	saveIn, saveOut := true, true
	if sv, ok := op.(Saver); ok {
		saveIn, saveOut = sv.Saves()
	}
	bin := make([]*tensor.Tensor, len(xs))
	bout := make([]*tensor.Tensor, len(outs))
	din := make([]*tensor.Tensor, len(xs))
	ng, _ := op.(NoGrad)
	for i, x := range xs {
		if saveIn {
			bin[i] = x
		}
		if ng == nil || !ng.NoGrad(i) {
			din[i] = tensor.New(x.Shape...)
			din[i].Fill(float32(math.NaN())) // Backward must overwrite it
		}
	}
	for i, y := range outs {
		if saveOut {
			bout[i] = y.Clone()
		}
	}
	if err := op.Backward(call, bin, bout, rs, din); err != nil {
		t.Fatalf("%s Backward: %v", op.Kind(), err)
	}
	for k, x := range xs {
		if din[k] != nil {
			compareGrad(t, op.Kind(), "input", x.Data, din[k].Data, loss, o)
		}
	}
	for _, p := range params {
		if p.Trainable && p.Grad != nil {
			g := append([]float32(nil), p.Grad.Data...)
			compareGrad(t, op.Kind(), p.Name, p.Value.Data, g, loss, o)
		}
	}
}

// compareGrad perturbs up to o.Samples coordinates of w and compares the
// central difference of loss with grad.
func compareGrad(t *testing.T, kind, what string, w, grad []float32, loss func() float64, o gradOpts) {
	t.Helper()
	rng := NewRNG(o.Seed + 11)
	idx := rng.Perm(len(w))
	if len(idx) > o.Samples {
		idx = idx[:o.Samples]
	}
	for _, i := range idx {
		orig := w[i]
		w[i] = orig + float32(o.Eps)
		lp := loss()
		w[i] = orig - float32(o.Eps)
		lm := loss()
		w[i] = orig
		h := float64(float32(orig+float32(o.Eps))-float32(orig-float32(o.Eps))) / 2
		num := (lp - lm) / (2 * h)
		a := float64(grad[i])
		if math.IsNaN(a) || math.Abs(a-num) > o.Tol*math.Max(1, math.Max(math.Abs(a), math.Abs(num))) {
			t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g", kind, what, i, a, num)
		}
	}
	loss()
}

// gradCheckGraph checks a built graph end to end through a Session: the
// gradients of its inputs and of every trainable param.
func gradCheckGraph(t *testing.T, g *Graph, shapes [][]int, o gradOpts) {
	t.Helper()
	o.defaults()
	xs := randomInputs(shapes, o)
	s := g.NewSession()
	s.SetInputGrad(true)
	var rs []*tensor.Tensor
	run := func() []*tensor.Tensor {
		s.Reseed(o.Seed + 99)
		ys, err := s.Run(o.Training, xs...)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return ys
	}
	ys := run()
	rng := NewRNG(o.Seed + 3)
	for _, y := range ys {
		r := tensor.New(y.Shape...)
		for j := range r.Data {
			r.Data[j] = float32(rng.NormFloat64())
		}
		rs = append(rs, r)
	}
	loss := func() float64 {
		ys := run()
		sum := 0.0
		for k, y := range ys {
			for i, v := range y.Data {
				sum += float64(v) * float64(rs[k].Data[i])
			}
		}
		return sum
	}
	ZeroGrads(g.Params())
	run()
	grads, err := s.Backward(rs...)
	if err != nil {
		t.Fatalf("Backward: %v", err)
	}
	dxs := make([][]float32, len(grads))
	for i, d := range grads {
		if d == nil {
			t.Fatalf("no gradient for input %d", i)
		}
		dxs[i] = append([]float32(nil), d.Data...)
	}
	pgrads := map[*Param][]float32{}
	for _, p := range g.Params() {
		if p.Trainable && p.Grad != nil {
			pgrads[p] = append([]float32(nil), p.Grad.Data...)
		}
	}
	for k, x := range xs {
		compareGrad(t, "graph", "input"+string(rune('0'+k)), x.Data, dxs[k], loss, o)
	}
	for _, n := range g.Nodes() {
		for _, p := range n.Op.Params() {
			if g, ok := pgrads[p]; ok {
				compareGrad(t, "graph", n.Name+"."+p.Name, p.Value.Data, g, loss, o)
			}
		}
	}
}
