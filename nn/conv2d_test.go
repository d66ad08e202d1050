package nn

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestConv2DGrad(t *testing.T) {
	cases := []struct {
		name    string
		layer   *Conv2D
		inShape []int
	}{
		{"3x3 s1 valid", NewConv2D(4, 3, 1, Valid), []int{2, 7, 5, 3}},
		{"3x3 s1 same", NewConv2D(4, 3, 1, Same), []int{2, 7, 5, 3}},
		{"3x3 s2 same", NewConv2D(3, 3, 2, Same), []int{2, 7, 5, 3}},
		{"5x5 s2 explicit", NewConv2D(2, 5, 2, Explicit(2)), []int{1, 9, 6, 2}},
		{"4x4 s2 same even", NewConv2D(3, 4, 2, Same), []int{2, 8, 6, 1}},
		{"1x1 direct", NewConv2D(5, 1, 1, Valid), []int{2, 3, 4, 3}},
		{"1x1 s2", NewConv2D(2, 1, 2, Valid), []int{2, 5, 5, 3}},
		{"2x3 s(2,1) asym", &Conv2D{Filters: 3, KernelH: 2, KernelW: 3, StrideH: 2, StrideW: 1,
			Padding: Padding{Mode: "explicit", Top: 1, Bottom: 0, Left: 0, Right: 2}, UseBias: true}, []int{2, 5, 7, 2}},
		{"no bias", &Conv2D{Filters: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: Same}, []int{1, 4, 5, 2}},
		// One channel, stride 1, output rows >= 8: kernels.Conv1Chan.
		{"1 channel 5x5 same", NewConv2D(20, 5, 1, Same), []int{2, 9, 10, 1}},
		{"1 channel no bias", &Conv2D{Filters: 3, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: Valid}, []int{1, 5, 11, 1}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gradCheck(t, c.layer, c.inShape, gradOpts{Seed: uint64(i), Samples: 30})
		})
	}
}

// The output sizes follow floor((W - F + P)/S) + 1 with TensorFlow's
// "same" padding.
func TestConv2DOutputShapes(t *testing.T) {
	cases := []struct {
		k, s int
		pad  Padding
		in   []int
		want []int
	}{
		{5, 1, Same, []int{28, 28, 1}, []int{28, 28, 20}},
		{5, 1, Valid, []int{28, 28, 1}, []int{24, 24, 20}},
		{3, 2, Same, []int{7, 5, 3}, []int{4, 3, 20}},
		{3, 2, Valid, []int{7, 5, 3}, []int{3, 2, 20}},
		{3, 2, Explicit(1), []int{7, 5, 3}, []int{4, 3, 20}},
		{2, 2, Same, []int{6, 6, 3}, []int{3, 3, 20}},
		{1, 3, Same, []int{7, 7, 1}, []int{3, 3, 20}},
	}
	for _, c := range cases {
		out, err := NewConv2D(20, c.k, c.s, c.pad).Build(c.in, NewRNG(1))
		if err != nil || !tensor.EqualShape(out, c.want) {
			t.Errorf("%dx%d s%d %s on %v: got %v, %v; want %v", c.k, c.k, c.s, c.pad, c.in, out, err, c.want)
		}
	}
}

func TestConv2DSamePaddingSplit(t *testing.T) {
	// TensorFlow puts the extra padding pixel at the bottom/right.
	lo, hi, _ := Same.resolve(6, 4, 2, true) // total = (3-1)*2+4-6 = 2
	if lo != 1 || hi != 1 {
		t.Errorf("same 6/4/2: %d,%d want 1,1", lo, hi)
	}
	lo, hi, _ = Same.resolve(7, 4, 2, true) // total = 3*2+4-7 = 3
	if lo != 1 || hi != 2 {
		t.Errorf("same 7/4/2: %d,%d want 1,2", lo, hi)
	}
}

func TestConv2DErrors(t *testing.T) {
	_, err := NewConv2D(4, 3, 1, Valid).Build([]int{28, 28}, NewRNG(1))
	if err == nil || !strings.Contains(err.Error(), "(28, 28)") {
		t.Errorf("2-D input: %v", err)
	}
	_, err = NewConv2D(4, 7, 1, Valid).Build([]int{5, 5, 1}, NewRNG(1))
	if err == nil || !strings.Contains(err.Error(), "(5, 5, 1)") {
		t.Errorf("kernel too large: %v", err)
	}
	_, err = NewConv2D(4, 3, 1, Padding{Mode: "full"}).Build([]int{5, 5, 1}, NewRNG(1))
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("bad mode: %v", err)
	}
	c := NewConv2D(4, 3, 1, Same)
	if _, err := c.Build([]int{8, 8, 3}, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Forward(tensor.New(2, 8, 8, 1), false)
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 1)") || !strings.Contains(err.Error(), "8, 8, 3") {
		t.Errorf("wrong channels: %v", err)
	}
	if _, err := c.Forward(tensor.New(2, 8, 8, 3), false); err != nil {
		t.Fatal(err)
	}
	_, err = c.Backward(tensor.New(2, 8, 8, 3))
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 3)") || !strings.Contains(err.Error(), "(2, 8, 8, 4)") {
		t.Errorf("wrong gradient shape: %v", err)
	}
}

// Processing the batch in chunks must give the same results as one GEMM.
func TestConv2DChunked(t *testing.T) {
	rng := NewRNG(7)
	x := randTensor(rng, 5, 9, 7, 3)
	dy := randTensor(rng, 5, 5, 4, 6)
	run := func(chunk int) (y, dx, dw, db *tensor.Tensor) {
		c := NewConv2D(6, 3, 2, Same)
		if _, err := c.Build([]int{9, 7, 3}, NewRNG(1)); err != nil {
			t.Fatal(err)
		}
		if chunk > 0 {
			c.maxChunk, c.keepFloats = chunk, 0
		}
		y0, err := c.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		y = y0.Clone()
		dx0, err := c.Backward(dy)
		if err != nil {
			t.Fatal(err)
		}
		return y, dx0.Clone(), c.kernel.Grad.Clone(), c.bias.Grad.Clone()
	}
	y1, dx1, dw1, db1 := run(0)
	y2, dx2, dw2, db2 := run(2) // chunks of 2, 2, 1
	for _, p := range []struct {
		name string
		a, b *tensor.Tensor
	}{{"y", y1, y2}, {"dx", dx1, dx2}, {"dW", dw1, dw2}, {"db", db1, db2}} {
		for i := range p.a.Data {
			if math.Abs(float64(p.a.Data[i]-p.b.Data[i])) > 1e-5 {
				t.Fatalf("%s[%d]: whole batch %v, chunked %v", p.name, i, p.a.Data[i], p.b.Data[i])
			}
		}
	}
}

func TestConv2DSkipInputGrad(t *testing.T) {
	c := NewConv2D(2, 3, 1, Same)
	if _, err := c.Build([]int{4, 4, 1}, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	c.SkipInputGrad(true)
	if _, err := c.Forward(tensor.New(1, 4, 4, 1), true); err != nil {
		t.Fatal(err)
	}
	dx, err := c.Backward(tensor.New(1, 4, 4, 2))
	if err != nil || dx != nil {
		t.Fatalf("skip: dx %v, err %v", dx, err)
	}
}

func TestConv2DJSON(t *testing.T) {
	b, err := json.Marshal(NewConv2D(20, 5, 1, Same))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"filters":20,"kernel_h":5,"kernel_w":5,"stride_h":1,"stride_w":1,"padding":{"mode":"same"},"use_bias":true}`
	if string(b) != want {
		t.Fatalf("JSON %s\nwant %s", b, want)
	}
	var c Conv2D
	if err := json.Unmarshal(b, &c); err != nil || c.Filters != 20 || c.Padding != Same {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	b, _ = json.Marshal(Padding{Mode: "explicit", Top: 1, Right: 2})
	var p Padding
	if err := json.Unmarshal(b, &p); err != nil || p != (Padding{Mode: "explicit", Top: 1, Right: 2}) {
		t.Fatalf("padding round trip %s: %+v %v", b, p, err)
	}
}

func TestConv2DGlorotInit(t *testing.T) {
	c := NewConv2D(50, 5, 1, Same)
	if _, err := c.Build([]int{14, 14, 20}, NewRNG(3)); err != nil {
		t.Fatal(err)
	}
	limit := math.Sqrt(6 / float64(5*5*20+5*5*50))
	var maxAbs float64
	for _, v := range c.kernel.Value.Data {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	if maxAbs > limit || maxAbs < 0.9*limit {
		t.Errorf("max |w| = %v, want just under %v", maxAbs, limit)
	}
	for _, v := range c.bias.Value.Data {
		if v != 0 {
			t.Fatal("bias not zero")
		}
	}
}

// LeNet's two convolutions at batch 128 (28x28x1 -> 20 and 14x14x20 -> 50,
// 5x5 same). With -benchmem, steady state shows 0 allocs/op.
var lenetConvs = []struct {
	name    string
	in      []int
	filters int
}{
	{"conv1", []int{28, 28, 1}, 20},
	{"conv2", []int{14, 14, 20}, 50},
}

func benchConv(b *testing.B, backward bool) {
	for _, c := range lenetConvs {
		b.Run(c.name, func(b *testing.B) {
			l := NewConv2D(c.filters, 5, 1, Same)
			out, err := l.Build(c.in, NewRNG(1))
			if err != nil {
				b.Fatal(err)
			}
			rng := NewRNG(2)
			x := randTensor(rng, append([]int{128}, c.in...)...)
			dy := randTensor(rng, append([]int{128}, out...)...)
			// FLOPs of one GEMM pass: 2 * rows * K * F.
			flops := 2 * 128 * out[0] * out[1] * 25 * c.in[2] * c.filters
			if _, err := l.Forward(x, true); err != nil {
				b.Fatal(err)
			}
			if backward {
				flops *= 2
				if _, err := l.Backward(dy); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if backward {
					l.Backward(dy)
				} else {
					l.Forward(x, true)
				}
			}
			b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkConv2DForward(b *testing.B)  { benchConv(b, false) }
func BenchmarkConv2DBackward(b *testing.B) { benchConv(b, true) }
