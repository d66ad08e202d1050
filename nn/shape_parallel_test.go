package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// TestPoolShapeParallelMatchesSerial runs every op on inputs large enough
// for its work to be split over cores and checks that the outputs and
// gradients are bit for bit those of one core (each unit of work does the
// same arithmetic in the same order wherever it runs).
func TestPoolShapeParallelMatchesSerial(t *testing.T) {
	img := []int{4, 48, 40, 16}
	pads := []int{0, 2, 1, 0, 0, 1, 3, 0}
	cases := []struct {
		op     Op
		shapes [][]int
	}{
		{NewMaxPool2D(2, 2), [][]int{img}},
		{&MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}, [][]int{img}},
		{&AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 1, StrideW: 1, Padding: Explicit(1), CountIncludePad: true}, [][]int{img}},
		{NewGlobalAveragePool(), [][]int{img}},
		{NewGlobalMaxPool(), [][]int{img}},
		{NewReduceMean(false, 1, 2), [][]int{img}},
		{NewReduceMax(true, -1), [][]int{img}},
		{NewReduceSum(false, 0), [][]int{img}},
		{NewConcat(-1), [][]int{img, {4, 48, 40, 5}}},
		{NewSplit(2, 7, 33), [][]int{img}},
		{NewTranspose(0, 3, 1, 2), [][]int{img}},
		{NewTranspose(0, 2, 3, 1), [][]int{{2, 3, 120, 110}}}, // few rows: column blocks
		{NewTranspose(3, 1, 0, 2), [][]int{img}},
		{NewPad("constant", pads...), [][]int{img}},
		{NewPad("reflect", pads...), [][]int{img}},
		{NewPad("edge", pads...), [][]int{img}},
		{NewResize("bilinear", 2, 2), [][]int{img}},
		{NewResizeTo("nearest", 30, 70), [][]int{img}},
	}
	run := func(op Op, shapes [][]int, threads int) (ys, dxs []*tensor.Tensor) {
		defer kernels.SetThreads(kernels.SetThreads(threads))
		xs := make([]*tensor.Tensor, len(shapes))
		for i, s := range shapes {
			xs[i] = psRand(uint64(i+1), s...)
		}
		outs, err := op.Shapes(shapes)
		if err != nil {
			t.Fatal(err)
		}
		dys := make([]*tensor.Tensor, len(outs))
		for i, s := range outs {
			dys[i] = psRand(uint64(10+i), s...)
		}
		return psRun(t, op, xs, dys)
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%v", c.op.Kind(), c.shapes), func(t *testing.T) {
			ys1, dx1 := run(c.op, c.shapes, 1)
			ys2, dx2 := run(c.op, c.shapes, 4)
			for i := range ys1 {
				sameF32Bits(t, "y", ys2[i].Data, ys1[i].Data)
			}
			for i := range dx1 {
				sameF32Bits(t, "dx", dx2[i].Data, dx1[i].Data)
			}
		})
	}
}

func sameF32Bits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v on several cores, %v on one", what, i, got[i], want[i])
		}
	}
}
