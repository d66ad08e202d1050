package nn

import (
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// The blocks of modern CNNs, end to end against PyTorch
// (testdata/gen_torch_blocks.py): the output and the gradient of the input
// and of every parameter, in training mode.

type torchBlock struct {
	Name   string `json:"name"`
	XShape []int  `json:"x_shape"`
	X      []float32
	Params map[string]struct {
		Shape []int     `json:"shape"`
		Value []float32 `json:"value"`
	} `json:"params"`
	YShape []int `json:"y_shape"`
	Y, R   []float32
	DX     []float32            `json:"dx"`
	Grads  map[string][]float32 `json:"grads"`
}

func loadTorchBlocks(t *testing.T) map[string]torchBlock {
	t.Helper()
	f, err := os.Open("testdata/torch_blocks.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Cases []torchBlock }
	if err := json.NewDecoder(z).Decode(&file); err != nil {
		t.Fatal(err)
	}
	m := map[string]torchBlock{}
	for _, c := range file.Cases {
		m[c.Name] = c
	}
	return m
}

func noBiasConv(filters, k, stride, pad int) *Conv2D {
	c := NewConv2D(filters, k, stride, Explicit(pad))
	c.UseBias = false
	return c
}

// blockGraphs builds each block with node names matching the fixture's
// parameter names.
var blockGraphs = map[string]func(g *Graph, x *Value) *Value{
	"resnet_basic": func(g *Graph, x *Value) *Value {
		h := g.Apply(NewReLU(), g.Node("bn1", NewBatchNorm(0, 1e-3), g.Node("conv1", noBiasConv(10, 3, 2, 1), x).Out(0)).Out(0))
		h = g.Node("bn2", NewBatchNorm(0, 1e-3), g.Node("conv2", noBiasConv(10, 3, 1, 1), h).Out(0)).Out(0)
		s := g.Node("bnp", NewBatchNorm(0, 1e-3), g.Node("proj", noBiasConv(10, 1, 2, 0), x).Out(0)).Out(0)
		return g.Apply(NewReLU(), g.Add(h, s))
	},
	"mbv2_inverted": func(g *Graph, x *Value) *Value {
		h := g.Apply(NewReLU6(), g.Node("bn1", NewBatchNorm(0, 1e-3), g.Node("expand", noBiasConv(24, 1, 1, 0), x).Out(0)).Out(0))
		dw := NewDepthwiseConv2D(3, 1, Explicit(1))
		dw.UseBias = false
		h = g.Apply(NewReLU6(), g.Node("bn2", NewBatchNorm(0, 1e-3), g.Node("dw", dw, h).Out(0)).Out(0))
		h = g.Node("bn3", NewBatchNorm(0, 1e-3), g.Node("project", noBiasConv(8, 1, 1, 0), h).Out(0)).Out(0)
		return g.Add(x, h)
	},
	"squeeze_excite": func(g *Graph, x *Value) *Value {
		gap := NewGlobalAveragePool()
		gap.KeepDims = true
		s := g.Apply(gap, x)
		s = g.Apply(NewReLU(), g.Node("fc1", NewDense(4), s).Out(0))
		s = g.Apply(NewSigmoid(), g.Node("fc2", NewDense(16), s).Out(0))
		return g.Apply(NewMul(), x, s)
	},
}

func TestBlocksAgainstPyTorch(t *testing.T) {
	cases := loadTorchBlocks(t)
	for name, build := range blockGraphs {
		t.Run(name, func(t *testing.T) {
			c, ok := cases[name]
			if !ok {
				t.Fatalf("no fixture %q", name)
			}
			g := NewGraph()
			x := g.Input("x", c.XShape[1:]...)
			g.Output(build(g, x))
			if err := g.Build(0); err != nil {
				t.Fatal(err)
			}
			for _, n := range g.Nodes() {
				for _, p := range n.Op.Params() {
					key := n.Name + "." + p.Name
					fp, ok := c.Params[key]
					if !ok {
						if !p.Trainable { // moving statistics: not in the fixture
							continue
						}
						t.Fatalf("fixture has no %s", key)
					}
					if !tensor.EqualShape(fp.Shape, p.Value.Shape) {
						t.Fatalf("%s: fixture shape %v, param %v", key, fp.Shape, p.Value.Shape)
					}
					copy(p.Value.Data, fp.Value)
				}
			}
			s := g.NewSession()
			s.SetInputGrad(true)
			in, _ := tensor.FromSlice(c.X, c.XShape...)
			ys, err := s.Run(true, in)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "output", ys[0].Data, c.Y)
			r, _ := tensor.FromSlice(c.R, c.YShape...)
			ZeroGrads(g.Params())
			dx, err := s.Backward(r)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "input gradient", dx[0].Data, c.DX)
			for _, n := range g.Nodes() {
				for _, p := range n.Op.Params() {
					if want, ok := c.Grads[n.Name+"."+p.Name]; ok {
						closeTo(t, n.Name+"."+p.Name+" gradient", p.Grad.Data, want)
					}
				}
			}
		})
	}
}

// closeTo compares float32 results with float64 references: within 1e-4
// of the largest reference magnitude (float32 sums of a few hundred terms
// lose about 1e-6 relative each; batch norm divides by small deviations).
func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*math.Max(scale, 1e-3) {
			t.Fatalf("%s[%d] = %v, PyTorch %v (scale %.3g)", what, i, got[i], want[i], scale)
		}
	}
}
