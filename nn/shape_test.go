package nn

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// psUnravel turns a flat index into per-axis indices of shape.
func psUnravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return idx
}

func psRavel(idx, shape []int) int {
	o := 0
	for k, d := range shape {
		o = o*d + idx[k]
	}
	return o
}

func psF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// psErrCase is an op on input shapes whose Shapes must fail with an
// error mentioning every string of want.
type psErrCase struct {
	op   Op
	in   [][]int
	want []string
}

func psShapeErrors(t *testing.T, cases []psErrCase) {
	t.Helper()
	for _, c := range cases {
		_, err := c.op.Shapes(c.in)
		if err == nil {
			t.Errorf("%s %+v on %v: no error", c.op.Kind(), c.op, c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %+v on %v: error %q does not mention %q", c.op.Kind(), c.op, c.in, err, w)
			}
		}
	}
}

func psShapes(t *testing.T, op Op, in [][]int, want ...[]int) {
	t.Helper()
	got, err := op.Shapes(in)
	if err != nil {
		t.Errorf("%s %+v on %v: %v", op.Kind(), op, in, err)
		return
	}
	if len(got) != len(want) {
		t.Errorf("%s %+v on %v: %v, want %v", op.Kind(), op, in, got, want)
		return
	}
	for i := range got {
		if !tensor.EqualShape(got[i], want[i]) {
			t.Errorf("%s %+v on %v: %v, want %v", op.Kind(), op, in, got, want)
		}
	}
}

func TestConcatSplit(t *testing.T) {
	for _, c := range []struct {
		axis   int
		shapes [][]int
	}{
		{-1, [][]int{{2, 3, 4, 5}, {2, 3, 4, 1}, {2, 3, 4, 7}}},
		{1, [][]int{{2, 3, 4}, {2, 1, 4}}},
		{0, [][]int{{2, 3}, {5, 3}}}, // the batch axis
		{2, [][]int{{1, 2, 3}}},      // one input
		{-3, [][]int{{3, 2, 5, 1}, {3, 6, 5, 1}}},
	} {
		t.Run(fmt.Sprintf("%d_%v", c.axis, c.shapes), func(t *testing.T) {
			var xs []*tensor.Tensor
			sizes := []int{}
			for i, s := range c.shapes {
				xs = append(xs, psRand(uint64(i), s...))
				a := c.axis
				if a < 0 {
					a += len(s)
				}
				sizes = append(sizes, s[a])
			}
			cat := NewConcat(c.axis)
			out, err := cat.Shapes(c.shapes)
			if err != nil {
				t.Fatal(err)
			}
			dy := psRand(9, out[0]...)
			ys, dxs := psRun(t, cat, xs, []*tensor.Tensor{dy})
			// Reference: output index -> (input, index).
			a := c.axis
			if a < 0 {
				a += len(out[0])
			}
			want := make([]float64, len(ys[0].Data))
			wantDx := make([][]float64, len(xs))
			for i := range xs {
				wantDx[i] = make([]float64, len(xs[i].Data))
			}
			for o := range want {
				idx := psUnravel(o, out[0])
				k, p := 0, idx[a]
				for p >= sizes[k] {
					p -= sizes[k]
					k++
				}
				idx[a] = p
				j := psRavel(idx, xs[k].Shape)
				want[o] = float64(xs[k].Data[j])
				wantDx[k][j] = float64(dy.Data[o])
			}
			psClose(t, "y", ys[0].Data, want, 0)
			for i := range xs {
				psClose(t, fmt.Sprint("dx", i), dxs[i].Data, wantDx[i], 0)
			}
			// Split undoes Concat; its backward is Concat again.
			sp := NewSplit(c.axis, sizes...)
			parts, dw := psRun(t, sp, []*tensor.Tensor{ys[0]}, dxs)
			for i := range xs {
				psClose(t, fmt.Sprint("part", i), parts[i].Data, psF64(xs[i].Data), 0)
			}
			psClose(t, "split dx", dw[0].Data, psF64(dy.Data), 0)
		})
	}
}

func TestSplitParts(t *testing.T) {
	psShapes(t, NewSplitParts(-1, 3), [][]int{{-1, 4, 9}}, []int{-1, 4, 3}, []int{-1, 4, 3}, []int{-1, 4, 3})
	psShapes(t, NewSplitParts(1, 3), [][]int{{-1, 7}}, []int{-1, 3}, []int{-1, 3}, []int{-1, 1}) // ONNX 18: the last is smaller
	psShapes(t, NewSplitParts(1, 2), [][]int{{2, -1}}, []int{2, -1}, []int{2, -1})
	psShapes(t, NewSplit(0, 1, 2), [][]int{{-1, 7}}, []int{1, 7}, []int{2, 7})
	// A nil gradient for one output is zero.
	sp := NewSplit(1, 2, 1)
	x := psRand(1, 2, 3)
	ys, _ := psRun(t, sp, []*tensor.Tensor{x}, nil)
	dx := tensor.New(2, 3)
	dx.Fill(7)
	if err := sp.Backward(&Call{}, nil, nil, []*tensor.Tensor{nil, ys[1]}, []*tensor.Tensor{dx}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0, float64(x.Data[2]), 0, 0, float64(x.Data[5])}
	psClose(t, "dx", dx.Data, want, 0)
}

func TestConcatSplitGrad(t *testing.T) {
	gradCheckOp(t, NewConcat(-1), [][]int{{2, 3, 3, 2}, {2, 3, 3, 5}}, gradOpts{Tol: 1e-3, Seed: 1})
	gradCheckOp(t, NewConcat(1), [][]int{{2, 1, 3}, {2, 4, 3}, {2, 2, 3}}, gradOpts{Tol: 1e-3, Seed: 2})
	gradCheckOp(t, NewSplit(-1, 2, 3, 1), [][]int{{2, 3, 6}}, gradOpts{Tol: 1e-3, Seed: 3})
	gradCheckOp(t, NewSplitParts(2, 3), [][]int{{2, 3, 7, 2}}, gradOpts{Tol: 1e-3, Seed: 4})
}

func TestConcatSplitErrors(t *testing.T) {
	psShapeErrors(t, []psErrCase{
		{NewConcat(-1), nil, []string{"no inputs"}},
		{NewConcat(3), [][]int{{-1, 4, 5}, {-1, 4, 5}}, []string{"axis 3", "(?, 4, 5)", "rank 3"}},
		{NewConcat(-1), [][]int{{-1, 4, 5}, {-1, 3, 5}}, []string{"input 1", "(?, 3, 5)", "(?, 4, 5)", "axis 1 differs"}},
		{NewConcat(1), [][]int{{-1, 4, 5}, {-1, 4}}, []string{"ranks differ"}},
		{NewSplit(-1, 2, 2), [][]int{{-1, 5}}, []string{"sizes [2 2] add up to 4", "has 5", "(?, 5)"}},
		{NewSplit(-1, 2, 0), [][]int{{-1, 2}}, []string{"sizes [2 0] must be >= 1"}},
		{&Split{Axis: 1}, [][]int{{-1, 2}}, []string{"parts 0"}},
		{&Split{Axis: 1, Parts: 2, Sizes: []int{1, 1}}, [][]int{{-1, 2}}, []string{"both"}},
		{NewSplitParts(1, 4), [][]int{{-1, 5}}, []string{"cannot be cut into 4"}},
		{NewSplitParts(2, 2), [][]int{{-1, 5}}, []string{"axis 2 is out of range"}},
	})
	// Forward with tensors that do not fit.
	err := NewConcat(1).Forward(&Call{}, []*tensor.Tensor{tensor.New(2, 3), tensor.New(2, 2)}, []*tensor.Tensor{tensor.New(2, 4)})
	if err == nil || !strings.Contains(err.Error(), "(2, 4)") {
		t.Errorf("concat into the wrong output: %v", err)
	}
	err = NewConcat(1).Backward(&Call{}, nil, nil, []*tensor.Tensor{tensor.New(2, 4)}, []*tensor.Tensor{nil, tensor.New(2, 2)})
	if err == nil || !strings.Contains(err.Error(), "without a Forward") {
		t.Errorf("concat Backward first: %v", err)
	}
}

func TestReshapeShapes(t *testing.T) {
	psShapes(t, NewReshape(0, -1), [][]int{{-1, 4, 5, 3}}, []int{-1, 60})
	psShapes(t, NewReshape(-1, 60), [][]int{{-1, 4, 5, 3}}, []int{-1, 60})
	psShapes(t, NewReshape(0, 0, -1), [][]int{{-1, -1, 5, 3}}, []int{-1, -1, 15})
	psShapes(t, NewReshape(0, -1, 3), [][]int{{-1, -1, 5, 3}}, []int{-1, -1, 3})
	psShapes(t, NewReshape(0, 2, 10, 3), [][]int{{-1, 4, 5, 3}}, []int{-1, 2, 10, 3})
	psShapes(t, NewReshape(4, 3), [][]int{{2, 6}}, []int{4, 3})
	psShapes(t, NewReshape(2, 0, -1), [][]int{{6, 4, 5}}, []int{2, 4, 15}) // 0 copies the same index
	psShapeErrors(t, []psErrCase{
		{NewReshape(0, -1, -1), [][]int{{-1, 4}}, []string{"more than one -1"}},
		{NewReshape(0, 7), [][]int{{-1, 4, 5}}, []string{"(?, 4, 5)", "[0 7]", "20 values", "for 7"}},
		{NewReshape(0, 5, 0), [][]int{{-1, 4, 5}}, []string{"cannot be reshaped", "[0 5 0]"}},
		{NewReshape(0, -1, 7), [][]int{{-1, 4, 5}}, []string{"cannot be reshaped", "[0 -1 7]"}},
		{NewReshape(0, 0, 0), [][]int{{-1, 4}}, []string{"entry 2 is 0", "rank 2"}},
		{NewReshape(0, -2), [][]int{{-1, 4}}, []string{"negative"}},
	})
}

func TestSqueezeUnsqueeze(t *testing.T) {
	psShapes(t, NewSqueeze(), [][]int{{-1, 1, 1, 8}}, []int{-1, 8})
	psShapes(t, NewSqueeze(1, -2), [][]int{{-1, 1, 1, 8}}, []int{-1, 8})
	psShapes(t, NewSqueeze(2), [][]int{{-1, 4, -1, 8}}, []int{-1, 4, 8}) // unknown: must be 1 at run time
	psShapes(t, NewSqueeze(), [][]int{{1, 1, 3}}, []int{1, 3})           // the batch stays
	psShapes(t, NewSqueeze(0), [][]int{{1, 3}}, []int{3})
	psShapes(t, NewUnsqueeze(1, 2), [][]int{{-1, 8}}, []int{-1, 1, 1, 8})
	psShapes(t, NewUnsqueeze(-1), [][]int{{-1, 8}}, []int{-1, 8, 1})
	psShapes(t, NewUnsqueeze(0, 3), [][]int{{2, 8}}, []int{1, 2, 8, 1})
	psShapeErrors(t, []psErrCase{
		{NewSqueeze(1), [][]int{{-1, 3, 1}}, []string{"axis 1", "(?, 3, 1)", "size 3, not 1"}},
		{NewSqueeze(), [][]int{{-1, -1, 1}}, []string{"unknown size", "list the axes"}},
		{NewSqueeze(3), [][]int{{-1, 1, 1}}, []string{"axis 3 is out of range"}},
		{NewUnsqueeze(), [][]int{{-1, 2}}, []string{"no axes"}},
		{NewUnsqueeze(3), [][]int{{-1, 2}}, []string{"axis 3 is out of range", "rank 3"}},
		{NewUnsqueeze(1, 1), [][]int{{-1, 2}}, []string{"listed twice"}},
	})
}

// TestViewsInGraph runs the aliasing ops inside a Session (where they are
// views) and checks values and gradients against a direct run.
func TestViewsInGraph(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 4, 1, 6)
	h := g.Apply(NewSqueeze(2), x)
	h = g.Apply(NewReshape(0, 3, -1), h)
	h = g.Apply(NewUnsqueeze(1), h)
	h = g.Apply(NewMul(), h, h) // something with a gradient
	g.Output(g.Apply(NewReshape(0, -1), h))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	if s := g.OutputShape(); !tensor.EqualShape(s, []int{24}) {
		t.Fatalf("output shape %v", s)
	}
	gradCheckGraph(t, g, [][]int{{2, 4, 1, 6}}, gradOpts{Training: true, Tol: 1e-3})
	// Outside a Session, Forward and Backward copy.
	for _, op := range []Op{NewReshape(0, -1), NewSqueeze(2), NewUnsqueeze(3)} {
		gradCheckOp(t, op, [][]int{{2, 4, 1, 6}}, gradOpts{Tol: 1e-3})
	}
}

// refTranspose permutes x by perm.
func refTranspose(x *tensor.Tensor, perm []int) ([]float64, []int) {
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = x.Shape[p]
	}
	y := make([]float64, len(x.Data))
	src := make([]int, len(perm))
	for o := range y {
		idx := psUnravel(o, out)
		for i, p := range perm {
			src[p] = idx[i]
		}
		y[o] = float64(x.Data[psRavel(src, x.Shape)])
	}
	return y, out
}

func TestTranspose(t *testing.T) {
	for _, c := range []struct {
		shape, perm []int
	}{
		{[]int{2, 3, 5, 7}, []int{0, 2, 3, 1}},       // NCHW -> NHWC
		{[]int{2, 5, 7, 3}, []int{0, 3, 1, 2}},       // NHWC -> NCHW
		{[]int{1, 3, 70, 90}, []int{0, 2, 3, 1}},     // one image, few channels, several column blocks
		{[]int{2, 130, 3, 1}, []int{0, 3, 2, 1}},     // size-1 axes
		{[]int{3, 4, 5}, []int{1, 0, 2}},             // the innermost axis stays
		{[]int{3, 4, 5}, []int{2, 1, 0}},             // (A, B, C) -> (C, B, A)
		{[]int{20, 7, 3, 3}, []int{2, 3, 1, 0}},      // OIHW -> HWIO: the same, merged
		{[]int{2, 3, 4, 5}, []int{3, 1, 2, 0}},       // a gather
		{[]int{3, 4, 5}, nil},                        // empty: reversed
		{[]int{2, 3, 4, 5, 6}, []int{4, 0, 3, 1, 2}}, // five axes
		{[]int{4, 1, 1}, []int{1, 2, 0}},             // only one axis above 1
		{[]int{5, 6}, []int{0, 1}},                   // identity
	} {
		t.Run(fmt.Sprintf("%v_%v", c.shape, c.perm), func(t *testing.T) {
			op := NewTranspose(c.perm...)
			perm := c.perm
			if perm == nil {
				for i := range c.shape {
					perm = append([]int{i}, perm...)
				}
			}
			x := psRand(1, c.shape...)
			want, outShape := refTranspose(x, perm)
			dy := psRand(2, outShape...)
			ys, dxs := psRun(t, op, []*tensor.Tensor{x}, []*tensor.Tensor{dy})
			if !tensor.EqualShape(ys[0].Shape, outShape) {
				t.Fatalf("shape %v, want %v", ys[0].Shape, outShape)
			}
			psClose(t, "y", ys[0].Data, want, 0)
			inv := make([]int, len(perm))
			for i, p := range perm {
				inv[p] = i
			}
			wdx, _ := refTranspose(dy, inv)
			psClose(t, "dx", dxs[0].Data, wdx, 0)
		})
	}
	gradCheckOp(t, NewTranspose(0, 2, 3, 1), [][]int{{2, 3, 4, 5}}, gradOpts{Tol: 1e-3})
	gradCheckOp(t, NewTranspose(2, 0, 1), [][]int{{2, 3, 4}}, gradOpts{Tol: 1e-3})
	psShapes(t, NewTranspose(0, 3, 1, 2), [][]int{{-1, -1, -1, 3}}, []int{-1, 3, -1, -1})
	psShapeErrors(t, []psErrCase{
		{NewTranspose(0, 2, 1), [][]int{{-1, 2}}, []string{"perm [0 2 1]", "rank 2", "(?, 2)"}},
		{NewTranspose(0, 1, 1), [][]int{{-1, 2, 3}}, []string{"not a permutation"}},
		{NewTranspose(0, -1), [][]int{{-1, 2}}, []string{"not a permutation"}},
	})
}

// refPad pads x by pads (ONNX layout) in mode, and returns the backward of
// dy.
func refPad(x *tensor.Tensor, pads []int, mode string, value float32, dy []float32) (y, dx []float64, out []int) {
	r := len(x.Shape)
	out = make([]int, r)
	for i, d := range x.Shape {
		out[i] = d + pads[i] + pads[r+i]
	}
	n := tensor.Numel(out)
	y = make([]float64, n)
	dx = make([]float64, len(x.Data))
	src := make([]int, r)
	for o := range n {
		idx := psUnravel(o, out)
		inside := true
		for k, d := range x.Shape {
			s := idx[k] - pads[k]
			switch {
			case s >= 0 && s < d:
			case mode == "edge":
				s = min(max(s, 0), d-1)
			case mode == "reflect" && s < 0:
				s = -s
			case mode == "reflect":
				s = 2*(d-1) - s
			default:
				inside = false
			}
			src[k] = s
		}
		if !inside {
			y[o] = float64(value)
			continue
		}
		j := psRavel(src, x.Shape)
		y[o] = float64(x.Data[j])
		if dy != nil {
			dx[j] += float64(dy[o])
		}
	}
	return y, dx, out
}

func TestPad(t *testing.T) {
	for _, c := range []struct {
		shape []int
		pads  []int
	}{
		{[]int{2, 5, 4, 3}, []int{0, 1, 2, 0, 0, 2, 1, 0}},   // NHWC spatial
		{[]int{2, 5, 4, 3}, []int{0, 0, 0, 1, 0, 0, 0, 2}},   // channels
		{[]int{3, 4, 5}, []int{1, 0, 2, 2, 3, 0}},            // the batch axis too
		{[]int{2, 3, 4}, []int{0, 0, 0, 0, 0, 0}},            // nothing
		{[]int{1, 6, 1, 7}, []int{0, 3, 0, 4, 0, 2, 0, 6}},   // size-1 axes between
		{[]int{2, 3}, []int{0, 2, 0, 1}},                     // the last axis alone
		{[]int{4, 3, 2}, []int{2, 0, 0, 3, 0, 0}},            // the outermost axis alone
		{[]int{2, 4, 5, 6}, []int{0, 3, 0, 1, 0, 2, 4, 0}},   // axes 1 and 3
		{[]int{2, 9, 8, 2}, []int{1, 1, 1, 1, 1, 1, 1, 1}},   // everything
		{[]int{1, 10, 10, 1}, []int{0, 9, 9, 0, 0, 9, 9, 0}}, // reflect at its limit
	} {
		for _, mode := range []string{"constant", "reflect", "edge"} {
			t.Run(fmt.Sprintf("%s_%v_%v", mode, c.shape, c.pads), func(t *testing.T) {
				op := &Pad{Mode: mode, Pads: c.pads, Value: 1.5}
				if _, err := op.Shapes([][]int{c.shape}); err != nil {
					if mode == "reflect" && strings.Contains(err.Error(), "smaller than the axis") {
						return // a case the other modes cover
					}
					t.Fatal(err)
				}
				x := psRand(3, c.shape...)
				_, _, out := refPad(x, c.pads, mode, 1.5, nil)
				dy := psRand(4, out...)
				wy, wdx, _ := refPad(x, c.pads, mode, 1.5, dy.Data)
				ys, dxs := psRun(t, op, []*tensor.Tensor{x}, []*tensor.Tensor{dy})
				if !tensor.EqualShape(ys[0].Shape, out) {
					t.Fatalf("shape %v, want %v", ys[0].Shape, out)
				}
				psClose(t, "y", ys[0].Data, wy, 0)
				psClose(t, "dx", dxs[0].Data, wdx, 1e-6)
			})
		}
	}
	for _, mode := range []string{"constant", "reflect", "edge"} {
		gradCheckOp(t, NewPad(mode, 0, 2, 1, 0, 0, 1, 3, 0), [][]int{{2, 4, 5, 2}}, gradOpts{Tol: 1e-3})
	}
	psShapes(t, NewPad("", 0, 1, 1, 0, 0, 1, 1, 0), [][]int{{-1, -1, 5, 3}}, []int{-1, -1, 7, 3})
	psShapeErrors(t, []psErrCase{
		{NewPad("", 0, 1, 0, 1), [][]int{{-1, 4, 4}}, []string{"4 pads", "(?, 4, 4)", "want 6"}},
		{NewPad("", 0, -1, 0, 1), [][]int{{-1, 4}}, []string{"negative", "axis 1", "cropping"}},
		{NewPad("reflect", 0, 4, 0, 0), [][]int{{-1, 4}}, []string{"reflect", "(4, 0)", "axis 1", "(?, 4)"}},
		{NewPad("wrap", 0, 1, 0, 0), [][]int{{-1, 4}}, []string{`unknown mode "wrap"`}},
	})
	b, _ := json.Marshal(NewPad("reflect", 0, 1, 0, 1))
	if string(b) != `{"pads":[0,1,0,1],"mode":"reflect"}` {
		t.Errorf("config %s", b)
	}
}
