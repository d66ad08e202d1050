package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// ramp returns a tensor holding 0, 1, 2, ... of the given shape.
func ramp(shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	return x
}

func vec(v ...float32) *tensor.Tensor { return &tensor.Tensor{Shape: []int{len(v)}, Data: v} }

func wantData(t *testing.T, what string, got *tensor.Tensor, shape []int, want []float32) {
	t.Helper()
	if !slices.Equal(got.Shape, shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, shape)
		return
	}
	for i, w := range want {
		if got.Data[i] != w && !(math.IsNaN(float64(w)) && math.IsNaN(float64(got.Data[i]))) {
			t.Errorf("%s = %v, want %v", what, got.Data, want)
			return
		}
	}
}

func TestCompareAndWhere(t *testing.T) {
	a := vec(1, 2, 3, 4)
	b := &tensor.Tensor{Shape: []int{2, 1}, Data: []float32{2, 3}}
	for fn, want := range map[string][]float32{
		"Equal":          {0, 1, 0, 0, 0, 0, 1, 0},
		"Less":           {1, 0, 0, 0, 1, 1, 0, 0},
		"LessOrEqual":    {1, 1, 0, 0, 1, 1, 1, 0},
		"Greater":        {0, 0, 1, 1, 0, 0, 0, 1},
		"GreaterOrEqual": {0, 1, 1, 1, 0, 0, 1, 1},
	} {
		wantData(t, fn, evalOp(t, NewCompare(fn), &Call{}, a, b)[0], []int{2, 4}, want)
	}
	p, q := vec(0, 1, 2, 0), vec(0, 0, 3, 5)
	wantData(t, "And", evalOp(t, NewCompare("And"), &Call{}, p, q)[0], []int{4}, []float32{0, 0, 1, 0})
	wantData(t, "Or", evalOp(t, NewCompare("Or"), &Call{}, p, q)[0], []int{4}, []float32{0, 1, 1, 1})
	wantData(t, "Xor", evalOp(t, NewCompare("Xor"), &Call{}, p, q)[0], []int{4}, []float32{0, 1, 0, 1})
	// Equal of same shapes (its loop of its own): NaN is unequal to
	// itself, -0 equals 0.
	nan, negz := float32(math.NaN()), float32(math.Copysign(0, -1))
	wantData(t, "Equal same shape", evalOp(t, NewCompare("Equal"), &Call{}, vec(1, nan, 0, 3), vec(1, nan, negz, 2))[0],
		[]int{4}, []float32{1, 0, 1, 0})
	cond := &tensor.Tensor{Shape: []int{2, 1}, Data: []float32{1, 0}}
	wantData(t, "Where", evalOp(t, NewWhere(), &Call{}, cond, a, &tensor.Tensor{Shape: []int{}, Data: []float32{-1}})[0],
		[]int{2, 4}, []float32{1, 2, 3, 4, -1, -1, -1, -1})
	mask := &tensor.Tensor{Shape: []int{3, 1, 4}, Data: []float32{1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0}}
	gradCheckOp(t, NewWhere(), [][]int{{3, 1, 4}, {2, 4}, {3, 2, 1}}, gradOpts{Inputs: []*tensor.Tensor{mask}})
	shapeErr(t, NewWhere(), [][]int{{2}, {3}, {2}}, "Where", "broadcast")
	shapeErr(t, NewWhere(), [][]int{{2}, {2}}, "3 inputs")
	shapeErr(t, NewCompare("Near"), [][]int{{2}, {2}}, "unknown function")
}

func TestGather(t *testing.T) {
	x := ramp(2, 3, 2)
	y := evalOp(t, NewGather(1), &Call{}, x, &tensor.Tensor{Shape: []int{2, 2}, Data: []float32{2, 0, -1, 1}})[0]
	wantData(t, "Gather axis 1", y, []int{2, 2, 2, 2}, []float32{4, 5, 0, 1, 4, 5, 2, 3, 10, 11, 6, 7, 10, 11, 8, 9})
	y = evalOp(t, NewGather(0), &Call{}, vec(5, 6, 7), &tensor.Tensor{Shape: []int{}, Data: []float32{-1}})[0]
	wantData(t, "Gather scalar index", y, []int{}, []float32{7})
	idx := &tensor.Tensor{Shape: []int{4}, Data: []float32{1, 1, 0, 2}}
	gradCheckOp(t, NewGather(-2), [][]int{{2, 3, 2}, {4}}, gradOpts{Inputs: []*tensor.Tensor{nil, idx}})
	out := tensor.New(3)
	if err := NewGather(0).Forward(&Call{}, []*tensor.Tensor{vec(1, 2), vec(0, 2, 1)}, []*tensor.Tensor{out}); err == nil {
		t.Error("Gather accepts index 2 of an axis of 2")
	}
	shapeErr(t, NewGather(3), [][]int{{2, 3}, {1}}, "axis 3", "rank 2")

	ge := evalOp(t, NewGatherElements(1), &Call{}, ramp(2, 3), &tensor.Tensor{Shape: []int{2, 2}, Data: []float32{2, 0, -1, 1}})[0]
	wantData(t, "GatherElements", ge, []int{2, 2}, []float32{2, 0, 5, 4})
	gradCheckOp(t, NewGatherElements(0), [][]int{{3, 2}, {2, 2}}, gradOpts{Inputs: []*tensor.Tensor{nil, {Shape: []int{2, 2}, Data: []float32{2, 0, 2, 1}}}})
	shapeErr(t, NewGatherElements(0), [][]int{{3, 2}, {2}}, "same rank")
}

func TestSlice(t *testing.T) {
	x := ramp(3, 4)
	for _, c := range []struct {
		op    *Slice
		shape []int
		want  []float32
	}{
		{NewSlice([]int{1}, []int{math.MaxInt64}, []int{1}, nil), []int{3, 3}, []float32{1, 2, 3, 5, 6, 7, 9, 10, 11}},
		{NewSlice([]int{-1, 0}, []int{-4, 4}, []int{1, 0}, []int{-2, 2}), []int{2, 2}, []float32{3, 1, 11, 9}},
		{NewSlice([]int{0}, []int{-1}, nil, nil), []int{2, 4}, []float32{0, 1, 2, 3, 4, 5, 6, 7}},
		{NewSlice([]int{5}, []int{9}, []int{0}, nil), []int{0, 4}, nil},
		{NewSlice([]int{math.MaxInt64}, []int{math.MinInt64}, []int{-1}, []int{-1}), []int{3, 4}, []float32{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}},
	} {
		wantData(t, "Slice", evalOp(t, c.op, &Call{}, x)[0], c.shape, c.want)
	}
	gradCheckOp(t, NewSlice([]int{2, 1}, []int{-5, 3}, []int{2, 0}, []int{-2, 1}), [][]int{{3, 2, 7}}, gradOpts{})
	shapeErr(t, NewSlice([]int{0}, []int{1}, []int{0}, []int{0}), [][]int{{3}}, "step 0")
	shapeErr(t, NewSlice([]int{0, 0}, []int{1, 1}, []int{0, -2}, nil), [][]int{{3, 2}}, "twice")
	shapeErr(t, NewSlice([]int{0}, []int{1, 2}, nil, nil), [][]int{{3}}, "1 starts and 2 ends")
	if s, err := NewSlice([]int{1}, []int{3}, []int{0}, nil).Shapes([][]int{{-1, 4}}); err != nil || s[0][0] != -1 || s[0][1] != 4 {
		t.Errorf("Slice of an unknown axis: %v, %v", s, err)
	}
}

func TestArgAndTopK(t *testing.T) {
	x := &tensor.Tensor{Shape: []int{2, 4}, Data: []float32{3, 1, 3, 2, -1, float32(math.NaN()), -5, 0}}
	wantData(t, "ArgMax", evalOp(t, NewArgMax(1, false), &Call{}, x)[0], []int{2}, []float32{0, 3})
	last := NewArgMax(1, true)
	last.SelectLastIndex = true
	wantData(t, "ArgMax last", evalOp(t, last, &Call{}, x)[0], []int{2, 1}, []float32{2, 3})
	wantData(t, "ArgMin", evalOp(t, NewArgMin(0, false), &Call{}, x)[0], []int{4}, []float32{1, 0, 1, 1})
	y := ramp(2, 5)
	y.Data[3], y.Data[7] = 1, 9
	outs := evalOp(t, NewTopK(3, 1, true), &Call{}, y)
	wantData(t, "TopK values", outs[0], []int{2, 3}, []float32{4, 2, 1, 9, 9, 8})
	wantData(t, "TopK indices", outs[1], []int{2, 3}, []float32{4, 2, 1, 2, 4, 3})
	outs = evalOp(t, NewTopK(2, 0, false), &Call{}, y)
	wantData(t, "TopK smallest", outs[0], []int{2, 5}, []float32{0, 1, 2, 1, 4, 5, 6, 9, 8, 9})
	gradCheckOp(t, NewTopK(2, -1, true), [][]int{{3, 5}}, gradOpts{Distinct: true, Eps: 1e-3})
	shapeErr(t, NewTopK(6, 1, true), [][]int{{2, 5}}, "k 6")
	shapeErr(t, NewArgMax(2, false), [][]int{{2, 5}}, "out of range")
}

func TestShapeCastExpandTile(t *testing.T) {
	end := 3
	sh := &Shape{Perm: []int{0, 3, 1, 2}, Start: 1, End: &end}
	wantData(t, "Shape", evalOp(t, sh, &Call{}, tensor.New(2, 5, 6, 3))[0], []int{2}, []float32{3, 5})
	wantData(t, "Shape", evalOp(t, NewShape(), &Call{}, tensor.New(2, 5))[0], []int{2}, []float32{2, 5})
	neg := &Shape{Start: -1}
	wantData(t, "Shape start -1", evalOp(t, neg, &Call{}, tensor.New(2, 5))[0], []int{1}, []float32{5})
	shapeErr(t, &Shape{Perm: []int{0}}, [][]int{{2, 3}}, "perm")

	x := vec(1.7, -1.7, 0, 2.5, 70000)
	wantData(t, "Cast int64", evalOp(t, NewCast("int64"), &Call{}, x)[0], []int{5}, []float32{1, -1, 0, 2, 70000})
	wantData(t, "Cast bool", evalOp(t, NewCast("bool"), &Call{}, x)[0], []int{5}, []float32{1, 1, 0, 1, 1})
	wantData(t, "Cast float16", evalOp(t, NewCast("float16"), &Call{}, x)[0], []int{5}, []float32{1.7001953, -1.7001953, 0, 2.5, float32(math.Inf(1))})
	gradCheckOp(t, NewCast("float"), [][]int{{2, 3}}, gradOpts{})
	shapeErr(t, NewCast("string"), [][]int{{2}}, "unknown type")

	e := evalOp(t, NewExpand(2, 1, 3), &Call{}, &tensor.Tensor{Shape: []int{2, 1}, Data: []float32{1, 2}})[0]
	wantData(t, "Expand", e, []int{2, 2, 3}, []float32{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2})
	gradCheckOp(t, NewExpand(3, 1, 4), [][]int{{2, 1}}, gradOpts{})
	shapeErr(t, NewExpand(3), [][]int{{2}}, "broadcast")

	tl := evalOp(t, NewTile(2, 1), &Call{}, ramp(1, 2))[0]
	wantData(t, "Tile", tl, []int{2, 2}, []float32{0, 1, 0, 1})
	tl = evalOp(t, NewTile(1, 3), &Call{}, ramp(2, 1))[0]
	wantData(t, "Tile", tl, []int{2, 3}, []float32{0, 0, 0, 1, 1, 1})
	gradCheckOp(t, NewTile(2, 1, 3), [][]int{{2, 3, 1}}, gradOpts{})
	shapeErr(t, NewTile(2), [][]int{{2, 3}}, "repeats")

	f := &Flatten{Axis: 2}
	if s, err := f.Shapes([][]int{{2, 3, 4, 5}}); err != nil || !slices.Equal(s[0], []int{6, 20}) {
		t.Errorf("Flatten axis 2: %v, %v", s, err)
	}
}
