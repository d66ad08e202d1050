package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// psRun runs op's Shapes, Forward and (when dy is not nil) Backward outside
// a graph, handing Backward only what Saves says.
func psRun(t *testing.T, op Op, xs []*tensor.Tensor, dys []*tensor.Tensor) (ys, dxs []*tensor.Tensor) {
	t.Helper()
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape
	}
	outs, err := op.Shapes(shapes)
	if err != nil {
		t.Fatalf("%s Shapes: %v", op.Kind(), err)
	}
	for _, s := range outs {
		ys = append(ys, tensor.New(s...))
	}
	for _, y := range ys {
		y.Fill(float32(math.NaN())) // Forward must write every value
	}
	c := &Call{}
	if err := op.Forward(c, xs, ys); err != nil {
		t.Fatalf("%s Forward: %v", op.Kind(), err)
	}
	if dys == nil {
		return ys, nil
	}
	saveIn, saveOut := true, true
	if sv, ok := op.(Saver); ok {
		saveIn, saveOut = sv.Saves()
	}
	bin := make([]*tensor.Tensor, len(xs))
	bout := make([]*tensor.Tensor, len(ys))
	for i := range xs {
		dxs = append(dxs, tensor.New(xs[i].Shape...))
		dxs[i].Fill(float32(math.NaN()))
		if saveIn {
			bin[i] = xs[i]
		}
	}
	for i := range ys {
		if saveOut {
			bout[i] = ys[i]
		}
	}
	if err := op.Backward(c, bin, bout, dys, dxs); err != nil {
		t.Fatalf("%s Backward: %v", op.Kind(), err)
	}
	return ys, dxs
}

// refPool is a direct NHWC pool in float64: max (winner: the first in
// row-major window order) or average, and its backward.
func refPool(x *tensor.Tensor, dy []float32, isMax, inclPad bool, g poolGeom) (y, dx []float64) {
	n, h, w, c := g.n, g.h, g.w, g.c
	y = make([]float64, n*g.oh*g.ow*c)
	dx = make([]float64, len(x.Data))
	for b := range n {
		for oy := range g.oh {
			for ox := range g.ow {
				for ch := range c {
					o := ((b*g.oh+oy)*g.ow+ox)*c + ch
					best, arg, sum, cnt := math.Inf(-1), -1, 0.0, 0
					pad := 0
					for i := range g.kh {
						iy := oy*g.sh + i - g.top
						if iy >= h+g.bottom {
							continue
						}
						for j := range g.kw {
							ix := ox*g.sw + j - g.left
							if ix >= w+g.right {
								continue
							}
							pad++
							if iy < 0 || ix < 0 || iy >= h || ix >= w {
								continue
							}
							k := ((b*h+iy)*w+ix)*c + ch
							v := float64(x.Data[k])
							if v > best {
								best, arg = v, k
							}
							sum += v
							cnt++
						}
					}
					if isMax {
						y[o] = best
						if dy != nil {
							dx[arg] += float64(dy[o])
						}
						continue
					}
					div := float64(cnt)
					if inclPad {
						div = float64(pad)
					}
					y[o] = sum / div
					if dy == nil {
						continue
					}
					for i := range g.kh {
						for j := range g.kw {
							iy, ix := oy*g.sh+i-g.top, ox*g.sw+j-g.left
							if iy >= 0 && ix >= 0 && iy < h && ix < w {
								dx[((b*h+iy)*w+ix)*c+ch] += float64(dy[o]) / div
							}
						}
					}
				}
			}
		}
	}
	return y, dx
}

func psRand(seed uint64, shape ...int) *tensor.Tensor {
	rng := NewRNG(seed)
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// psClose checks got against want within tol relative to max(|want|, 1).
func psClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*math.Max(math.Abs(want[i]), 1)) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestPoolsAgainstReference runs both pools, on both of max pooling's
// paths (the 2x2 kernels and the general loop), against refPool.
func TestPoolsAgainstReference(t *testing.T) {
	type cfg struct {
		k, kw, s, sw int
		pad          Padding
		ceil         bool
		h, w, c      int
	}
	cases := []cfg{
		{2, 2, 2, 2, Padding{}, false, 6, 4, 3},
		{2, 2, 2, 2, Padding{}, false, 7, 5, 9}, // odd: last row/column dropped
		{2, 2, 2, 2, Same, false, 7, 5, 9},      // odd: last window cut short
		{2, 2, 2, 2, Same, false, 1, 1, 2},      // one pixel
		{2, 2, 2, 2, Padding{}, true, 5, 7, 17}, // ceil mode
		{2, 2, 2, 2, Padding{}, true, 3, 1, 1},  // ceil mode, single column
		{2, 2, 2, 2, Padding{Mode: "explicit", Bottom: 1}, false, 5, 6, 4},
		{2, 2, 2, 2, Explicit(1), false, 5, 6, 4}, // top padding: the general path
		{3, 3, 2, 2, Explicit(1), false, 7, 7, 2},
		{3, 3, 2, 2, Explicit(1), true, 8, 6, 3},
		{3, 3, 2, 2, Same, false, 8, 5, 5},
		{3, 3, 1, 1, Same, false, 4, 6, 2},
		{2, 3, 1, 2, Padding{}, false, 5, 7, 1},
		{3, 2, 3, 1, Padding{Mode: "explicit", Top: 2, Bottom: 0, Left: 1, Right: 1}, true, 8, 5, 3},
		{4, 4, 3, 3, Padding{Mode: "explicit", Top: 3, Left: 2}, true, 9, 9, 2},
		{5, 5, 1, 1, Padding{}, false, 5, 5, 8},
		// Strided pools on multiples of 8 channels: the interior through
		// MaxIntoStrided's assembly; an image narrower than the kernel.
		{3, 3, 2, 2, Explicit(1), false, 9, 11, 16},
		{3, 3, 2, 2, Same, false, 8, 13, 24},
		{2, 3, 1, 2, Padding{}, false, 5, 9, 8},
		{3, 3, 3, 3, Padding{}, true, 10, 11, 8},
		{3, 3, 2, 2, Explicit(1), false, 5, 1, 8},
		{3, 3, 2, 2, Padding{Mode: "explicit", Bottom: 2, Right: 2}, false, 4, 2, 8},
	}
	for i, k := range cases {
		for _, kind := range []string{"max", "avg", "avg_incl"} {
			name := fmt.Sprintf("%d_%s_%dx%d_s%dx%d_%s_ceil%v_%dx%dx%d", i, kind, k.k, k.kw, k.s, k.sw, k.pad, k.ceil, k.h, k.w, k.c)
			t.Run(name, func(t *testing.T) {
				var op Op
				var win poolWin
				if kind == "max" {
					p := &MaxPool2D{PoolH: k.k, PoolW: k.kw, StrideH: k.s, StrideW: k.sw, Padding: k.pad, CeilMode: k.ceil}
					op, win = p, p.win()
				} else {
					p := &AveragePool2D{PoolH: k.k, PoolW: k.kw, StrideH: k.s, StrideW: k.sw, Padding: k.pad, CeilMode: k.ceil, CountIncludePad: kind == "avg_incl"}
					op, win = p, p.win()
				}
				x := psRand(uint64(i), 3, k.h, k.w, k.c)
				g, err := win.geom(x.Shape)
				if err != nil {
					t.Fatal(err)
				}
				dy := psRand(uint64(i)+100, g.n, g.oh, g.ow, g.c)
				ys, dxs := psRun(t, op, []*tensor.Tensor{x}, []*tensor.Tensor{dy})
				wy, wdx := refPool(x, dy.Data, kind == "max", kind == "avg_incl", g)
				psClose(t, "y", ys[0].Data, wy, 1e-6)
				psClose(t, "dx", dxs[0].Data, wdx, 1e-6)
			})
		}
	}
}

func TestMaxPool2DFastPath(t *testing.T) {
	for _, c := range []struct {
		p    *MaxPool2D
		fast bool
	}{
		{NewMaxPool2D(2, 0), true},
		{NewMaxPool2D(2, 2), true},
		{&MaxPool2D{PoolH: 2, PoolW: 2, Padding: Same}, true},
		{&MaxPool2D{PoolH: 2, PoolW: 2, CeilMode: true}, true},
		{&MaxPool2D{PoolH: 2, PoolW: 2, Padding: Padding{Mode: "explicit", Bottom: 1, Right: 1}}, true},
		{&MaxPool2D{PoolH: 2, PoolW: 2, Padding: Explicit(1)}, false},
		{NewMaxPool2D(3, 2), false},
		{NewMaxPool2D(2, 1), false},
	} {
		if c.p.fast() != c.fast {
			t.Errorf("%+v: fast %v, want %v", c.p, c.p.fast(), c.fast)
		}
		if in, out := c.p.Saves(); !in || !out {
			t.Errorf("%+v: Saves %v %v", c.p, in, out)
		}
	}
}

func TestMaxPool2DGrad(t *testing.T) {
	o := func(seed uint64) gradOpts { return gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: seed} }
	gradCheckOp(t, NewMaxPool2D(2, 0), [][]int{{2, 6, 4, 3}}, o(1))
	gradCheckOp(t, NewMaxPool2D(2, 2), [][]int{{2, 7, 5, 2}}, o(2)) // odd: last row/col dropped
	gradCheckOp(t, &MaxPool2D{PoolH: 2, PoolW: 2, Padding: Same}, [][]int{{2, 7, 5, 2}}, o(3))
	gradCheckOp(t, &MaxPool2D{PoolH: 2, PoolW: 2, CeilMode: true}, [][]int{{1, 5, 7, 3}}, o(4))
	gradCheckOp(t, NewMaxPool2D(3, 2), [][]int{{1, 7, 7, 2}}, o(5)) // overlapping
	gradCheckOp(t, &MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1), CeilMode: true}, [][]int{{2, 6, 5, 2}}, o(6))
	gradCheckOp(t, &MaxPool2D{PoolH: 2, PoolW: 3, StrideH: 1, StrideW: 2, Padding: Same}, [][]int{{2, 5, 7, 1}}, o(7))
}

func TestAveragePool2DGrad(t *testing.T) {
	o := func(seed uint64) gradOpts { return gradOpts{Tol: 1e-3, Seed: seed} }
	gradCheckOp(t, NewAveragePool2D(2, 0), [][]int{{2, 6, 4, 3}}, o(1))
	gradCheckOp(t, NewAveragePool2D(3, 2), [][]int{{2, 7, 5, 2}}, o(2))
	gradCheckOp(t, &AveragePool2D{PoolH: 3, PoolW: 2, StrideH: 1, StrideW: 3}, [][]int{{1, 5, 8, 2}}, o(3))
	gradCheckOp(t, &AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}, [][]int{{2, 7, 6, 3}}, o(4))
	gradCheckOp(t, &AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1), CountIncludePad: true, CeilMode: true}, [][]int{{2, 6, 7, 2}}, o(5))
	gradCheckOp(t, &AveragePool2D{PoolH: 2, PoolW: 2, StrideH: 2, StrideW: 2, CeilMode: true}, [][]int{{1, 5, 5, 4}}, o(6))
}

func TestGlobalPoolGrad(t *testing.T) {
	gradCheckOp(t, NewGlobalAveragePool(), [][]int{{3, 5, 3, 4}}, gradOpts{Tol: 1e-3, Seed: 1})
	gradCheckOp(t, &GlobalAveragePool{KeepDims: true}, [][]int{{2, 3, 7, 5}}, gradOpts{Tol: 1e-3, Seed: 2})
	gradCheckOp(t, NewGlobalMaxPool(), [][]int{{3, 5, 3, 4}}, gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: 3})
	gradCheckOp(t, &GlobalMaxPool{KeepDims: true}, [][]int{{2, 3, 7, 5}}, gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: 4})
	gradCheckOp(t, NewGlobalMaxPool(), [][]int{{2, 9, 3}}, gradOpts{Distinct: true, Eps: 1e-3, Tol: 1e-3, Seed: 5}) // (N, L, C)
}

func TestPoolValues(t *testing.T) {
	// One 4x4 single-channel image 0..15.
	x := tensor.New(1, 4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	check := func(op Op, want []float32, shape ...int) {
		t.Helper()
		ys, _ := psRun(t, op, []*tensor.Tensor{x}, nil)
		if !psEqual(ys[0].Data, want) || !tensor.EqualShape(ys[0].Shape, shape) {
			t.Errorf("%s: %v %v, want %v %v", op.Kind(), ys[0].Shape, ys[0].Data, shape, want)
		}
	}
	check(NewMaxPool2D(2, 0), []float32{5, 7, 13, 15}, 1, 2, 2, 1)
	check(NewAveragePool2D(2, 0), []float32{2.5, 4.5, 10.5, 12.5}, 1, 2, 2, 1)
	check(NewGlobalAveragePool(), []float32{7.5}, 1, 1)
	check(&GlobalAveragePool{KeepDims: true}, []float32{7.5}, 1, 1, 1, 1)
	check(NewGlobalMaxPool(), []float32{15}, 1, 1)
	// 3x3 stride 2, padding 1: corners see 4 pixels, edges 6, the centre 9.
	check(&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1)},
		[]float32{2.5, 4, 8.5, 10}, 1, 2, 2, 1)
	check(&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1), CountIncludePad: true},
		[]float32{10.0 / 9, 24.0 / 9, 51.0 / 9, 10}, 1, 2, 2, 1)
	check(&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1)}, []float32{5, 7, 13, 15}, 1, 2, 2, 1)
	// Ceil mode on 4x4 with 3x3 stride 2: a second, shorter window.
	check(&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, CeilMode: true}, []float32{10, 11, 14, 15}, 1, 2, 2, 1)
	check(&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, CeilMode: true}, []float32{5, 6.5, 11, 12.5}, 1, 2, 2, 1)
	// Negative inputs: max padding is -inf, not 0.
	neg := tensor.New(1, 2, 2, 1)
	neg.Fill(-3)
	ys, _ := psRun(t, &MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 1, StrideW: 1, Padding: Same}, []*tensor.Tensor{neg}, nil)
	if !psEqual(ys[0].Data, []float32{-3, -3, -3, -3}) {
		t.Errorf("max pool of negatives with padding: %v", ys[0].Data)
	}
}

func TestPoolShapes(t *testing.T) {
	for _, c := range []struct {
		op   Op
		in   []int
		want []int
	}{
		{NewMaxPool2D(2, 0), []int{-1, 28, 28, 6}, []int{-1, 14, 14, 6}},
		{NewMaxPool2D(2, 0), []int{-1, -1, -1, 6}, []int{-1, -1, -1, 6}},
		{&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}, []int{1, 7, 8, 2}, []int{1, 4, 4, 2}},
		{&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, CeilMode: true}, []int{1, 6, 7, 2}, []int{1, 3, 3, 2}},
		{&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1), CeilMode: true}, []int{1, 6, 6, 2}, []int{1, 4, 4, 2}},
		// PyTorch: the last ceil-mode window must start inside the input or its left padding.
		{&AveragePool2D{PoolH: 2, PoolW: 2, StrideH: 2, StrideW: 2, Padding: Explicit(1), CeilMode: true}, []int{1, 5, 5, 2}, []int{1, 3, 3, 2}},
		{NewGlobalAveragePool(), []int{-1, 7, 7, 512}, []int{-1, 512}},
		{&GlobalMaxPool{KeepDims: true}, []int{-1, 7, -1, 512}, []int{-1, 1, 1, 512}},
	} {
		got, err := c.op.Shapes([][]int{c.in})
		if err != nil || !tensor.EqualShape(got[0], c.want) {
			t.Errorf("%s %+v on %v: %v %v, want %v", c.op.Kind(), c.op, c.in, got, err, c.want)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	for _, c := range []struct {
		op   Op
		in   [][]int
		want []string
	}{
		{NewMaxPool2D(2, 0), [][]int{{-1, 10, 3}}, []string{"(?, 10, 3)", "MaxPool2D", "(batch, height, width, channels)"}},
		{NewAveragePool2D(5, 0), [][]int{{-1, 4, 4, 3}}, []string{"(?, 4, 4, 3)", "pool window 5", "larger"}},
		{NewMaxPool2D(0, 0), [][]int{{-1, 4, 4, 3}}, []string{"pool 0x0"}},
		{&MaxPool2D{PoolH: 2, PoolW: 2, StrideH: -1}, [][]int{{-1, 4, 4, 3}}, []string{"stride -1x0"}},
		{&MaxPool2D{PoolH: 3, PoolW: 3, Padding: Explicit(3)}, [][]int{{-1, 8, 8, 3}}, []string{"explicit(top 3", "smaller than the pool window (3)"}},
		{&AveragePool2D{PoolH: 3, PoolW: 3, Padding: Padding{Mode: "explicit", Left: -1}}, [][]int{{-1, 8, 8, 3}}, []string{"negative padding"}},
		{&AveragePool2D{PoolH: 3, PoolW: 3, Padding: Padding{Mode: "full"}}, [][]int{{-1, -1, -1, 3}}, []string{`unknown padding mode "full"`}},
		{NewMaxPool2D(2, 0), [][]int{{-1, 4, 4, 3}, {-1, 4, 4, 3}}, []string{"takes 1 input, got 2"}},
		{NewGlobalAveragePool(), [][]int{{-1, 12}}, []string{"(?, 12)", "GlobalAveragePool"}},
		{NewGlobalMaxPool(), [][]int{{-1, 12}}, []string{"(?, 12)", "GlobalMaxPool"}},
	} {
		_, err := c.op.Shapes(c.in)
		if err == nil {
			t.Errorf("%s %+v on %v: no error", c.op.Kind(), c.op, c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s on %v: error %q does not mention %q", c.op.Kind(), c.in, err, w)
			}
		}
	}
	// A caller outside a graph handing tensors of the wrong shape.
	p := NewMaxPool2D(2, 0)
	err := p.Forward(&Call{}, []*tensor.Tensor{tensor.New(1, 4, 4, 2)}, []*tensor.Tensor{tensor.New(1, 2, 2, 3)})
	if err == nil || !strings.Contains(err.Error(), "(1, 2, 2, 3)") || !strings.Contains(err.Error(), "(1, 2, 2, 2)") {
		t.Errorf("wrong output: %v", err)
	}
	err = p.Backward(&Call{}, []*tensor.Tensor{nil}, []*tensor.Tensor{nil}, []*tensor.Tensor{tensor.New(1, 2, 2, 2)}, []*tensor.Tensor{tensor.New(1, 4, 4, 2)})
	if err == nil || !strings.Contains(err.Error(), "input and output") {
		t.Errorf("Backward without saves: %v", err)
	}
	err = p.Backward(&Call{}, []*tensor.Tensor{tensor.New(1, 4, 4, 2)}, []*tensor.Tensor{tensor.New(1, 2, 2, 2)}, []*tensor.Tensor{tensor.New(1, 3, 2, 2)}, []*tensor.Tensor{tensor.New(1, 4, 4, 2)})
	if err == nil || !strings.Contains(err.Error(), "gradient shape (1, 3, 2, 2)") {
		t.Errorf("wrong gradient: %v", err)
	}
	// A graph names the node and its input.
	g := NewGraph()
	x := g.Input("img", 3, 3, 1)
	g.Output(g.Node("pool", NewMaxPool2D(4, 0), x).Out(0))
	if err := g.Build(0); err == nil || !strings.Contains(err.Error(), `"pool"`) || !strings.Contains(err.Error(), "img (?, 3, 3, 1)") {
		t.Errorf("graph error: %v", err)
	}
}

// TestPoolConfigCompat loads the config JSON of version 1 model files and
// checks that new fields stay out of files that do not use them.
func TestPoolConfigCompat(t *testing.T) {
	op, err := newOp("MaxPool2D", json.RawMessage(`{"pool_h":3,"pool_w":2,"stride_h":2,"stride_w":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if mp := op.(*MaxPool2D); *mp != (MaxPool2D{PoolH: 3, PoolW: 2, StrideH: 2, StrideW: 1}) {
		t.Errorf("v1 max pool config decoded to %+v", mp)
	}
	op, err = newOp("AveragePool2D", json.RawMessage(`{"pool_h":2,"pool_w":2,"stride_h":0,"stride_w":0}`))
	if err != nil {
		t.Fatal(err)
	}
	if ap := op.(*AveragePool2D); *ap != (AveragePool2D{PoolH: 2, PoolW: 2}) {
		t.Errorf("v1 average pool config decoded to %+v", ap)
	}
	if _, err := newOp("GlobalAveragePool", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(NewMaxPool2D(2, 2))
	if string(b) != `{"pool_h":2,"pool_w":2,"stride_h":2,"stride_w":2}` {
		t.Errorf("default max pool config %s", b)
	}
	b, _ = json.Marshal(&AveragePool2D{PoolH: 3, PoolW: 3, Padding: Same, CeilMode: true, CountIncludePad: true})
	want := `{"pool_h":3,"pool_w":3,"stride_h":0,"stride_w":0,"padding":{"mode":"same"},"ceil_mode":true,"count_include_pad":true}`
	if string(b) != want {
		t.Errorf("config %s, want %s", b, want)
	}
	var back AveragePool2D
	if err := json.Unmarshal(b, &back); err != nil || back != (AveragePool2D{PoolH: 3, PoolW: 3, Padding: Same, CeilMode: true, CountIncludePad: true}) {
		t.Errorf("round trip %+v %v", back, err)
	}
}

// TestPoolGraphGradients runs the pools inside a Session, where the
// engine frees what Saves does not keep.
func TestPoolGraphGradients(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 7, 6, 3)
	a := g.Apply(&MaxPool2D{PoolH: 2, PoolW: 2, Padding: Same}, x)
	b := g.Apply(&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Explicit(1)}, x)
	c := g.Apply(&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}, x)
	y := g.Apply(NewMul(), g.Apply(NewAdd(), a, b), c)
	g.Output(g.Apply(NewGlobalAveragePool(), y), g.Apply(NewGlobalMaxPool(), y))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	gradCheckGraph(t, g, [][]int{{2, 7, 6, 3}}, gradOpts{Training: true, Distinct: true, Eps: 1e-3, Tol: 1e-3})
}

func psEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPoolsLoadFromVersion1File loads a version 1 model file (a chain of
// layers, as the old release wrote it) holding the pools.
func TestPoolsLoadFromVersion1File(t *testing.T) {
	arch := `{"input_shape":[8,8,3],"layers":[` +
		`{"kind":"MaxPool2D","config":{"pool_h":2,"pool_w":2,"stride_h":2,"stride_w":2}},` +
		`{"kind":"AveragePool2D","config":{"pool_h":2,"pool_w":2,"stride_h":1,"stride_w":1}},` +
		`{"kind":"GlobalAveragePool","config":{}}]}`
	f := &safetensors.File{
		Metadata: map[string]string{"dlcv.format": "dlcv", "dlcv.format_version": "1", "dlcv.architecture": arch},
		Tensors:  map[string]safetensors.Tensor{},
	}
	m, err := ModelFromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.OutputShape(); !tensor.EqualShape(s, []int{3}) {
		t.Fatalf("output shape %v", s)
	}
	x := psRand(1, 2, 8, 8, 3)
	y, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	// The same chain built directly.
	want := []*tensor.Tensor{x}
	for _, op := range []Op{NewMaxPool2D(2, 2), NewAveragePool2D(2, 1), NewGlobalAveragePool()} {
		want, _ = psRun(t, op, want, nil)
	}
	if !psEqual(y.Data, want[0].Data) {
		t.Errorf("v1 chain gives %v, want %v", y.Data, want[0].Data)
	}
}

// GlobalAveragePool over more pixels than a block: the float64 mean, and
// the same bits on 1 and 3 threads (blocks are fixed by size, not by core).
func TestGlobalAveragePoolBlocks(t *testing.T) {
	x := psRand(9, 2, 20, 17, 5) // 340 pixels: a block and a part
	run := func(threads int) []float32 {
		defer kernels.SetThreads(kernels.SetThreads(threads))
		y := tensor.New(2, 5)
		if err := NewGlobalAveragePool().Forward(&Call{}, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		return y.Data
	}
	one, three := run(1), run(3)
	for b := range 2 {
		for ch := range 5 {
			var s float64
			for p := range 340 {
				s += float64(x.Data[(b*340+p)*5+ch])
			}
			got, want := one[b*5+ch], s/340
			if math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("image %d channel %d: %v, want %v", b, ch, got, want)
			}
			if three[b*5+ch] != got {
				t.Fatalf("image %d channel %d: %v on 3 threads, %v on 1", b, ch, three[b*5+ch], got)
			}
		}
	}
}
