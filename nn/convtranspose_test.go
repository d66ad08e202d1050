package nn

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// convTransposeRef scatters every input pixel onto its output window in
// float64, as ConvTranspose2D's definition reads.
func convTransposeRef(c *ConvTranspose2D, x *tensor.Tensor, outShape []int) []float64 {
	n, h, w, cin := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow, F := outShape[1], outShape[2], c.Filters
	dh, dw := c.dilations()
	_, pt, _ := c.axis(h, c.KernelH, c.StrideH, dh, c.OutputPaddingH, true)
	_, pl, _ := c.axis(w, c.KernelW, c.StrideW, dw, c.OutputPaddingW, false)
	G := c.groups()
	cg, fg := cin/G, F/G
	W := c.kernel.Value.Data
	y := make([]float64, n*oh*ow*F)
	for i := range y {
		if c.bias != nil {
			y[i] = float64(c.bias.Value.Data[i%F])
		}
	}
	for b := range n {
		for iy := range h {
			for ix := range w {
				for ky := range c.KernelH {
					oy := iy*c.StrideH - pt + ky*dh
					if oy < 0 || oy >= oh {
						continue
					}
					for kx := range c.KernelW {
						ox := ix*c.StrideW - pl + kx*dw
						if ox < 0 || ox >= ow {
							continue
						}
						for ci := range cin {
							gi := ci / cg
							xv := float64(x.Data[((b*h+iy)*w+ix)*cin+ci])
							for o := range fg {
								y[((b*oh+oy)*ow+ox)*F+gi*fg+o] += xv * float64(W[((ky*c.KernelW+kx)*fg+o)*cin+ci])
							}
						}
					}
				}
			}
		}
	}
	return y
}

func convTransposeCases() []struct {
	name string
	op   func() *ConvTranspose2D
	in   []int
} {
	return []struct {
		name string
		op   func() *ConvTranspose2D
		in   []int
	}{
		{"3x3 s1 valid", func() *ConvTranspose2D { return NewConvTranspose2D(4, 3, 1, Valid) }, []int{2, 5, 4, 3}},
		{"3x3 s2 same", func() *ConvTranspose2D { return NewConvTranspose2D(3, 3, 2, Same) }, []int{2, 4, 3, 2}},
		{"4x4 s2 pad1 (DCGAN)", func() *ConvTranspose2D { return NewConvTranspose2D(3, 4, 2, Explicit(1)) }, []int{2, 3, 4, 5}},
		{"3x3 s2 pad1 output padding 1", func() *ConvTranspose2D {
			c := NewConvTranspose2D(2, 3, 2, Explicit(1))
			c.OutputPaddingH, c.OutputPaddingW = 1, 1
			return c
		}, []int{1, 4, 5, 3}},
		{"2x3 s(2,3) asym output padding (1,2)", func() *ConvTranspose2D {
			return &ConvTranspose2D{Filters: 3, KernelH: 2, KernelW: 3, StrideH: 2, StrideW: 3, OutputPaddingH: 1, OutputPaddingW: 2,
				Padding: Padding{Mode: "explicit", Top: 1, Bottom: 0, Left: 0, Right: 2}, UseBias: true}
		}, []int{2, 3, 4, 2}},
		{"1x1 direct", func() *ConvTranspose2D { return NewConvTranspose2D(4, 1, 1, Valid) }, []int{2, 3, 5, 3}},
		{"1x1 s2", func() *ConvTranspose2D { return NewConvTranspose2D(2, 1, 2, Valid) }, []int{1, 3, 3, 3}},
		{"2x2 s3 valid (kernel below stride)", func() *ConvTranspose2D { return NewConvTranspose2D(2, 2, 3, Valid) }, []int{1, 3, 2, 2}},
		{"dilation 2", func() *ConvTranspose2D {
			c := NewConvTranspose2D(3, 3, 1, Valid)
			c.DilationH, c.DilationW = 2, 2
			return c
		}, []int{1, 4, 5, 2}},
		{"dilation 2 s2 output padding 1", func() *ConvTranspose2D {
			c := NewConvTranspose2D(2, 3, 2, Explicit(2))
			c.DilationH, c.DilationW, c.OutputPaddingH = 2, 2, 1
			return c
		}, []int{2, 4, 3, 2}},
		{"groups 2", func() *ConvTranspose2D {
			c := NewConvTranspose2D(4, 3, 2, Explicit(1))
			c.Groups = 2
			return c
		}, []int{2, 3, 4, 6}},
		{"groups 3 same no bias", func() *ConvTranspose2D {
			c := NewConvTranspose2D(6, 3, 2, Same)
			c.Groups, c.UseBias = 3, false
			return c
		}, []int{1, 3, 3, 3}},
	}
}

func TestConvTransposeForwardMatchesDefinition(t *testing.T) {
	for i, c := range convTransposeCases() {
		t.Run(c.name, func(t *testing.T) {
			op := c.op()
			out := convBuild(t, op, c.in)
			rng := NewRNG(uint64(i))
			if op.bias != nil {
				for j := range op.bias.Value.Data {
					op.bias.Value.Data[j] = float32(rng.NormFloat64())
				}
			}
			x := convRand(rng, c.in...)
			y, _ := convRun(t, op, &Call{}, false, []*tensor.Tensor{x}, nil, false)
			want := convTransposeRef(op, x, out)
			for j := range want {
				if math.Abs(float64(y.Data[j])-want[j]) > 1e-5*math.Max(1, math.Abs(want[j])) {
					t.Fatalf("y[%d] = %v, definition %v", j, y.Data[j], want[j])
				}
			}
		})
	}
}

// Linear in x and W: see TestConv2DGrad for the tolerance.
func TestConvTransposeGrad(t *testing.T) {
	for i, c := range convTransposeCases() {
		t.Run(c.name, func(t *testing.T) {
			gradCheckOp(t, c.op(), [][]int{c.in}, gradOpts{Seed: uint64(i), Samples: 30, Tol: 1e-3})
		})
	}
	c := NewConvTranspose2D(4, 3, 2, Same)
	c.Act = Act{Kind: "tanh"}
	gradCheckOp(t, c, [][]int{{2, 3, 4, 3}}, gradOpts{Seed: 5, Samples: 30, Tol: 2e-3})
}

// Chunks of a line and of a few lines give the results of whole images.
func TestConvTransposeChunked(t *testing.T) {
	for _, c := range convTransposeCases() {
		t.Run(c.name, func(t *testing.T) {
			x := convRand(NewRNG(2), c.in...)
			run := func(chunk int) (y, dx, dw *tensor.Tensor) {
				op := c.op()
				out := convBuild(t, op, c.in)
				op.chunkFloats = chunk
				y, dx = convRun(t, op, &Call{}, true, []*tensor.Tensor{x}, convRand(NewRNG(3), out...), true)
				return y, dx, op.kernel.Grad.Clone()
			}
			y0, dx0, dw0 := run(0)
			for _, chunk := range []int{1, 2 * c.in[2] * 9 * c.in[3]} {
				y, dx, dw := run(chunk)
				convClose(t, "y", y.Data, y0.Data, 1e-5)
				convClose(t, "dx", dx.Data, dx0.Data, 1e-5)
				convClose(t, "dW", dw.Data, dw0.Data, 1e-5)
			}
		})
	}
}

func TestConvTransposeOutputShapes(t *testing.T) {
	op := func(k, s int, p Padding, oph int) *ConvTranspose2D {
		c := NewConvTranspose2D(5, k, s, p)
		c.OutputPaddingH = oph
		return c
	}
	cases := []struct {
		op   *ConvTranspose2D
		in   []int
		want []int
	}{
		// Keras: "same" gives in*stride, "valid" in*stride + max(k-s, 0).
		{op(3, 2, Same, 0), []int{-1, 7, 5, 2}, []int{-1, 14, 10, 5}},
		{op(3, 2, Valid, 0), []int{-1, 7, 5, 2}, []int{-1, 15, 11, 5}},
		{op(2, 3, Valid, 0), []int{-1, 7, 5, 2}, []int{-1, 21, 15, 5}},
		{op(4, 2, Same, 0), []int{-1, 7, 5, 2}, []int{-1, 14, 10, 5}},
		// Keras with output_padding: (in-1)*s + k - 2*(k/2) + op.
		{op(3, 2, Same, 1), []int{-1, 7, 5, 2}, []int{-1, 14, 10, 5}},
		{op(5, 3, Same, 2), []int{-1, 7, 5, 2}, []int{-1, 21, 15, 5}},
		{op(3, 2, Valid, 1), []int{-1, 7, 5, 2}, []int{-1, 16, 11, 5}},
		// PyTorch: (in-1)*s - 2p + d(k-1) + op + 1.
		{op(4, 2, Explicit(1), 0), []int{-1, 7, 5, 2}, []int{-1, 14, 10, 5}},
		{op(3, 2, Explicit(1), 1), []int{-1, 7, 5, 2}, []int{-1, 14, 9, 5}},
		{op(3, 1, Explicit(0), 0), []int{-1, -1, 5, 2}, []int{-1, -1, 7, 5}},
	}
	for _, c := range cases {
		out, err := c.op.Shapes([][]int{c.in})
		if err != nil || !tensor.EqualShape(out[0], c.want) {
			t.Errorf("%s on %v: got %v, %v; want %v", c.op.config(), c.in, out, err, c.want)
		}
	}
	// TensorFlow's split for "same": total cropping max(k - s, 0), the odd
	// pixel at the end.
	if _, lo, _ := op(4, 1, Same, 0).axis(5, 4, 1, 1, 0, true); lo != 1 {
		t.Errorf("same 4/1: crop %d before, want 1", lo)
	}
	if _, lo, _ := op(3, 2, Same, 0).axis(5, 3, 2, 1, 0, true); lo != 0 {
		t.Errorf("same 3/2: crop %d before, want 0", lo)
	}
}

func TestConvTransposeErrors(t *testing.T) {
	outPad := func(op int) *ConvTranspose2D {
		c := NewConvTranspose2D(2, 3, 2, Explicit(1))
		c.OutputPaddingW = op
		return c
	}
	grouped := func(f, g int) *ConvTranspose2D { c := NewConvTranspose2D(f, 3, 1, Same); c.Groups = g; return c }
	cases := []struct {
		name string
		op   *ConvTranspose2D
		in   []int
		want []string
	}{
		{"3-D input", NewConvTranspose2D(2, 3, 1, Valid), []int{-1, 5, 5}, []string{"(?, 5, 5)"}},
		{"output padding too large", outPad(2), []int{-1, 4, 4, 1}, []string{"output padding 2", "stride 2", "(?, 4, 4, 1)"}},
		{"negative output padding", outPad(-1), []int{-1, 4, 4, 1}, []string{"output padding -1"}},
		{"padding eats the output", NewConvTranspose2D(2, 3, 1, Explicit(2)), []int{-1, 1, 4, 1}, []string{"output of -1 pixels", "(?, 1, 4, 1)"}},
		{"bad mode", NewConvTranspose2D(2, 3, 1, Padding{Mode: "full"}), []int{-1, 4, 4, 1}, []string{"full"}},
		{"channels not divisible", grouped(4, 2), []int{-1, 4, 4, 3}, []string{"input channels 3", "groups 2"}},
		{"filters not divisible", grouped(3, 2), []int{-1, 4, 4, 4}, []string{"filters 3", "groups 2"}},
		{"zero filters", NewConvTranspose2D(0, 3, 1, Same), []int{-1, 4, 4, 4}, []string{"filters = 0"}},
	}
	for _, c := range cases {
		_, err := c.op.Shapes([][]int{c.in})
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
	c := NewConvTranspose2D(2, 3, 2, Same)
	convBuild(t, c, []int{-1, 4, 4, 3})
	err := c.Forward(&Call{}, []*tensor.Tensor{tensor.New(1, 4, 4, 3)}, []*tensor.Tensor{tensor.New(1, 8, 7, 2)})
	if err == nil || !strings.Contains(err.Error(), "(1, 8, 7, 2)") || !strings.Contains(err.Error(), "(1, 8, 8, 2)") {
		t.Errorf("wrong output shape: %v", err)
	}
}

func TestConvTransposeJSON(t *testing.T) {
	c := NewConvTranspose2D(8, 4, 2, Explicit(1))
	c.OutputPaddingH, c.Groups, c.DilationW = 1, 2, 2
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"filters":8`, `"kernel_h":4`, `"stride_w":2`, `"output_padding_h":1`, `"groups":2`, `"dilation_w":2`, `"use_bias":true`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON %s lacks %s", b, w)
		}
	}
	if strings.Contains(string(b), "output_padding_w") || strings.Contains(string(b), "activation") {
		t.Errorf("JSON %s has fields at their defaults", b)
	}
	op, err := newOp("Conv2DTranspose", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := op.(*ConvTranspose2D); got.OutputPaddingH != 1 || got.Groups != 2 || got.DilationW != 2 || got.Padding != c.Padding {
		t.Fatalf("round trip: %+v", got)
	}
}
