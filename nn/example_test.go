package nn_test

import (
	"fmt"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// basicBlock is ResNet's basic block, as docs/layers.md shows it.
func basicBlock(g *nn.Graph, x *nn.Value, filters, stride int) *nn.Value {
	conv := func(k, s int) *nn.Conv2D {
		c := nn.NewConv2D(filters, k, s, nn.Explicit(k/2))
		c.UseBias = false // the batch norm after it has a shift
		return c
	}
	bn := func(v *nn.Value) *nn.Value { return g.Apply(nn.NewBatchNorm(0, 0), v) }
	h := g.Apply(nn.NewReLU(), bn(g.Apply(conv(3, stride), x)))
	h = bn(g.Apply(conv(3, 1), h))
	short := x
	if s := x.Shape(); stride != 1 || s[len(s)-1] != filters {
		short = bn(g.Apply(conv(1, stride), x)) // projection shortcut
	}
	return g.Apply(nn.NewReLU(), g.Add(h, short))
}

// inverted is MobileNetV2's inverted residual block.
func inverted(g *nn.Graph, x *nn.Value, expand, out, stride int) *nn.Value {
	in := x.Shape()[3]
	bnRelu6 := func(v *nn.Value) *nn.Value {
		return g.Apply(nn.NewReLU6(), g.Apply(nn.NewBatchNorm(0, 0), v))
	}
	h := bnRelu6(g.Apply(nn.NewConv2D(in*expand, 1, 1, nn.Valid), x))
	h = bnRelu6(g.Apply(nn.NewDepthwiseConv2D(3, stride, nn.Explicit(1)), h))
	h = g.Apply(nn.NewBatchNorm(0, 0), g.Apply(nn.NewConv2D(out, 1, 1, nn.Valid), h))
	if stride == 1 && in == out {
		h = g.Add(x, h)
	}
	return h
}

// A small residual network, built as Keras' functional API reads.
func ExampleGraph() {
	g := nn.NewGraph()
	x := g.Input("image", 32, 32, 3)
	x = g.Apply(nn.NewReLU(), g.Apply(nn.NewBatchNorm(0, 0), g.Apply(nn.NewConv2D(16, 3, 1, nn.Same), x)))
	x = basicBlock(g, x, 16, 1)
	x = basicBlock(g, x, 32, 2)
	x = inverted(g, x, 6, 32, 1)
	x = g.Apply(nn.NewGlobalAveragePool(), x)
	g.Output(g.Apply(nn.NewSoftmax(), g.Apply(nn.NewDense(10), x)))
	if err := g.Build(1); err != nil {
		fmt.Println(err)
		return
	}
	y, err := g.Predict(tensor.New(2, 32, 32, 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(g.Nodes()), "nodes; output", y.Shape)
	// Output: 32 nodes; output [2 10]
}

// Mistakes are errors naming the node and the shapes, never panics.
func ExampleGraph_Build_error() {
	g := nn.NewGraph()
	x := g.Input("image", 32, 32, 16)
	y := g.Apply(nn.NewConv2D(32, 3, 2, nn.Same), x)
	g.Output(g.Add(y, x))
	fmt.Println(g.Build(1))
	// Output: node "add" (Add) on inputs [conv2d (?, 16, 16, 32), image (?, 32, 32, 16)]: shapes (?, 16, 16, 32) and (?, 32, 32, 16) do not broadcast (axis 1: 16 vs 32)
}

// A graph served for inference freezes its weights: the convolutions pack
// their kernels once, at the first run, and every session shares them.
// Changing weights later needs nn.WeightsChanged (or freezing again).
func ExampleGraph_SetFrozen() {
	g := nn.NewGraph()
	x := g.Input("image", 32, 32, 3)
	h := g.Apply(nn.NewConv2D(64, 3, 1, nn.Same), x)
	g.Output(g.Apply(nn.NewConv2D(10, 1, 1, nn.Valid), h))
	if err := g.Build(1); err != nil {
		fmt.Println(err)
		return
	}
	img := tensor.New(1, 32, 32, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%7) / 7
	}
	before, _ := g.NewSession().Run(false, img)
	first := before[0].Data[0]

	g.SetFrozen(true)
	ys, _ := g.NewSession().Run(false, img)
	fmt.Println(g.Frozen(), ys[0].Shape, ys[0].Data[0] == first)

	kernel := g.Params()[0]
	kernel.Value.Data[0] += 1         // a change by hand...
	nn.WeightsChanged(g.Params()[:1]) // ...that frozen copies must see
	ys, _ = g.NewSession().Run(false, img)
	fmt.Println(ys[0].Shape)
	// Output:
	// true [1 32 32 10] true
	// [1 32 32 10]
}
