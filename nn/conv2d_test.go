package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// convRand returns a tensor of standard normal values.
func convRand(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

// convBuild builds op for input shapes (batch axis first) and returns its
// output shape.
func convBuild(t testing.TB, op Op, shapes ...[]int) []int {
	t.Helper()
	outs, err := op.Shapes(shapes)
	if err != nil {
		t.Fatalf("%s Shapes%v: %v", op.Kind(), shapes, err)
	}
	if err := op.Build(shapes, NewRNG(1)); err != nil {
		t.Fatalf("%s Build: %v", op.Kind(), err)
	}
	return outs[0]
}

// convRun runs Forward and, when dy is not nil, Backward outside a graph,
// returning y and dx (nil when wantDX is false); the params' gradients are
// zeroed first and hold the result after.
func convRun(t testing.TB, op Op, call *Call, train bool, xs []*tensor.Tensor, dy *tensor.Tensor, wantDX bool) (y, dx *tensor.Tensor) {
	t.Helper()
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape
	}
	outs, err := op.Shapes(shapes)
	if err != nil {
		t.Fatal(err)
	}
	y = tensor.New(outs[0]...)
	call.Train = train
	if err := op.Forward(call, xs, []*tensor.Tensor{y}); err != nil {
		t.Fatalf("%s Forward: %v", op.Kind(), err)
	}
	if dy == nil {
		return y, nil
	}
	ZeroGrads(op.Params())
	din := make([]*tensor.Tensor, len(xs))
	if wantDX {
		din[0] = tensor.New(xs[0].Shape...)
		din[0].Fill(float32(math.NaN()))
	}
	if err := op.Backward(call, xs, []*tensor.Tensor{y}, []*tensor.Tensor{dy}, din); err != nil {
		t.Fatalf("%s Backward: %v", op.Kind(), err)
	}
	return y, din[0]
}

// convClose fails unless |a-b| <= tol*max(1, |b|) everywhere.
func convClose(t testing.TB, what string, a, b []float32, tol float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values, want %d", what, len(a), len(b))
	}
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); !(d <= tol*math.Max(1, math.Abs(float64(b[i])))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, a[i], b[i])
		}
	}
}

// convRef is a direct float64 evaluation of Conv2D's definition (before
// the activation).
func convRef(c *Conv2D, x *tensor.Tensor) []float64 {
	n, h, w, cin := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	g, _ := c.geometry(x.Shape, []int{n, -1, -1, c.Filters})
	dh, dw := c.dilations()
	oh, pt, _ := convAxis(h, c.KernelH, c.StrideH, dh, c.Padding, true)
	ow, pl, _ := convAxis(w, c.KernelW, c.StrideW, dw, c.Padding, false)
	_ = g
	G := c.groups()
	cg, fg, F := cin/G, c.Filters/G, c.Filters
	W := c.kernel.Value.Data
	y := make([]float64, n*oh*ow*F)
	for b := range n {
		for oy := range oh {
			for ox := range ow {
				for f := range F {
					s := 0.0
					if c.bias != nil {
						s = float64(c.bias.Value.Data[f])
					}
					gi := f / fg
					for ky := range c.KernelH {
						iy := oy*c.StrideH - pt + ky*dh
						if iy < 0 || iy >= h {
							continue
						}
						for kx := range c.KernelW {
							ix := ox*c.StrideW - pl + kx*dw
							if ix < 0 || ix >= w {
								continue
							}
							for ci := range cg {
								xv := x.Data[((b*h+iy)*w+ix)*cin+gi*cg+ci]
								s += float64(xv) * float64(W[((ky*c.KernelW+kx)*cg+ci)*F+f])
							}
						}
					}
					y[((b*oh+oy)*ow+ox)*F+f] = s
				}
			}
		}
	}
	return y
}

// conv2DCases are awkward shapes for Conv2D: odd sizes, strides, dilation,
// groups (including depthwise), asymmetric padding, 1x1 and one channel.
func conv2DCases() []struct {
	name string
	op   func() *Conv2D
	in   []int
} {
	explicit := func(t, b, l, r int) Padding { return Padding{Mode: "explicit", Top: t, Bottom: b, Left: l, Right: r} }
	return []struct {
		name string
		op   func() *Conv2D
		in   []int
	}{
		{"3x3 s1 valid", func() *Conv2D { return NewConv2D(4, 3, 1, Valid) }, []int{2, 7, 5, 3}},
		{"3x3 s1 same", func() *Conv2D { return NewConv2D(4, 3, 1, Same) }, []int{2, 7, 5, 3}},
		{"3x3 s2 same", func() *Conv2D { return NewConv2D(3, 3, 2, Same) }, []int{2, 7, 5, 3}},
		{"5x5 s2 explicit", func() *Conv2D { return NewConv2D(2, 5, 2, Explicit(2)) }, []int{1, 9, 6, 2}},
		{"4x4 s2 same even", func() *Conv2D { return NewConv2D(3, 4, 2, Same) }, []int{2, 8, 6, 1}},
		{"1x1 direct", func() *Conv2D { return NewConv2D(5, 1, 1, Valid) }, []int{2, 3, 4, 3}},
		{"1x1 s2", func() *Conv2D { return NewConv2D(2, 1, 2, Valid) }, []int{2, 5, 5, 3}},
		{"2x3 s(2,1) asym", func() *Conv2D {
			return &Conv2D{Filters: 3, KernelH: 2, KernelW: 3, StrideH: 2, StrideW: 1, Padding: explicit(1, 0, 0, 2), UseBias: true}
		}, []int{2, 5, 7, 2}},
		{"no bias", func() *Conv2D {
			return &Conv2D{Filters: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: Same}
		}, []int{1, 4, 5, 2}},
		{"1 channel 5x5 same", func() *Conv2D { return NewConv2D(20, 5, 1, Same) }, []int{2, 9, 10, 1}},
		{"1 channel no bias", func() *Conv2D {
			return &Conv2D{Filters: 3, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: Valid}
		}, []int{1, 5, 11, 1}},
		{"dilation 2 same", func() *Conv2D {
			c := NewConv2D(3, 3, 1, Same)
			c.DilationH, c.DilationW = 2, 2
			return c
		}, []int{2, 7, 8, 2}},
		{"dilation (2,3) s2 asym", func() *Conv2D {
			c := &Conv2D{Filters: 4, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, DilationH: 2, DilationW: 3,
				Padding: explicit(2, 1, 0, 3), UseBias: true}
			return c
		}, []int{1, 9, 7, 3}},
		{"groups 2", func() *Conv2D {
			c := NewConv2D(6, 3, 1, Same)
			c.Groups = 2
			return c
		}, []int{2, 5, 6, 4}},
		{"groups 3 s2 dilation 2", func() *Conv2D {
			c := NewConv2D(6, 3, 2, Explicit(1))
			c.Groups, c.DilationH, c.DilationW = 3, 2, 2
			return c
		}, []int{1, 9, 8, 9}},
		{"groups 2 of 16 filters (unmerged)", func() *Conv2D {
			c := NewConv2D(32, 3, 2, Same)
			c.Groups = 2
			return c
		}, []int{1, 5, 6, 4}},
		{"groups 8 of 4 filters merged by 4", func() *Conv2D {
			c := NewConv2D(32, 3, 1, Same)
			c.Groups = 8
			return c
		}, []int{1, 4, 5, 16}},
		{"groups 6 of 4 filters all merged (s2, asym)", func() *Conv2D {
			c := &Conv2D{Filters: 24, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, Groups: 6, UseBias: true,
				Padding: Padding{Mode: "explicit", Top: 1, Bottom: 0, Left: 1, Right: 1}}
			return c
		}, []int{2, 5, 4, 12}},
		{"groups 3 1x1", func() *Conv2D {
			c := NewConv2D(3, 1, 1, Valid)
			c.Groups = 3
			return c
		}, []int{2, 3, 4, 6}},
		{"depthwise groups=cin mult 2", func() *Conv2D {
			c := NewConv2D(10, 3, 2, Same)
			c.Groups = 5
			return c
		}, []int{2, 7, 6, 5}},
		// Stride 1 with KW*Cin >= implicitMinDepth: implicit GEMMs (the
		// widths over implicitMaxKW in TestConv2DImplicitWideKernels).
		{"implicit 3x3 same", func() *Conv2D { return NewConv2D(5, 3, 1, Same) }, []int{2, 6, 7, 16}},
		{"implicit 5x5 valid", func() *Conv2D { return NewConv2D(3, 5, 1, Valid) }, []int{1, 9, 8, 8}},
		{"implicit 2x4 asym", func() *Conv2D {
			return &Conv2D{Filters: 6, KernelH: 2, KernelW: 4, StrideH: 1, StrideW: 1, Padding: explicit(0, 1, 2, 1), UseBias: true}
		}, []int{2, 5, 6, 12}},
		{"implicit, dX by im2col (padding beyond the kernel)", func() *Conv2D { return NewConv2D(4, 3, 1, Explicit(3)) }, []int{1, 5, 4, 16}},
		// 3x3 stride 1 with >= 8 filters: Winograd F(2x2, 3x3), forward and
		// (with >= 11 filters) input gradient; odd sizes give ragged tiles.
		{"winograd 3x3 same, odd sizes", func() *Conv2D { return NewConv2D(12, 3, 1, Same) }, []int{2, 7, 5, 16}},
		{"winograd 3x3 valid", func() *Conv2D { return NewConv2D(16, 3, 1, Valid) }, []int{1, 8, 7, 12}},
		{"winograd 3x3 asym pad, dX implicit", func() *Conv2D {
			return &Conv2D{Filters: 8, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Padding: explicit(0, 1, 2, 1), UseBias: true}
		}, []int{2, 6, 9, 11}},
		{"winograd 3x3 same 24->17 (tile kernel edges)", func() *Conv2D { return NewConv2D(17, 3, 1, Same) }, []int{2, 6, 6, 24}},
		{"winograd 3x3 same 13->20 (ragged dW tile rows and columns)", func() *Conv2D { return NewConv2D(20, 3, 1, Same) }, []int{2, 5, 6, 13}},
		{"depthwise groups=cin dilation 2", func() *Conv2D {
			c := NewConv2D(4, 3, 1, Same)
			c.Groups, c.DilationH, c.DilationW = 4, 2, 2
			return c
		}, []int{1, 6, 7, 4}},
	}
}

func TestConv2DForwardMatchesDefinition(t *testing.T) {
	for i, c := range conv2DCases() {
		t.Run(c.name, func(t *testing.T) {
			op := c.op()
			convBuild(t, op, c.in)
			rng := NewRNG(uint64(i))
			if op.bias != nil {
				for j := range op.bias.Value.Data {
					op.bias.Value.Data[j] = float32(rng.NormFloat64())
				}
			}
			x := convRand(rng, c.in...)
			for _, train := range []bool{false, true} {
				y, _ := convRun(t, op, &Call{}, train, []*tensor.Tensor{x}, nil, false)
				want := convRef(op, x)
				for j := range want {
					if math.Abs(float64(y.Data[j])-want[j]) > 1e-5*math.Max(1, math.Abs(want[j])) {
						t.Fatalf("train=%v y[%d] = %v, definition %v", train, j, y.Data[j], want[j])
					}
				}
			}
		})
	}
}

// Conv2D is linear in x and W: central differences are exact up to the
// float32 rounding of y (about 1e-7 relative, over eps = 1e-2), so a
// tolerance of 1e-3 leaves a wide margin.
func TestConv2DGrad(t *testing.T) {
	for i, c := range conv2DCases() {
		for _, train := range []bool{false, true} {
			t.Run(c.name, func(t *testing.T) {
				gradCheckOp(t, c.op(), [][]int{c.in}, gradOpts{Seed: uint64(i), Samples: 30, Training: train, Tol: 1e-3})
			})
		}
	}
}

// A fused activation and a residual input: the gradient of x, W, b and
// the residual. Smooth activations only: a perturbation of a weight moves
// every output it feeds, and some land within eps of a ReLU kink however
// the inputs are chosen; the kinked ones are checked against the
// separate activation op (TestConvFusedMatchesSeparate).
func TestConv2DGradActResidual(t *testing.T) {
	acts := []Act{{Kind: "tanh"}, {Kind: "sigmoid"}}
	for i, a := range acts {
		for _, groups := range []int{1, 2, 3} {
			t.Run(a.Kind, func(t *testing.T) {
				c := NewConv2D(6, 3, 2, Same)
				c.Groups, c.Act, c.Residual = groups, a, true
				gradCheckOp(t, c, [][]int{{2, 7, 5, 6}, {2, 4, 3, 6}}, gradOpts{Seed: uint64(i), Samples: 30, Training: true, Tol: 2e-3})
			})
		}
	}
}

func TestConv2DOutputShapes(t *testing.T) {
	dil := func(c *Conv2D, d int) *Conv2D { c.DilationH, c.DilationW = d, d; return c }
	cases := []struct {
		op   *Conv2D
		in   []int
		want []int
	}{
		{NewConv2D(20, 5, 1, Same), []int{-1, 28, 28, 1}, []int{-1, 28, 28, 20}},
		{NewConv2D(20, 5, 1, Valid), []int{4, 28, 28, 1}, []int{4, 24, 24, 20}},
		{NewConv2D(20, 3, 2, Same), []int{-1, 7, 5, 3}, []int{-1, 4, 3, 20}},
		{NewConv2D(20, 3, 2, Valid), []int{-1, 7, 5, 3}, []int{-1, 3, 2, 20}},
		{NewConv2D(20, 3, 2, Explicit(1)), []int{-1, 7, 5, 3}, []int{-1, 4, 3, 20}},
		{NewConv2D(20, 2, 2, Same), []int{-1, 6, 6, 3}, []int{-1, 3, 3, 20}},
		{NewConv2D(20, 1, 3, Same), []int{-1, 7, 7, 1}, []int{-1, 3, 3, 20}},
		{NewConv2D(20, 3, 1, Same), []int{-1, -1, -1, 3}, []int{-1, -1, -1, 20}},
		// Dilation 2: a 3x3 kernel spans 5x5.
		{dil(NewConv2D(8, 3, 1, Valid), 2), []int{-1, 9, 7, 3}, []int{-1, 5, 3, 8}},
		{dil(NewConv2D(8, 3, 1, Same), 2), []int{-1, 9, 7, 3}, []int{-1, 9, 7, 8}},
		{dil(NewConv2D(8, 3, 2, Same), 3), []int{-1, 9, 7, 3}, []int{-1, 5, 4, 8}},
	}
	for _, c := range cases {
		out, err := c.op.Shapes([][]int{c.in})
		if err != nil || !tensor.EqualShape(out[0], c.want) {
			t.Errorf("%s on %v: got %v, %v; want %v", c.op.config(), c.in, out, err, c.want)
		}
	}
	// "same" with dilation pads for the dilated extent: 3 taps dilated by
	// 2 span 5, so 4 pixels of padding, 2 on each side.
	_, lo, _ := convAxis(9, 3, 1, 2, Same, true)
	if lo != 2 {
		t.Errorf("same, 3 taps dilated 2: padding before %d, want 2", lo)
	}
}

// TensorFlow's "same" puts the extra padding pixel at the bottom/right.
func TestConv2DSamePaddingSplit(t *testing.T) {
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
	grouped := func(f, g int) *Conv2D { c := NewConv2D(f, 3, 1, Same); c.Groups = g; return c }
	cases := []struct {
		name string
		op   *Conv2D
		in   [][]int
		want []string
	}{
		{"2-D input", NewConv2D(4, 3, 1, Valid), [][]int{{-1, 28, 28}}, []string{"(?, 28, 28)", "want (batch, height, width, channels)"}},
		{"kernel too large", NewConv2D(4, 7, 1, Valid), [][]int{{-1, 5, 5, 1}}, []string{"(?, 5, 5, 1)", "kernel 7", "7x7"}},
		{"dilated kernel too large", &Conv2D{Filters: 1, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 3, DilationW: 1}, [][]int{{-1, 6, 6, 1}}, []string{"kernel 7", "dilation 3x1"}},
		{"bad mode", NewConv2D(4, 3, 1, Padding{Mode: "full"}), [][]int{{-1, 5, 5, 1}}, []string{"full"}},
		{"negative padding", NewConv2D(4, 3, 1, Explicit(-1)), [][]int{{-1, 5, 5, 1}}, []string{"negative padding"}},
		{"zero filters", NewConv2D(0, 3, 1, Same), [][]int{{-1, 5, 5, 1}}, []string{"filters = 0"}},
		{"zero stride", NewConv2D(2, 3, 0, Same), [][]int{{-1, 5, 5, 1}}, []string{"stride 0"}},
		{"channels not divisible", grouped(6, 2), [][]int{{-1, 5, 5, 3}}, []string{"input channels 3", "groups 2"}},
		{"filters not divisible", grouped(5, 2), [][]int{{-1, 5, 5, 4}}, []string{"filters 5", "groups 2"}},
		{"negative groups", grouped(4, -1), [][]int{{-1, 5, 5, 4}}, []string{"groups -1"}},
		{"bad activation", &Conv2D{Filters: 2, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Act: Act{Kind: "swish2"}}, [][]int{{-1, 5, 5, 4}}, []string{"swish2"}},
		{"residual missing", &Conv2D{Filters: 2, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Residual: true}, [][]int{{-1, 5, 5, 4}}, []string{"takes 2 input"}},
		{"residual shape", &Conv2D{Filters: 2, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Residual: true}, [][]int{{-1, 5, 5, 4}, {-1, 5, 5, 3}}, []string{"residual input shape (?, 5, 5, 3)", "(?, 5, 5, 2)"}},
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
	// After Build: other channel counts, and wrong tensors given to
	// Forward and Backward directly.
	c := NewConv2D(4, 3, 1, Same)
	convBuild(t, c, []int{-1, 8, 8, 3})
	if _, err := c.Shapes([][]int{{2, 8, 8, 1}}); err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 1)") || !strings.Contains(err.Error(), "3 channels") {
		t.Errorf("wrong channels: %v", err)
	}
	call := &Call{}
	err := c.Forward(call, []*tensor.Tensor{tensor.New(2, 8, 8, 1)}, []*tensor.Tensor{tensor.New(2, 8, 8, 4)})
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 1)") {
		t.Errorf("Forward, wrong channels: %v", err)
	}
	err = c.Forward(call, []*tensor.Tensor{tensor.New(2, 8, 8, 3)}, []*tensor.Tensor{tensor.New(2, 8, 8, 3)})
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 3)") || !strings.Contains(err.Error(), "(2, 8, 8, 4)") {
		t.Errorf("Forward, wrong output: %v", err)
	}
	x := tensor.New(2, 8, 8, 3)
	err = c.Backward(call, []*tensor.Tensor{x}, nil, []*tensor.Tensor{tensor.New(2, 8, 8, 3)}, []*tensor.Tensor{tensor.New(2, 8, 8, 3)})
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 3)") || !strings.Contains(err.Error(), "(2, 8, 8, 4)") {
		t.Errorf("Backward, wrong gradient shape: %v", err)
	}
	if err := (&Conv2D{Filters: 1}).Forward(call, []*tensor.Tensor{x}, []*tensor.Tensor{x}); err == nil || !strings.Contains(err.Error(), "before Build") {
		t.Errorf("Forward before Build: %v", err)
	}
	// An activation whose derivative needs its input trains no fused op.
	h := NewConv2D(4, 3, 1, Same)
	h.Act = Act{Kind: "hard_swish"}
	convBuild(t, h, []int{-1, 8, 8, 3})
	y := tensor.New(2, 8, 8, 4)
	if err := h.Forward(call, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	err = h.Backward(call, []*tensor.Tensor{x}, []*tensor.Tensor{y}, []*tensor.Tensor{y}, []*tensor.Tensor{nil})
	if err == nil || !strings.Contains(err.Error(), "hard_swish") {
		t.Errorf("Backward through hard_swish: %v", err)
	}
}

// A nil output gradient is zero: din is cleared and no gradient added.
func TestConv2DNilGradient(t *testing.T) {
	c := NewConv2D(2, 3, 1, Same)
	convBuild(t, c, []int{1, 4, 4, 2})
	c.kernel.Grad.Fill(1)
	dx := tensor.New(1, 4, 4, 2)
	dx.Fill(7)
	if err := c.Backward(&Call{}, []*tensor.Tensor{tensor.New(1, 4, 4, 2)}, nil, []*tensor.Tensor{nil}, []*tensor.Tensor{dx}); err != nil {
		t.Fatal(err)
	}
	for i, v := range dx.Data {
		if v != 0 {
			t.Fatalf("dx[%d] = %v, want 0", i, v)
		}
	}
	if c.kernel.Grad.Data[0] != 1 {
		t.Error("a nil gradient changed dW")
	}
}

// Processing the lines in chunks, keeping the patches for Backward, or
// unfolding them again must give the same results.
func TestConv2DChunked(t *testing.T) {
	rng := NewRNG(7)
	for _, c := range conv2DCases() {
		t.Run(c.name, func(t *testing.T) {
			x := convRand(rng, c.in...)
			type result struct{ y, dx, dw *tensor.Tensor }
			run := func(train bool, keep, chunk int) result {
				op := c.op()
				out := convBuild(t, op, c.in)
				op.keepFloats, op.chunkFloats = keep, chunk
				dy := convRand(NewRNG(3), out...)
				y, dx := convRun(t, op, &Call{}, train, []*tensor.Tensor{x}, dy, true)
				return result{y, dx, op.kernel.Grad.Clone()}
			}
			want := run(true, 0, 0) // patches kept
			for _, r := range []struct {
				what         string
				train        bool
				keep, chunks int
			}{
				{"inference forward", false, 0, 0},
				{"one line per chunk", true, -1, 1},
				{"chunks of a few lines", true, -1, 3 * c.in[2] * 9 * c.in[3]},
			} {
				got := run(r.train, r.keep, r.chunks)
				convClose(t, r.what+" y", got.y.Data, want.y.Data, 1e-5)
				convClose(t, r.what+" dx", got.dx.Data, want.dx.Data, 1e-5)
				convClose(t, r.what+" dW", got.dw.Data, want.dw.Data, 1e-5)
			}
		})
	}
}

func TestConv2DJSON(t *testing.T) {
	b, err := json.Marshal(NewConv2D(20, 5, 1, Same))
	if err != nil {
		t.Fatal(err)
	}
	// Version-1 model files hold exactly this: new fields are omitted at
	// their defaults.
	want := `{"filters":20,"kernel_h":5,"kernel_w":5,"stride_h":1,"stride_w":1,"padding":{"mode":"same"},"use_bias":true}`
	if string(b) != want {
		t.Fatalf("JSON %s\nwant %s", b, want)
	}
	op, err := newOp("Conv2D", []byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if c := op.(*Conv2D); c.Filters != 20 || c.Padding != Same || c.groups() != 1 || c.Act.Kind != "" || c.Residual {
		t.Fatalf("decoded %+v", c)
	}
	full := &Conv2D{Filters: 6, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, Groups: 3, DilationH: 2, DilationW: 1,
		Padding: Padding{Mode: "explicit", Top: 1, Right: 2}, UseBias: true, Act: Act{Kind: "clip", Max: 6}, Residual: true}
	b, _ = json.Marshal(full)
	for _, w := range []string{`"groups":3`, `"dilation_h":2`, `"dilation_w":1`, `"activation":{"kind":"clip","max":6}`, `"residual":true`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON %s lacks %s", b, w)
		}
	}
	op, err = newOp("Conv2D", b)
	if err != nil {
		t.Fatal(err)
	}
	got := op.(*Conv2D)
	if got.Groups != 3 || got.DilationH != 2 || got.Act != full.Act || !got.Residual || got.Padding != full.Padding {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestConv2DGlorotInit(t *testing.T) {
	for _, groups := range []int{1, 2} {
		c := NewConv2D(50, 5, 1, Same)
		c.Groups = groups
		convBuild(t, c, []int{-1, 14, 14, 20})
		if !tensor.EqualShape(c.Kernel().Value.Shape, []int{5, 5, 20 / groups, 50}) {
			t.Fatalf("kernel shape %v", c.Kernel().Value.Shape)
		}
		limit := math.Sqrt(6 / float64(5*5*20/groups+5*5*50))
		var maxAbs float64
		for _, v := range c.Kernel().Value.Data {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if maxAbs > limit || maxAbs < 0.9*limit {
			t.Errorf("groups %d: max |w| = %v, want just under %v", groups, maxAbs, limit)
		}
		for _, v := range c.Bias().Value.Data {
			if v != 0 {
				t.Fatal("bias not zero")
			}
		}
	}
}

// Stride-1 convolutions with at least 8 input channels take their input
// gradient as a convolution of dY (convGeo.dxGeom): checked on the
// geometries it covers (dilation, asymmetric and over-large padding, a
// batch split into chunks and kept patches) and on one it refuses.
func TestConv2DInputGradAsConvolution(t *testing.T) {
	mk := func(f, k int, p Padding, d int) *Conv2D {
		c := NewConv2D(f, k, 1, p)
		c.DilationH, c.DilationW = d, d
		return c
	}
	cases := []struct {
		name string
		c    *Conv2D
		in   []int
		conv bool // dxGeom accepts it
	}{
		{"same 3x3", mk(5, 3, Same, 1), []int{2, 6, 7, 8}, true},
		{"valid 3x3", mk(4, 3, Valid, 1), []int{2, 7, 6, 9}, true},
		{"dilation 2", mk(6, 3, Same, 2), []int{1, 9, 8, 8}, true},
		{"asymmetric", mk(3, 3, Padding{Mode: "explicit", Top: 2, Bottom: 0, Left: 0, Right: 1}, 1), []int{2, 5, 6, 10}, true},
		{"2x4 kernel", &Conv2D{Filters: 7, KernelH: 2, KernelW: 4, StrideH: 1, StrideW: 1, Padding: Same, UseBias: true}, []int{2, 5, 9, 8}, true},
		{"padding beyond the kernel", mk(3, 3, Explicit(3), 1), []int{1, 5, 5, 8}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.c.Shapes([][]int{c.in})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.c.Build([][]int{c.in}, NewRNG(1)); err != nil {
				t.Fatal(err)
			}
			g, err := c.c.geometry(c.in, out[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := g.dxGeom(); ok != c.conv {
				t.Fatalf("dxGeom accepts it: %v, want %v", ok, c.conv)
			}
			for _, chunk := range []int{0, 1} { // 1: a chunk per output line
				c.c.chunkFloats = chunk
				for _, keep := range []int{0, -1} { // -1: the patches are never kept
					c.c.keepFloats = keep
					gradCheckOp(t, c.c, [][]int{c.in}, gradOpts{Seed: uint64(i), Samples: 30, Training: true, Tol: 1e-3})
				}
			}
		})
	}
}

// dX as a convolution is taken only where it costs less than col2im: not
// for LeNet's second convolution (Cin 20: the convolution's GEMM would
// pay 32 columns of the micro-kernel for 20), but for ResNet's 16 -> 16
// stage (col2im's GEMM would have depth 16). Both paths give the
// gradient.
func TestConv2DInputGradPathChoice(t *testing.T) {
	cases := []struct {
		name       string
		f, k, cin  int
		conv, pays bool
	}{
		{"LeNet 5x5 20 -> 50", 50, 5, 20, true, false},
		{"ResNet 3x3 16 -> 16", 16, 3, 16, true, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConv2D(tc.f, tc.k, 1, Same)
			in := []int{2, 7, 6, tc.cin}
			out, err := c.Shapes([][]int{in})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Build([][]int{in}, NewRNG(uint64(i))); err != nil {
				t.Fatal(err)
			}
			g, err := c.geometry(in, out[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := g.dxGeom(); ok != tc.conv {
				t.Fatalf("dxGeom accepts it: %v, want %v", ok, tc.conv)
			}
			if _, nr := kernels.Tile(); nr == 16 || nr == 32 { // the tiles the costs were worked out for
				if p := g.dxConvPays(); p != tc.pays {
					t.Fatalf("dxConvPays = %v, want %v", p, tc.pays)
				}
			}
			defer func(v int) { implicitMaxKW = v }(implicitMaxKW)
			implicitMaxKW = 0 // the im2col path, where the choice is made
			gradCheckOp(t, c, [][]int{in}, gradOpts{Seed: uint64(i), Samples: 30, Training: true, Tol: 1e-3})
		})
	}
}

// The implicit path handles any kernel width; only kernels of width 3 or
// less take it by default, so wider ones are checked here.
func TestConv2DImplicitWideKernels(t *testing.T) {
	defer func(v int) { implicitMaxKW = v }(implicitMaxKW)
	implicitMaxKW = 8
	t.Run("forward", TestConv2DForwardMatchesDefinition)
	t.Run("grad", TestConv2DGrad)
}

// The package's tests take the Winograd path on their small shapes;
// TestWinogradNeedsTiles checks the default bound.
func init() { winoMinTiles = 1 }

// Winograd is taken only with enough tiles to pay for transforming the
// kernel at every call: not for a 7x7 output at batch 1 (ResNet-18's
// last stage), but at batch 4, or for a 16x16 output.
func TestWinogradNeedsTiles(t *testing.T) {
	defer func(v int) { winoMinTiles = v }(winoMinTiles)
	winoMinTiles = 64
	for _, c := range []struct {
		n, hw int
		want  bool
	}{{1, 7, false}, {4, 7, true}, {1, 16, true}, {1, 14, false}} {
		g := convGeo{n: c.n, h: c.hw, w: c.hw, cin: 64, oh: c.hw, ow: c.hw, f: 64, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padT: 1, padL: 1, groups: 1}
		if got := g.winograd(); got != c.want {
			t.Errorf("batch %d, %dx%d output: winograd() = %v, want %v", c.n, c.hw, c.hw, got, c.want)
		}
	}
}
