package nn

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// depthwiseAsConv is the Conv2D with Groups = Cin equivalent to d, sharing
// its weights (the two kernel layouts are the same in memory).
func depthwiseAsConv(d *DepthwiseConv2D) *Conv2D {
	c := &Conv2D{Filters: d.cin * d.mult(), KernelH: d.KernelH, KernelW: d.KernelW, StrideH: d.StrideH, StrideW: d.StrideW,
		Padding: d.Padding, UseBias: d.UseBias, Groups: d.cin, DilationH: d.DilationH, DilationW: d.DilationW,
		Act: d.Act, Residual: d.Residual, kernel: d.kernel, bias: d.bias, cin: d.cin}
	return c
}

func depthwiseCases() []struct {
	name string
	op   func() *DepthwiseConv2D
	in   []int
} {
	return []struct {
		name string
		op   func() *DepthwiseConv2D
		in   []int
	}{
		{"3x3 s1 same", func() *DepthwiseConv2D { return NewDepthwiseConv2D(3, 1, Same) }, []int{2, 7, 6, 5}},
		{"3x3 s2 same", func() *DepthwiseConv2D { return NewDepthwiseConv2D(3, 2, Same) }, []int{2, 7, 6, 9}},
		{"3x3 s2 valid", func() *DepthwiseConv2D { return NewDepthwiseConv2D(3, 2, Valid) }, []int{1, 8, 9, 3}},
		{"5x5 s1 same, 17 channels", func() *DepthwiseConv2D { return NewDepthwiseConv2D(5, 1, Same) }, []int{1, 6, 7, 17}},
		{"3x3 s1 same, 100 channels (row in blocks)", func() *DepthwiseConv2D { return NewDepthwiseConv2D(3, 1, Same) }, []int{1, 3, 23, 100}},
		{"3x3 dilation 2 valid, 70 channels (row in blocks)", func() *DepthwiseConv2D {
			d := NewDepthwiseConv2D(3, 1, Valid)
			d.DilationH, d.DilationW = 2, 2
			return d
		}, []int{1, 6, 33, 70}},
		{"4x4 s1 same, 11 channels", func() *DepthwiseConv2D { return NewDepthwiseConv2D(4, 1, Same) }, []int{2, 5, 6, 11}},
		{"3x3 same on 2 columns (no tap common to all)", func() *DepthwiseConv2D { return NewDepthwiseConv2D(3, 1, Same) }, []int{1, 4, 2, 3}},
		{"3x3 s(2,1) valid", func() *DepthwiseConv2D {
			return &DepthwiseConv2D{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 1, DepthMultiplier: 1, Padding: Valid, UseBias: true}
		}, []int{1, 7, 5, 4}},
		{"multiplier 2", func() *DepthwiseConv2D {
			d := NewDepthwiseConv2D(3, 1, Same)
			d.DepthMultiplier = 2
			return d
		}, []int{2, 5, 6, 3}},
		{"multiplier 3 s2 no bias", func() *DepthwiseConv2D {
			d := NewDepthwiseConv2D(3, 2, Explicit(1))
			d.DepthMultiplier, d.UseBias = 3, false
			return d
		}, []int{1, 7, 5, 2}},
		{"dilation 2", func() *DepthwiseConv2D {
			d := NewDepthwiseConv2D(3, 1, Same)
			d.DilationH, d.DilationW = 2, 2
			return d
		}, []int{2, 7, 8, 4}},
		{"2x3 s(1,2) dilation (2,1) asym", func() *DepthwiseConv2D {
			return &DepthwiseConv2D{KernelH: 2, KernelW: 3, StrideH: 1, StrideW: 2, DilationH: 2, DepthMultiplier: 1,
				Padding: Padding{Mode: "explicit", Top: 2, Bottom: 0, Left: 1, Right: 3}, UseBias: true}
		}, []int{2, 5, 6, 3}},
	}
}

// depthwiseRef is the definition in float64 (before the activation).
func depthwiseRef(d *DepthwiseConv2D, x *tensor.Tensor) []float64 {
	c := depthwiseAsConv(d)
	return convRef(c, x)
}

func TestDepthwiseForwardMatchesDefinition(t *testing.T) {
	for i, c := range depthwiseCases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.op()
			convBuild(t, d, c.in)
			rng := NewRNG(uint64(i))
			if d.bias != nil {
				for j := range d.bias.Value.Data {
					d.bias.Value.Data[j] = float32(rng.NormFloat64())
				}
			}
			x := convRand(rng, c.in...)
			y, _ := convRun(t, d, &Call{}, false, []*tensor.Tensor{x}, nil, false)
			want := depthwiseRef(d, x)
			for j := range want {
				if math.Abs(float64(y.Data[j])-want[j]) > 1e-5*math.Max(1, math.Abs(want[j])) {
					t.Fatalf("y[%d] = %v, definition %v", j, y.Data[j], want[j])
				}
			}
		})
	}
}

// Linear in x and W: see TestConv2DGrad for the tolerance.
func TestDepthwiseGrad(t *testing.T) {
	for i, c := range depthwiseCases() {
		t.Run(c.name, func(t *testing.T) {
			gradCheckOp(t, c.op(), [][]int{c.in}, gradOpts{Seed: uint64(i), Samples: 30, Tol: 1e-3})
		})
	}
	d := NewDepthwiseConv2D(3, 2, Same)
	d.DepthMultiplier, d.Act, d.Residual = 2, Act{Kind: "sigmoid"}, true
	gradCheckOp(t, d, [][]int{{2, 5, 6, 3}, {2, 3, 3, 6}}, gradOpts{Seed: 9, Samples: 30, Tol: 2e-3})
}

// A Conv2D with Groups = Cin runs the depthwise kernels: its results are
// DepthwiseConv2D's, and its gradients those of the general grouped path
// (checked by TestConv2DGrad's depthwise cases).
func TestConv2DDepthwisePathMatchesDepthwiseOp(t *testing.T) {
	for _, c := range depthwiseCases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.op()
			out := convBuild(t, d, c.in)
			x, dy := convRand(NewRNG(1), c.in...), convRand(NewRNG(2), out...)
			y1, dx1 := convRun(t, d, &Call{}, true, []*tensor.Tensor{x}, dy, true)
			dw1 := d.kernel.Grad.Clone()
			conv := depthwiseAsConv(d)
			y2, dx2 := convRun(t, conv, &Call{}, true, []*tensor.Tensor{x}, dy, true)
			convClose(t, "y", y2.Data, y1.Data, 1e-6)
			convClose(t, "dx", dx2.Data, dx1.Data, 1e-6)
			convClose(t, "dW", conv.kernel.Grad.Data, dw1.Data, 1e-6)
		})
	}
}

func TestDepthwiseErrors(t *testing.T) {
	cases := []struct {
		name string
		op   *DepthwiseConv2D
		in   [][]int
		want []string
	}{
		{"3-D input", NewDepthwiseConv2D(3, 1, Same), [][]int{{-1, 5, 5}}, []string{"(?, 5, 5)"}},
		{"kernel too large", NewDepthwiseConv2D(7, 1, Valid), [][]int{{-1, 5, 5, 2}}, []string{"kernel 7", "(?, 5, 5, 2)"}},
		{"negative multiplier", &DepthwiseConv2D{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DepthMultiplier: -2}, [][]int{{-1, 5, 5, 2}}, []string{"depth multiplier -2"}},
		{"residual shape", &DepthwiseConv2D{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: Same, Residual: true}, [][]int{{-1, 5, 5, 2}, {-1, 5, 5, 4}}, []string{"(?, 5, 5, 4)", "(?, 5, 5, 2)"}},
		{"bad padding", NewDepthwiseConv2D(3, 1, Padding{Mode: "reflect"}), [][]int{{-1, 5, 5, 2}}, []string{"reflect"}},
	}
	for _, c := range cases {
		_, err := c.op.Shapes(c.in)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	d := NewDepthwiseConv2D(3, 1, Same)
	convBuild(t, d, []int{-1, 5, 5, 2})
	if _, err := d.Shapes([][]int{{1, 5, 5, 3}}); err == nil || !strings.Contains(err.Error(), "built for 2 channels") {
		t.Errorf("wrong channels: %v", err)
	}
	err := d.Forward(&Call{}, []*tensor.Tensor{tensor.New(1, 5, 5, 2)}, []*tensor.Tensor{tensor.New(1, 5, 5, 4)})
	if err == nil || !strings.Contains(err.Error(), "(1, 5, 5, 4)") {
		t.Errorf("wrong output: %v", err)
	}
}

func TestDepthwiseJSON(t *testing.T) {
	d := NewDepthwiseConv2D(3, 2, Same)
	d.DepthMultiplier, d.DilationH = 2, 2
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kernel_h":3,"kernel_w":3,"stride_h":2,"stride_w":2,"padding":{"mode":"same"},"depth_multiplier":2,"dilation_h":2,"use_bias":true}`
	if string(b) != want {
		t.Fatalf("JSON %s\nwant %s", b, want)
	}
	op, err := newOp("DepthwiseConv2D", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := op.(*DepthwiseConv2D); got.DepthMultiplier != 2 || got.DilationH != 2 || got.StrideW != 2 {
		t.Fatalf("round trip %+v", got)
	}
	convBuild(t, op, []int{-1, 8, 8, 5})
	if s := op.(*DepthwiseConv2D).Kernel().Value.Shape; !tensor.EqualShape(s, []int{3, 3, 5, 2}) {
		t.Errorf("kernel shape %v, want (3, 3, 5, 2)", s)
	}
}
