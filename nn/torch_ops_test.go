package nn

import (
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// torchOpCase is one case of testdata/torch_pool.json.gz and
// torch_shape.json.gz (written by gen_torch_pool.py and
// gen_torch_shape.py): an op by kind and config JSON, as a model file
// holds it, with PyTorch's outputs and input gradients in dlcv's layouts.
// A null dout is an output without gradient.
type torchOpCase struct {
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	Config  json.RawMessage `json:"config"`
	Inputs  []*torchTensor  `json:"inputs"`
	Outputs []*torchTensor  `json:"outputs"`
	Douts   []*torchTensor  `json:"douts"`
	Dins    []*torchTensor  `json:"dins"`
}

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (t *torchTensor) tensor(tb testing.TB) *tensor.Tensor {
	if t == nil {
		return nil
	}
	x, err := tensor.FromSlice(t.Data, t.Shape...)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

func loadTorchOps(t *testing.T, path string) []torchOpCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []torchOpCase `json:"cases"`
	}
	if err := json.NewDecoder(z).Decode(&file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return file.Cases
}

// torchOpClose checks |got-want| <= 1e-4 * max(|want|, 1).
func torchOpClose(t *testing.T, what string, got *tensor.Tensor, want *torchTensor) {
	t.Helper()
	if !tensor.EqualShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, PyTorch %v", what, got.Shape, want.Shape)
	}
	for i := range got.Data {
		g, w := float64(got.Data[i]), float64(want.Data[i])
		if !(math.Abs(g-w) <= 1e-4*math.Max(math.Abs(w), 1)) {
			t.Fatalf("%s[%d] = %v, PyTorch %v", what, i, g, w)
		}
	}
}

// runTorchOps builds each case's op from its kind and config (newOp, as
// loading a model does), runs Forward and Backward (handing Backward only
// what Saves keeps) and compares with PyTorch.
func runTorchOps(t *testing.T, path string, minCases int) {
	cases := loadTorchOps(t, path)
	if len(cases) < minCases {
		t.Fatalf("%s: only %d cases", path, len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			op, err := newOp(c.Kind, c.Config)
			if err != nil {
				t.Fatal(err)
			}
			xs := make([]*tensor.Tensor, len(c.Inputs))
			shapes := make([][]int, len(c.Inputs))
			for i, in := range c.Inputs {
				xs[i] = in.tensor(t)
				shapes[i] = xs[i].Shape
			}
			outShapes, err := op.Shapes(shapes)
			if err != nil {
				t.Fatal(err)
			}
			if len(outShapes) != len(c.Outputs) {
				t.Fatalf("%d outputs, PyTorch %d", len(outShapes), len(c.Outputs))
			}
			ys := make([]*tensor.Tensor, len(outShapes))
			for i, s := range outShapes {
				ys[i] = tensor.New(s...)
				ys[i].Fill(float32(math.NaN()))
			}
			call := &Call{}
			if err := op.Forward(call, xs, ys); err != nil {
				t.Fatal(err)
			}
			for i := range ys {
				torchOpClose(t, "y", ys[i], c.Outputs[i])
			}
			saveIn, saveOut := true, true
			if sv, ok := op.(Saver); ok {
				saveIn, saveOut = sv.Saves()
			}
			bin := make([]*tensor.Tensor, len(xs))
			bout := make([]*tensor.Tensor, len(ys))
			if saveIn {
				copy(bin, xs)
			}
			if saveOut {
				copy(bout, ys)
			}
			douts := make([]*tensor.Tensor, len(c.Douts))
			for i, d := range c.Douts {
				douts[i] = d.tensor(t)
			}
			dins := make([]*tensor.Tensor, len(xs))
			for i, x := range xs {
				dins[i] = tensor.New(x.Shape...)
				dins[i].Fill(float32(math.NaN()))
			}
			if err := op.Backward(call, bin, bout, douts, dins); err != nil {
				t.Fatal(err)
			}
			for i := range dins {
				torchOpClose(t, "dx", dins[i], c.Dins[i])
			}
		})
	}
}

func TestPoolsAgainstPyTorch(t *testing.T) {
	runTorchOps(t, "testdata/torch_pool.json.gz", 20)
}

func TestShapeOpsAgainstPyTorch(t *testing.T) {
	runTorchOps(t, "testdata/torch_shape.json.gz", 30)
}
