package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// refReduce reduces x over the axes in red (float64), returning the output
// (keeping the reduced axes as size 1) and the backward of dy.
func refReduce(x *tensor.Tensor, red []bool, kind string, dy []float32) (y, dx []float64) {
	s := x.Shape
	oshape := make([]int, len(s))
	for i, d := range s {
		oshape[i] = d
		if red[i] {
			oshape[i] = 1
		}
	}
	on := tensor.Numel(oshape)
	y = make([]float64, on)
	cnt := make([]int, on)
	arg := make([]int, on)
	for i := range y {
		if kind == "max" {
			y[i] = math.Inf(-1)
		}
	}
	outIndex := func(i int) int {
		o, str := 0, 1
		for k := len(s) - 1; k >= 0; k-- {
			c := i % s[k]
			i /= s[k]
			if !red[k] {
				o += c * str
			}
			str *= oshape[k]
		}
		return o
	}
	for i, v := range x.Data {
		o := outIndex(i)
		cnt[o]++
		if kind == "max" {
			if float64(v) > y[o] {
				y[o], arg[o] = float64(v), i
			}
		} else {
			y[o] += float64(v)
		}
	}
	if kind == "mean" {
		for i := range y {
			y[i] /= float64(cnt[i])
		}
	}
	dx = make([]float64, len(x.Data))
	for i := range x.Data {
		o := outIndex(i)
		switch kind {
		case "sum":
			dx[i] = float64(dy[o])
		case "mean":
			dx[i] = float64(dy[o]) / float64(cnt[o])
		case "max":
			if arg[o] == i {
				dx[i] = float64(dy[o])
			}
		}
	}
	return y, dx
}

func newReduce(kind string, keep bool, axes ...int) Op {
	switch kind {
	case "sum":
		return NewReduceSum(keep, axes...)
	case "mean":
		return NewReduceMean(keep, axes...)
	}
	return NewReduceMax(keep, axes...)
}

func TestReduceAgainstReference(t *testing.T) {
	cases := []struct {
		shape []int
		axes  []int
	}{
		{[]int{3, 5, 4, 7}, []int{1, 2}}, // NHWC spatial mean
		{[]int{3, 5, 4, 7}, []int{-1}},
		{[]int{3, 5, 4, 7}, []int{0}}, // the batch axis
		{[]int{3, 5, 4, 7}, nil},      // everything
		{[]int{3, 5, 4, 7}, []int{1, 3}},
		{[]int{3, 5, 4, 7}, []int{0, 2}},
		{[]int{3, 1, 4, 1, 6}, []int{-2, 1}}, // size-1 axes
		{[]int{2, 3, 2, 3, 2, 3, 2}, []int{1, 3, 5}},
		{[]int{4, 9}, []int{1}},
		{[]int{1}, []int{0}},
		{[]int{5, 17, 33}, []int{0, 1}},
	}
	for i, c := range cases {
		for _, kind := range []string{"sum", "mean", "max"} {
			for _, keep := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s_%v_%v_keep%v", kind, c.shape, c.axes, keep), func(t *testing.T) {
					op := newReduce(kind, keep, c.axes...)
					x := psRand(uint64(i), c.shape...)
					red, err := normAxes("", c.axes, len(c.shape), c.shape)
					if err != nil {
						t.Fatal(err)
					}
					out, err := op.Shapes([][]int{c.shape})
					if err != nil {
						t.Fatal(err)
					}
					dy := psRand(uint64(i)+50, out[0]...)
					ys, dxs := psRun(t, op, []*tensor.Tensor{x}, []*tensor.Tensor{dy})
					wy, wdx := refReduce(x, red, kind, dy.Data)
					psClose(t, "y", ys[0].Data, wy, 1e-5)
					psClose(t, "dx", dxs[0].Data, wdx, 1e-6)
					rank := len(c.shape)
					if !keep {
						rank = 0
						for _, r := range red {
							if !r {
								rank++
							}
						}
					}
					if len(out[0]) != rank {
						t.Errorf("output shape %v for keep %v", out[0], keep)
					}
				})
			}
		}
	}
}

func TestReduceGrad(t *testing.T) {
	gradCheckOp(t, NewReduceSum(false, 1, 2), [][]int{{2, 5, 3, 4}}, gradOpts{Tol: 1e-3, Seed: 1})
	gradCheckOp(t, NewReduceMean(true, -1, 1), [][]int{{3, 5, 3, 4}}, gradOpts{Tol: 1e-3, Seed: 2})
	gradCheckOp(t, NewReduceMean(false), [][]int{{3, 5, 7}}, gradOpts{Tol: 1e-3, Seed: 3})
	gradCheckOp(t, NewReduceMax(false, 2), [][]int{{3, 5, 7, 2}}, gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: 4})
	gradCheckOp(t, NewReduceMax(true, 0, -1), [][]int{{3, 5, 7}}, gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: 5})
}

func TestReduceShapes(t *testing.T) {
	for _, c := range []struct {
		op   Op
		in   []int
		want []int
	}{
		{NewReduceMean(false, 1, 2), []int{-1, 7, 7, 64}, []int{-1, 64}},
		{NewReduceMean(true, 1, 2), []int{-1, -1, -1, 64}, []int{-1, 1, 1, 64}},
		{NewReduceSum(false), []int{-1, 3}, []int{}},
		{NewReduceMax(true), []int{-1, 3}, []int{1, 1}},
		{NewReduceMax(false, -1), []int{-1, 3, 5}, []int{-1, 3}},
	} {
		got, err := c.op.Shapes([][]int{c.in})
		if err != nil || !tensor.EqualShape(got[0], c.want) {
			t.Errorf("%s %+v on %v: %v %v, want %v", c.op.Kind(), c.op, c.in, got, err, c.want)
		}
	}
	b, _ := json.Marshal(NewReduceMean(true, 1, 2))
	if string(b) != `{"axes":[1,2],"keep_dims":true}` {
		t.Errorf("config %s", b)
	}
}

func TestReduceErrors(t *testing.T) {
	for _, c := range []struct {
		op   Op
		in   [][]int
		want []string
	}{
		{NewReduceMean(false, 3), [][]int{{-1, 4, 5}}, []string{"ReduceMean", "axis 3", "(?, 4, 5)", "rank 3"}},
		{NewReduceSum(false, -4), [][]int{{-1, 4, 5}}, []string{"ReduceSum", "axis -4"}},
		{NewReduceMax(false, 1, -2), [][]int{{-1, 4, 5}}, []string{"ReduceMax", "axis -2 is listed twice", "[1 -2]"}},
		{NewReduceMax(false, 1), [][]int{{-1, 4}, {-1, 4}}, []string{"takes 1 input, got 2"}},
	} {
		_, err := c.op.Shapes(c.in)
		if err == nil {
			t.Errorf("%s on %v: no error", c.op.Kind(), c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s on %v: error %q does not mention %q", c.op.Kind(), c.in, err, w)
			}
		}
	}
	// Alternating reduced and kept axes beyond what a plan holds.
	shape := []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}
	op := NewReduceSum(false, 1, 3, 5, 7, 9)
	out, err := op.Shapes([][]int{shape})
	if err != nil {
		t.Fatal(err)
	}
	err = op.Forward(&Call{}, []*tensor.Tensor{tensor.New(shape...)}, []*tensor.Tensor{tensor.New(out[0]...)})
	if err == nil || !strings.Contains(err.Error(), "alternates") {
		t.Errorf("too many runs: %v", err)
	}
	m := NewReduceMax(false, 1)
	err = m.Backward(&Call{}, nil, nil, []*tensor.Tensor{tensor.New(2)}, []*tensor.Tensor{tensor.New(2, 3)})
	if err == nil || !strings.Contains(err.Error(), "without a Forward") {
		t.Errorf("max Backward before Forward: %v", err)
	}
}
