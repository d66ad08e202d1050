package nn

import "testing"

func TestFoldShapeOps(t *testing.T) {
	g := NewGraph()
	x := g.InputBatch("x", 2, 3, 4)
	sh := g.Apply(NewShape(), x)
	two := g.Apply(NewGather(0), sh, g.Apply(NewConstant(vec(2, 1))))
	g.Output(g.Apply(NewMul(), two, g.Apply(NewConstant(vec(10)))))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	f, err := FoldConstants(g)
	if err != nil {
		t.Fatal(err)
	}
	n := f.Outputs()[0].Node()
	k, ok := n.Op.(*Constant)
	if !ok {
		t.Fatalf("the shape arithmetic did not fold: output node %s (%s)", n.Name, n.Op.Kind())
	}
	wantData(t, "folded", k.Value.Value, []int{2}, []float32{40, 30})
	// With an unknown batch the Shape stays.
	g2 := NewGraph()
	y := g2.Input("y", 3)
	g2.Output(g2.Apply(NewShape(), y))
	if err := g2.Build(1); err != nil {
		t.Fatal(err)
	}
	f2, err := FoldConstants(g2)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f2.Outputs()[0].Node().Op.(*Shape); !ok {
		t.Error("a Shape of an unknown batch was folded")
	}
}
