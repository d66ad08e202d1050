package nn

import (
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// convTorchCase is one entry of testdata/torch_conv.json.gz, written by
// testdata/gen_torch_conv.py in dlcv's layouts.
type convTorchCase struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"` // conv2d, depthwise, conv_transpose
	Filters int       `json:"filters"`
	Kernel  []int     `json:"kernel"`
	Stride  []int     `json:"stride"`
	Dil     []int     `json:"dilation"`
	Groups  int       `json:"groups"`
	Mode    string    `json:"mode"` // explicit or same
	Pad     []int     `json:"pad"`  // top, bottom, left, right
	OutPad  []int     `json:"output_padding"`
	Act     string    `json:"act"`
	XShape  []int     `json:"x_shape"`
	X       []float32 `json:"x"`
	W       []float32 `json:"w"`
	B       []float32 `json:"b"`
	R       []float32 `json:"r"` // residual input
	YShape  []int     `json:"y_shape"`
	Y       []float32 `json:"y"`
	DY      []float32 `json:"dy"`
	DX      []float32 `json:"dx"`
	DW      []float32 `json:"dw"`
	DB      []float32 `json:"db"`
	DR      []float32 `json:"dr"`
}

func (c *convTorchCase) op() Op {
	pad := Padding{Mode: "explicit", Top: c.Pad[0], Bottom: c.Pad[1], Left: c.Pad[2], Right: c.Pad[3]}
	if c.Mode == "same" {
		pad = Same
	}
	act := Act{Kind: c.Act}
	switch c.Kind {
	case "depthwise":
		return &DepthwiseConv2D{KernelH: c.Kernel[0], KernelW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1],
			DilationH: c.Dil[0], DilationW: c.Dil[1], DepthMultiplier: c.Filters / c.Groups, Padding: pad,
			UseBias: true, Act: act, Residual: c.R != nil}
	case "conv_transpose":
		ct := &ConvTranspose2D{Filters: c.Filters, KernelH: c.Kernel[0], KernelW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1],
			DilationH: c.Dil[0], DilationW: c.Dil[1], Groups: c.Groups, Padding: pad, UseBias: true, Act: act}
		if c.Mode != "same" {
			ct.OutputPaddingH, ct.OutputPaddingW = c.OutPad[0], c.OutPad[1]
		}
		return ct
	}
	return &Conv2D{Filters: c.Filters, KernelH: c.Kernel[0], KernelW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1],
		DilationH: c.Dil[0], DilationW: c.Dil[1], Groups: c.Groups, Padding: pad, UseBias: true, Act: act, Residual: c.R != nil}
}

func readConvTorchCases(t *testing.T) []convTorchCase {
	t.Helper()
	f, err := os.Open("testdata/torch_conv.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var fix struct{ Cases []convTorchCase }
	if err := json.NewDecoder(z).Decode(&fix); err != nil {
		t.Fatal(err)
	}
	if len(fix.Cases) < 20 {
		t.Fatalf("only %d cases in the fixture", len(fix.Cases))
	}
	return fix.Cases
}

// Every convolution, forward and backward, within 1e-4 (relative above 1)
// of PyTorch's float64 results for the same float32 inputs, with the
// patches kept for Backward and recomputed.
func TestConvAgainstPyTorch(t *testing.T) {
	for _, c := range readConvTorchCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, train := range []bool{false, true} {
				op := c.op()
				shapes := [][]int{c.XShape}
				if c.R != nil {
					shapes = append(shapes, c.YShape)
				}
				if out := convBuild(t, op, shapes...); !tensor.EqualShape(out, c.YShape) {
					t.Fatalf("output shape %v, PyTorch %v", out, c.YShape)
				}
				ps := op.Params()
				copy(ps[0].Value.Data, c.W)
				copy(ps[1].Value.Data, c.B)
				xs := []*tensor.Tensor{mustTensor(t, c.X, c.XShape)}
				if c.R != nil {
					xs = append(xs, mustTensor(t, c.R, c.YShape))
				}
				dy := mustTensor(t, c.DY, c.YShape)
				call := &Call{Train: train}
				y := tensor.New(c.YShape...)
				if err := op.Forward(call, xs, []*tensor.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				convTorchClose(t, "y", y.Data, c.Y)
				ZeroGrads(ps)
				din := []*tensor.Tensor{tensor.New(c.XShape...)}
				if c.R != nil {
					din = append(din, tensor.New(c.YShape...))
				}
				if err := op.Backward(call, xs, []*tensor.Tensor{y}, []*tensor.Tensor{dy}, din); err != nil {
					t.Fatal(err)
				}
				convTorchClose(t, "dx", din[0].Data, c.DX)
				convTorchClose(t, "dW", ps[0].Grad.Data, c.DW)
				convTorchClose(t, "db", ps[1].Grad.Data, c.DB)
				if c.R != nil {
					convTorchClose(t, "dr", din[1].Data, c.DR)
				}
				// A depthwise case runs again as a Conv2D with Groups = Cin.
				if d, ok := op.(*DepthwiseConv2D); ok && train {
					conv := depthwiseAsConv(d)
					y2 := tensor.New(c.YShape...)
					if err := conv.Forward(&Call{}, xs, []*tensor.Tensor{y2}); err != nil {
						t.Fatal(err)
					}
					convTorchClose(t, "y as Conv2D", y2.Data, c.Y)
				}
			}
		})
	}
}

func mustTensor(t *testing.T, data []float32, shape []int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromSlice(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// convTorchClose checks |got-want| <= 1e-4 * max(|want|, 1).
func convTorchClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch has %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > 1e-4*math.Max(math.Abs(w), 1) {
			t.Fatalf("%s[%d] = %v, PyTorch %v", what, i, g, w)
		}
	}
}
