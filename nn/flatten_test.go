package nn

import (
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestFlattenGrad(t *testing.T) {
	gradCheckOp(t, NewFlatten(), [][]int{{2, 3, 4, 5}}, gradOpts{Seed: 1})
}

func TestFlattenShapes(t *testing.T) {
	f := NewFlatten()
	out, err := f.Shapes([][]int{{-1, 7, 7, 50}})
	if err != nil || !tensor.EqualShape(out[0], []int{-1, 2450}) {
		t.Fatalf("Shapes: %v %v", out, err)
	}
	if out, err := f.Shapes([][]int{{-1, -1, 7, 3}}); err != nil || !tensor.EqualShape(out[0], []int{-1, -1}) {
		t.Fatalf("Shapes with an unknown size: %v %v", out, err)
	}
	shapeErr(t, f, [][]int{{3}}, "(3,)", "nothing to flatten")
	// In a graph the output is a view: features in (y, x, channel) order.
	g := NewGraph()
	g.Output(g.Apply(NewFlatten(), g.Input("x", 7, 7, 50)))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(3, 7, 7, 50)
	x.Data[7*7*50+5] = 4 // image 1, feature 5
	y, err := g.Predict(x)
	if err != nil || !tensor.EqualShape(y.Shape, []int{3, 2450}) || y.At(1, 5) != 4 {
		t.Fatalf("Predict: %v %v", y, err)
	}
	_, err = g.Predict(tensor.New(3, 7, 7, 5))
	if err == nil {
		t.Error("wrong input accepted")
	}
}
