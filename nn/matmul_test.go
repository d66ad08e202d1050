package nn

import (
	"encoding/json"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestMatMulGrad(t *testing.T) {
	for i, c := range []struct {
		a, b   []int
		ta, tb bool
	}{
		{a: []int{2, 3, 4, 5}, b: []int{5, 6}},    // one SGEMM over all rows
		{a: []int{3, 1, 4, 5}, b: []int{2, 5, 3}}, // both broadcast
		{a: []int{2, 2, 5, 4}, b: []int{2, 2, 3, 4}, tb: true},
		{a: []int{3, 4, 2}, b: []int{3, 4, 5}, ta: true},
		{a: []int{2, 3, 4}, b: []int{2, 5, 3}, ta: true, tb: true},
		{a: []int{4}, b: []int{2, 4, 3}, ta: true}, // vectors are not transposed
		{a: []int{2, 3, 4}, b: []int{4}},
		{a: []int{4, 5}, b: []int{3, 5, 2}},           // A shared: its gradient sums
		{a: []int{9, 3, 3}, b: []int{9, 3, 2}},        // many small products
		{a: []int{2, 3, 4}, b: []int{5, 4}, tb: true}, // B shared, transposed
		{a: []int{2, 4, 3}, b: []int{4, 5}, ta: true}, // B shared, A transposed
		{a: []int{2, 40, 50}, b: []int{2, 50, 30}},    // small path on several cores
		{a: []int{2, 64, 64}, b: []int{1, 64, 65}},    // large products, B broadcast
		{a: []int{1, 7}, b: []int{7, 1}},
	} {
		op := &MatMul{TransA: c.ta, TransB: c.tb}
		gradCheckOp(t, op, [][]int{c.a, c.b}, gradOpts{Seed: uint64(i), Eps: 1e-2, Tol: 1e-2})
	}
}

func TestGemmGrad(t *testing.T) {
	for i, c := range []struct {
		a, b, c     []int
		ta, tb      bool
		alpha, beta float32
	}{
		{a: []int{4, 3}, b: []int{3, 5}, c: []int{5}, alpha: 1, beta: 1},
		{a: []int{3, 4}, b: []int{5, 3}, c: []int{4, 1}, ta: true, tb: true, alpha: 0.5, beta: 2},
		{a: []int{4, 3}, b: []int{3, 5}, c: []int{4, 5}, alpha: 1, beta: -1},
		{a: []int{4, 3}, b: []int{5, 3}, tb: true, alpha: 1.5, beta: 1},
		{a: []int{2, 3}, b: []int{3, 4}, c: []int{}, alpha: 1, beta: -0.5},
		{a: []int{3, 2}, b: []int{3, 4}, c: []int{1, 4}, ta: true, alpha: 2, beta: 0.25},
		{a: []int{5, 3}, b: []int{3, 2}, c: []int{1, 1}, alpha: 1, beta: 0},
	} {
		op := &Gemm{Alpha: c.alpha, Beta: c.beta, TransA: c.ta, TransB: c.tb}
		shapes := [][]int{c.a, c.b}
		if c.c != nil {
			shapes = append(shapes, c.c)
		}
		gradCheckOp(t, op, shapes, gradOpts{Seed: uint64(i), Eps: 1e-2, Tol: 1e-2})
	}
}

func TestMatMulShapesAndErrors(t *testing.T) {
	for _, c := range []struct {
		a, b, want []int
		ta, tb     bool
	}{
		{a: []int{-1, 7, 16}, b: []int{16, 8}, want: []int{-1, 7, 8}},
		{a: []int{-1, 4, 7, 16}, b: []int{-1, 4, 9, 16}, tb: true, want: []int{-1, 4, 7, 9}},
		{a: []int{-1, 16}, b: []int{16}, want: []int{-1}},
		{a: []int{5}, b: []int{-1, 5, 3}, want: []int{-1, 3}},
		{a: []int{-1, 1, 3, 4}, b: []int{2, 4, 6}, want: []int{-1, 2, 3, 6}},
		{a: []int{-1, 3, -1}, b: []int{-1, 5}, want: []int{-1, 3, 5}},
	} {
		out, err := (&MatMul{TransA: c.ta, TransB: c.tb}).Shapes([][]int{c.a, c.b})
		if err != nil || !tensor.EqualShape(out[0], c.want) {
			t.Errorf("MatMul%v x %v: %v %v, want %v", c.a, c.b, out, err, c.want)
		}
	}
	mm := NewMatMul()
	shapeErr(t, mm, [][]int{{2, 3}}, "2 inputs, got 1")
	shapeErr(t, mm, [][]int{{2, 3, 4}, {5, 6}}, "(2, 3, 4)", "(5, 6)", "4 and 5")
	shapeErr(t, &MatMul{TransB: true}, [][]int{{2, 3, 4}, {4, 6}}, "trans_b true", "4 and 6")
	shapeErr(t, mm, [][]int{{2, 3, 4}, {3, 4, 5}}, "batch axes", "broadcast")
	shapeErr(t, mm, [][]int{{}, {3, 4}}, "scalar")
	shapeErr(t, mm, [][]int{{4}, {4}}, "both vectors")
	g := NewGemm()
	shapeErr(t, g, [][]int{{2, 3, 4}, {4, 5}}, "(2, 3, 4)", "matrices")
	shapeErr(t, g, [][]int{{4, 3}, {3, 5}, {3}}, "C of shape (3,)", "(4, 5)")
	shapeErr(t, g, [][]int{{4, 3}, {3, 5}, {2, 4, 5}}, "C of shape (2, 4, 5)")
	shapeErr(t, g, [][]int{{4, 3}}, "2 or 3 inputs")
	shapeErr(t, g, [][]int{{4, 3}, {4, 5}}, "3 and 4")
	if out, err := g.Shapes([][]int{{-1, 3}, {3, 5}, {5}}); err != nil || !tensor.EqualShape(out[0], []int{-1, 5}) {
		t.Errorf("Gemm on a batch: %v %v", out, err)
	}
}

func TestMatMulJSON(t *testing.T) {
	for _, c := range []struct {
		op   Op
		json string
	}{
		{NewMatMul(), `{}`},
		{&MatMul{TransB: true}, `{"trans_b":true}`},
		{NewGemm(), `{"alpha":1,"beta":1}`},
		{&Gemm{Alpha: 2, TransA: true}, `{"alpha":2,"beta":0,"trans_a":true}`},
	} {
		b, err := json.Marshal(c.op)
		if err != nil || string(b) != c.json {
			t.Errorf("%s: JSON %s %v, want %s", c.op.Kind(), b, err, c.json)
		}
		back, err := newOp(c.op.Kind(), b)
		if err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.Marshal(back); string(b2) != c.json {
			t.Errorf("%s: reloaded as %s", c.op.Kind(), b2)
		}
	}
	// An ONNX Gemm without attributes keeps the defaults.
	op, err := newOp("Gemm", json.RawMessage(`{"trans_b":true}`))
	if err != nil || op.(*Gemm).Alpha != 1 || op.(*Gemm).Beta != 1 {
		t.Errorf("Gemm defaults: %+v %v", op, err)
	}
}

// benchOp2 times Forward and Backward of a two-input op.
func benchOp2(b *testing.B, op Op, a, bs []int) {
	shapes := [][]int{a, bs}
	outs, err := op.Shapes(shapes)
	if err != nil {
		b.Fatal(err)
	}
	xs := []*tensor.Tensor{randNormal(NewRNG(1), a...), randNormal(NewRNG(2), bs...)}
	din := []*tensor.Tensor{tensor.New(a...), tensor.New(bs...)}
	y, dy := tensor.New(outs[0]...), randNormal(NewRNG(3), outs[0]...)
	call := &Call{Train: true}
	out, dout := []*tensor.Tensor{y}, []*tensor.Tensor{dy}
	flops := 3 * 2 * float64(tensor.Numel(outs[0])) * float64(a[len(a)-1])
	for b.Loop() {
		if err := op.Forward(call, xs, out); err != nil {
			b.Fatal(err)
		}
		if err := op.Backward(call, xs, out, dout, din); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMulAttention is Q K^T for 32 heads of 64 tokens of 64
// features, forward and backward.
func BenchmarkMatMulAttention(b *testing.B) {
	benchOp2(b, &MatMul{TransB: true}, []int{32, 64, 64}, []int{32, 64, 64})
}

// BenchmarkMatMulProjection is (32, 49, 256) x (256, 256), forward and
// backward: one SGEMM of 1568 rows each way.
func BenchmarkMatMulProjection(b *testing.B) {
	benchOp2(b, NewMatMul(), []int{32, 49, 256}, []int{256, 256})
}
