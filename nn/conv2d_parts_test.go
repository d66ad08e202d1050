package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Splitting the batch over cores (with kept or chunked patches, with and
// without the input gradient, 1x1 convolutions included) must give the
// results of one core up to rounding.
func TestConv2DPartsMatchOneCore(t *testing.T) {
	rng := NewRNG(11)
	x := randTensor(rng, 7, 9, 8, 3)
	type result struct{ y, dx, dw, db *tensor.Tensor }
	run := func(threads int, make func() *Conv2D, chunked, skipDX bool) result {
		prev := kernels.SetThreads(threads)
		defer kernels.SetThreads(prev)
		c := make()
		out, err := c.Build([]int{9, 8, 3}, NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		if chunked {
			c.maxChunk, c.keepFloats = 2, 0
		}
		c.SkipInputGrad(skipDX)
		y, err := c.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		r := result{y: y.Clone()}
		dy := randTensor(NewRNG(5), append([]int{7}, out...)...)
		for range 2 { // gradients accumulate over calls
			if _, err := c.Forward(x, true); err != nil {
				t.Fatal(err)
			}
			dx, err := c.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			if !skipDX {
				r.dx = dx.Clone()
			}
		}
		r.dw, r.db = c.kernel.Grad.Clone(), c.bias.Grad.Clone()
		return r
	}
	layers := map[string]func() *Conv2D{
		"5x5 same": func() *Conv2D { return NewConv2D(6, 5, 1, Same) },
		"3x3 s2":   func() *Conv2D { return NewConv2D(5, 3, 2, Valid) },
		"1x1":      func() *Conv2D { return NewConv2D(4, 1, 1, Valid) },
	}
	for name, mk := range layers {
		for _, chunked := range []bool{false, true} {
			for _, skip := range []bool{false, true} {
				want := run(1, mk, chunked, skip)
				for _, threads := range []int{2, 3, 8} {
					got := run(threads, mk, chunked, skip)
					for _, p := range []struct {
						what string
						a, b *tensor.Tensor
					}{{"y", got.y, want.y}, {"dx", got.dx, want.dx}, {"dW", got.dw, want.dw}, {"db", got.db, want.db}} {
						if p.a == nil && p.b == nil {
							continue
						}
						for i := range p.b.Data {
							if math.Abs(float64(p.a.Data[i]-p.b.Data[i])) > 1e-4 {
								t.Fatalf("%s chunked=%v skipDX=%v threads=%d: %s[%d] = %v, one core %v",
									name, chunked, skip, threads, p.what, i, p.a.Data[i], p.b.Data[i])
							}
						}
					}
				}
			}
		}
	}
}

// A one-channel stride-1 convolution takes the direct kernel where the CPU
// has one (its results are checked by TestConv2DGrad's one-channel cases).
func TestConv2DOneChannelPath(t *testing.T) {
	c := NewConv2D(20, 5, 1, Same)
	if _, err := c.Build([]int{9, 10, 1}, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Forward(randTensor(NewRNG(2), 2, 9, 10, 1), true); err != nil {
		t.Fatal(err)
	}
	if want := kernels.Conv1ChanSupported(20, 10); c.oneChan != want {
		t.Errorf("oneChan = %v, want %v (kernel available)", c.oneChan, want)
	}
}

// With the input gradient skipped, a one-channel convolution computes dW
// with kernels.Conv1ChanGrad; it must equal the im2col path's dW.
func TestConv2DOneChannelSkipDX(t *testing.T) {
	x := randTensor(NewRNG(4), 3, 12, 11, 1)
	grads := func(skip bool) (dw, db *tensor.Tensor) {
		c := NewConv2D(20, 5, 1, Same)
		out, err := c.Build([]int{12, 11, 1}, NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		c.SkipInputGrad(skip)
		dy := randTensor(NewRNG(6), append([]int{3}, out...)...)
		for range 2 {
			if _, err := c.Forward(x, true); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Backward(dy); err != nil {
				t.Fatal(err)
			}
		}
		return c.kernel.Grad, c.bias.Grad
	}
	dw1, db1 := grads(true)
	dw2, db2 := grads(false)
	for i := range dw2.Data {
		if math.Abs(float64(dw1.Data[i]-dw2.Data[i])) > 1e-3 {
			t.Fatalf("dW[%d]: %v skipping dx, %v computing it", i, dw1.Data[i], dw2.Data[i])
		}
	}
	for i := range db2.Data {
		if math.Abs(float64(db1.Data[i]-db2.Data[i])) > 1e-4 {
			t.Fatalf("db[%d]: %v skipping dx, %v computing it", i, db1.Data[i], db2.Data[i])
		}
	}
}
