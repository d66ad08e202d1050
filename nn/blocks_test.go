package nn

import (
	"fmt"
	"slices"
	"testing"
)

// Blocks group weighted nodes by name scope; Unfreeze leaves batch-norm
// statistics frozen.
func TestBlocksFreezeUnfreeze(t *testing.T) {
	g := NewGraph()
	g.Input("image", 8, 8, 3)
	g.AddNode("net/b1/conv", NewConv2D(4, 3, 1, Same), "image")
	g.AddNode("net/b1/bn", NewBatchNorm(0, 0), "net/b1/conv")
	g.AddNode("net/b1/relu", NewReLU(), "net/b1/bn")
	g.AddNode("net/b2/conv", NewConv2D(4, 3, 1, Same), "net/b1/relu")
	g.AddNode("net/b2/add", NewAdd(), "net/b2/conv", "net/b1/relu")
	g.AddNode("pool", NewGlobalAveragePool(), "net/b2/add")
	g.AddNode("dense", NewDense(2), "pool")
	g.OutputRefs("dense")
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, b := range g.Blocks() {
		var ns []string
		for _, n := range b.Nodes {
			ns = append(ns, n.Name)
		}
		got = append(got, append([]string{b.Name}, ns...))
	}
	want := [][]string{{"net/b1", "net/b1/conv", "net/b1/bn"}, {"net/b2", "net/b2/conv"}, {"dense", "dense"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("blocks %v, want %v", got, want)
	}
	for _, n := range g.Nodes() {
		Freeze(n)
	}
	for _, p := range g.Params() {
		if p.Trainable || p.Grad != nil {
			t.Fatalf("param %s trainable after Freeze", p.Name)
		}
	}
	bn := g.NodeByName("net/b1/bn")
	if k := Unfreeze(bn); k != 8 {
		t.Errorf("Unfreeze(batch norm) = %d values, want gamma and beta, 8", k)
	}
	for _, p := range bn.Op.Params() {
		state := p.Name == "moving_mean" || p.Name == "moving_variance"
		if p.Trainable == state || (p.Grad == nil) != state {
			t.Errorf("batch norm %s: trainable %v, grad %v after Unfreeze", p.Name, p.Trainable, p.Grad != nil)
		}
	}
	if k := Unfreeze(g.NodeByName("net/b2/conv")); k != 3*3*4*4+4 {
		t.Errorf("Unfreeze(conv) = %d values", k)
	}
	if k := FreezeBatchNormStats(g); k != 1 || !bn.Op.(*BatchNorm).Frozen {
		t.Errorf("FreezeBatchNormStats = %d", k)
	}
}

// TensorFlow's names nest deeper than the block: the shared scope is
// skipped and the next component is the block.
func TestBlocksTensorFlowNames(t *testing.T) {
	g := NewGraph()
	g.Input("input", 8, 8, 3)
	prev := "input"
	for _, name := range []string{"MobilenetV2/Conv/Relu6", "MobilenetV2/expanded_conv/depthwise/Relu6", "MobilenetV2/expanded_conv/project/add_fold",
		"MobilenetV2/expanded_conv_1/expand/Relu6", "MobilenetV2/expanded_conv_1/project/add_fold", "MobilenetV2/Conv_1/Relu6"} {
		g.AddNode(name, NewConv2D(4, 1, 1, Same), prev)
		prev = name
	}
	g.AddNode("MobilenetV2/Logits/AvgPool", NewGlobalAveragePool(), prev)
	g.OutputRefs("MobilenetV2/Logits/AvgPool")
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range g.Blocks() {
		got = append(got, fmt.Sprintf("%s:%d", b.Name, len(b.Nodes)))
	}
	want := []string{"MobilenetV2/Conv:1", "MobilenetV2/expanded_conv:2", "MobilenetV2/expanded_conv_1:2", "MobilenetV2/Conv_1:1"}
	if !slices.Equal(got, want) {
		t.Errorf("blocks %v, want %v", got, want)
	}
}
