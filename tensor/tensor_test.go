package tensor

import "testing"

func TestReshapeInfer(t *testing.T) {
	x := New(2, 3, 4)
	y, err := x.Reshape(2, -1)
	if err != nil || !EqualShape(y.Shape, []int{2, 12}) {
		t.Fatalf("got %v %v", y, err)
	}
	y.Data[5] = 7
	if x.Data[5] != 7 {
		t.Fatal("reshape must share data")
	}
	if _, err := x.Reshape(5, -1); err == nil {
		t.Fatal("want error for (5, -1) from 24 values")
	}
	if _, err := x.Reshape(2, 3); err == nil {
		t.Fatal("want error for size mismatch")
	}
}

func TestFromSliceAndIndex(t *testing.T) {
	x, err := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if x.At(1, 2) != 6 || x.At(0, 1) != 2 {
		t.Fatalf("At wrong: %v", x)
	}
	x.Set(9, 1, 0)
	if x.Data[3] != 9 {
		t.Fatal("Set wrong")
	}
	if _, err := FromSlice([]float32{1, 2}, 3); err == nil {
		t.Fatal("want error")
	}
	if ShapeString([]int{4}) != "(4,)" || ShapeString([]int{2, 3}) != "(2, 3)" {
		t.Fatal("ShapeString")
	}
}

func TestReuseKeepsStorage(t *testing.T) {
	x := New(4, 4)
	p := &x.Data[0]
	y := Reuse(x, 2, 8)
	if &y.Data[0] != p || !EqualShape(y.Shape, []int{2, 8}) {
		t.Fatal("Reuse should keep storage")
	}
	allocs := testing.AllocsPerRun(100, func() { Reuse(x, 3, 5) })
	if allocs != 0 {
		t.Fatalf("Reuse allocated %v times", allocs)
	}
	z := Reuse(x, 5, 5)
	if len(z.Data) != 25 {
		t.Fatal("Reuse must grow")
	}
}
