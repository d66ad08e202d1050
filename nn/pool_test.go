package nn

import (
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestMaxPool2DGrad(t *testing.T) {
	gradCheck(t, NewMaxPool2D(2, 0), []int{2, 6, 4, 3}, gradOpts{Distinct: true, Eps: 1e-3, Seed: 1})
	gradCheck(t, NewMaxPool2D(2, 2), []int{2, 7, 5, 2}, gradOpts{Distinct: true, Eps: 1e-3, Seed: 2}) // odd: last row/col dropped
	gradCheck(t, NewMaxPool2D(3, 2), []int{1, 7, 7, 2}, gradOpts{Distinct: true, Eps: 1e-3, Seed: 3}) // overlapping
	gradCheck(t, &MaxPool2D{PoolH: 2, PoolW: 3, StrideH: 1, StrideW: 2}, []int{2, 5, 7, 1}, gradOpts{Distinct: true, Eps: 1e-3, Seed: 4})
}

func TestAveragePool2DGrad(t *testing.T) {
	gradCheck(t, NewAveragePool2D(2, 0), []int{2, 6, 4, 3}, gradOpts{Seed: 1})
	gradCheck(t, NewAveragePool2D(3, 2), []int{2, 7, 5, 2}, gradOpts{Seed: 2})
	gradCheck(t, &AveragePool2D{PoolH: 3, PoolW: 2, StrideH: 1, StrideW: 3}, []int{1, 5, 8, 2}, gradOpts{Seed: 3})
}

func TestGlobalAveragePoolGrad(t *testing.T) {
	gradCheck(t, NewGlobalAveragePool(), []int{3, 5, 3, 4}, gradOpts{Seed: 1})
}

func TestPoolValues(t *testing.T) {
	// One 4x4 single-channel image 0..15.
	x := tensor.New(1, 4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	mp := NewMaxPool2D(2, 0)
	if _, err := mp.Build([]int{4, 4, 1}, nil); err != nil {
		t.Fatal(err)
	}
	y, _ := mp.Forward(x, false)
	if want := []float32{5, 7, 13, 15}; !equalF32(y.Data, want) {
		t.Errorf("max pool %v, want %v", y.Data, want)
	}
	ap := NewAveragePool2D(2, 0)
	if _, err := ap.Build([]int{4, 4, 1}, nil); err != nil {
		t.Fatal(err)
	}
	y, _ = ap.Forward(x, false)
	if want := []float32{2.5, 4.5, 10.5, 12.5}; !equalF32(y.Data, want) {
		t.Errorf("avg pool %v, want %v", y.Data, want)
	}
	g := NewGlobalAveragePool()
	out, err := g.Build([]int{4, 4, 1}, nil)
	if err != nil || !tensor.EqualShape(out, []int{1}) {
		t.Fatalf("GAP build %v %v", out, err)
	}
	y, _ = g.Forward(x, false)
	if y.Data[0] != 7.5 || !tensor.EqualShape(y.Shape, []int{1, 1}) {
		t.Errorf("GAP %v", y)
	}
}

func TestPoolErrors(t *testing.T) {
	_, err := NewMaxPool2D(2, 0).Build([]int{10, 3}, nil)
	if err == nil || !strings.Contains(err.Error(), "(10, 3)") {
		t.Errorf("2-D: %v", err)
	}
	_, err = NewAveragePool2D(5, 0).Build([]int{4, 4, 3}, nil)
	if err == nil || !strings.Contains(err.Error(), "(4, 4, 3)") {
		t.Errorf("too large: %v", err)
	}
	p := NewMaxPool2D(2, 0)
	if _, err := p.Build([]int{4, 4, 3}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = p.Forward(tensor.New(1, 4, 4, 2), false)
	if err == nil || !strings.Contains(err.Error(), "(1, 4, 4, 2)") || !strings.Contains(err.Error(), "4, 4, 3") {
		t.Errorf("wrong input: %v", err)
	}
	g := NewGlobalAveragePool()
	_, err = g.Build([]int{12}, nil)
	if err == nil || !strings.Contains(err.Error(), "(12,)") {
		t.Errorf("GAP 1-D: %v", err)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
