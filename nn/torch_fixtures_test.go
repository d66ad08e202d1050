package nn

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// torchCase is one entry of testdata/torch_layers.json, written by
// testdata/gen_torch_fixtures.py (already converted to dlcv's layouts).
type torchCase struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Filters int       `json:"filters"`
	Units   int       `json:"units"`
	Kernel  []int     `json:"kernel"`
	Stride  []int     `json:"stride"`
	Pad     []int     `json:"pad"` // top, bottom, left, right
	XShape  []int     `json:"x_shape"`
	X       []float32 `json:"x"`
	W       []float32 `json:"w"`
	B       []float32 `json:"b"`
	YShape  []int     `json:"y_shape"`
	Y       []float32 `json:"y"`
	DY      []float32 `json:"dy"`
	DX      []float32 `json:"dx"`
	DW      []float32 `json:"dw"`
	DB      []float32 `json:"db"`
}

func TestAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_layers.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchCase }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 10 {
		t.Fatalf("only %d cases in fixture", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var l Layer
			switch c.Kind {
			case "conv2d":
				l = &Conv2D{Filters: c.Filters, KernelH: c.Kernel[0], KernelW: c.Kernel[1],
					StrideH: c.Stride[0], StrideW: c.Stride[1], UseBias: true,
					Padding: Padding{Mode: "explicit", Top: c.Pad[0], Bottom: c.Pad[1], Left: c.Pad[2], Right: c.Pad[3]}}
			case "maxpool":
				l = &MaxPool2D{PoolH: c.Kernel[0], PoolW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1]}
			case "avgpool":
				l = &AveragePool2D{PoolH: c.Kernel[0], PoolW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1]}
			case "dense":
				l = NewDense(c.Units)
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			out, err := l.Build(c.XShape[1:], NewRNG(1))
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.EqualShape(out, c.YShape[1:]) {
				t.Fatalf("output shape %v, PyTorch %v", out, c.YShape[1:])
			}
			ps := l.Params()
			if c.W != nil {
				copy(ps[0].Value.Data, c.W)
				copy(ps[1].Value.Data, c.B)
				ZeroGrads(ps)
			}
			x, err := tensor.FromSlice(c.X, c.XShape...)
			if err != nil {
				t.Fatal(err)
			}
			y, err := l.Forward(x, true)
			if err != nil {
				t.Fatal(err)
			}
			torchClose(t, "y", y.Data, c.Y)
			dy, _ := tensor.FromSlice(c.DY, c.YShape...)
			dx, err := l.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			torchClose(t, "dx", dx.Data, c.DX)
			if c.W != nil {
				torchClose(t, "dW", ps[0].Grad.Data, c.DW)
				torchClose(t, "db", ps[1].Grad.Data, c.DB)
			}
		})
	}
}

// torchClose checks |got-want| <= 1e-4 * max(|want|, 1).
func torchClose(t *testing.T, what string, got, want []float32) {
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
