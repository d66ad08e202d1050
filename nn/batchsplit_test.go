package nn

import (
	"fmt"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// perImage runs each image of x alone (no split possible at batch 1) and
// returns the results concatenated.
func perImage(t *testing.T, g *Graph, x *tensor.Tensor) []float32 {
	t.Helper()
	s := g.NewSession()
	var all []float32
	for i := range x.Shape[0] {
		one := imageOf([]*tensor.Tensor{x}, i, nil)
		all = append(all, runOnce(t, s, one[0])...)
	}
	return all
}

// TestBatchSplit: a split batch gives each image's batch-1 result, with
// the weights frozen or not, on 2 and 3 threads, and then allocates
// nothing per run.
func TestBatchSplit(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(2))
	defer func(v int) { splitMinFlops = v }(splitMinFlops)
	splitMinFlops = 0 // the test network is small
	g, _ := frozenNet(t)
	x := frozenInput(5)
	want := perImage(t, g, x)
	for _, frozen := range []bool{false, true} {
		for _, th := range []int{2, 3} {
			t.Run(fmt.Sprintf("frozen%v_t%d", frozen, th), func(t *testing.T) {
				kernels.SetThreads(th)
				g.SetFrozen(frozen)
				s := g.NewSession()
				got := runOnce(t, s, x)
				frozenClose(t, "split", got, want)
				if p := s.plans[0]; p.split != 1 {
					t.Fatalf("plan split state %d, want 1 (split)", p.split)
				}
				ys, _ := s.Run(false, x)
				if ys[0].Shape[0] != 5 {
					t.Fatalf("output shape %v", ys[0].Shape)
				}
				off := g.NewSession()
				off.SetBatchSplit(false)
				frozenClose(t, "not split", runOnce(t, off, x), want)
				if a := testing.AllocsPerRun(5, func() { s.Run(false, x) }); a != 0 {
					t.Errorf("%v allocations per split run", a)
				}
			})
		}
	}
	g.SetFrozen(false)
}

// TestBatchSplitRefused: graphs that mix the images of a batch run whole
// and give the unsplit results.
func TestBatchSplitRefused(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(2))
	for _, c := range []struct {
		name string
		op   Op
	}{
		{"too little work a node", NewReLU()},
		{"reduce over the batch", NewReduceMean(true, 0)},
		{"reshape folding the batch", NewReshape(1, -1)},
		{"transpose of the batch axis", NewTranspose(1, 0, 2, 3)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "too little work a node" {
				defer func(v int) { splitMinFlops = v }(splitMinFlops)
				splitMinFlops = 0
			}
			g := NewGraph()
			x := g.Input("x", 4, 4, 3)
			h := g.Apply(NewConv2D(4, 3, 1, Same), x)
			g.Output(g.Apply(c.op, h))
			if err := g.Build(1); err != nil {
				t.Fatal(err)
			}
			in := frozenInputShape(3, 4, 4, 3)
			on := g.NewSession()
			off := g.NewSession()
			off.SetBatchSplit(false)
			got, want := runOnce(t, on, in), runOnce(t, off, in)
			sameBits(t, c.name, got, want)
			if p := on.plans[0]; p.split != -1 {
				t.Errorf("plan split state %d, want -1 (refused)", p.split)
			}
		})
	}
}

func frozenInputShape(shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	rng := NewRNG(6)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// TestBatchSplitConcurrent: sessions of one frozen graph splitting their
// batches at once (run with -race) give each image's batch-1 result.
func TestBatchSplitConcurrent(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(2))
	defer func(v int) { splitMinFlops = v }(splitMinFlops)
	splitMinFlops = 0
	g, _ := frozenNet(t)
	x := frozenInput(4)
	want := perImage(t, g, x)
	g.SetFrozen(true)
	defer g.SetFrozen(false)
	outs := make([][]float32, 3)
	done := make(chan int)
	for i := range outs {
		go func() {
			s := g.NewSession()
			for range 3 {
				ys, err := s.Run(false, x)
				if err != nil {
					break
				}
				outs[i] = append(outs[i][:0], ys[0].Data...)
			}
			done <- i
		}()
	}
	for range outs {
		<-done
	}
	for i, o := range outs {
		if o == nil {
			t.Fatalf("session %d failed", i)
		}
		frozenClose(t, "concurrent split", o, want)
	}
}
