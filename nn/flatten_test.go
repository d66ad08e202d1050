package nn

import (
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestFlattenGrad(t *testing.T) {
	gradCheck(t, NewFlatten(), []int{2, 3, 4, 5}, gradOpts{Seed: 1})
}

func TestFlattenShapes(t *testing.T) {
	f := NewFlatten()
	out, err := f.Build([]int{7, 7, 50}, nil)
	if err != nil || !tensor.EqualShape(out, []int{2450}) {
		t.Fatalf("Build: %v %v", out, err)
	}
	x := tensor.New(3, 7, 7, 50)
	x.Data[7*7*50+5] = 4 // image 1, feature 5
	y, err := f.Forward(x, false)
	if err != nil || !tensor.EqualShape(y.Shape, []int{3, 2450}) || y.At(1, 5) != 4 {
		t.Fatalf("Forward: %v %v", y, err)
	}
	dx, err := f.Backward(y)
	if err != nil || !dx.SameShape(x) {
		t.Fatalf("Backward: %v %v", dx, err)
	}
	_, err = f.Forward(tensor.New(3, 7, 7, 5), false)
	if err == nil || !strings.Contains(err.Error(), "(3, 7, 7, 5)") || !strings.Contains(err.Error(), "(batch, 7, 7, 50)") {
		t.Errorf("wrong input: %v", err)
	}
}
