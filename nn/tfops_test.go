package nn

import (
	"encoding/json"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// Python's // and % (TensorFlow's FloorDiv and FloorMod) on a table of
// signs, fractions and broadcasting.
func TestFloorDivModValues(t *testing.T) {
	a := &tensor.Tensor{Shape: []int{2, 4}, Data: []float32{7, -7, 7, -7, 7.5, -7.5, 0, 6}}
	b := &tensor.Tensor{Shape: []int{4}, Data: []float32{2, 2, -2, -2}}
	div := evalOp(t, NewFloorDiv(), &Call{}, a, b)[0]
	mod := evalOp(t, NewBinaryMath("Mod"), &Call{}, a, b)[0]
	wantDiv := []float32{3, -4, -4, 3, 3, -4, -0, -3}
	wantMod := []float32{1, 1, -1, -1, 1.5, 0.5, 0, 0}
	for i := range wantDiv {
		if div.Data[i] != wantDiv[i] || mod.Data[i] != wantMod[i] {
			t.Errorf("%v // %v = %v, %% = %v; want %v and %v", a.Data[i], b.Data[i%4], div.Data[i], mod.Data[i], wantDiv[i], wantMod[i])
		}
	}
}

// On integers below 2^24 the results are exact, where a float32 quotient
// would round: (2^24-1) / 3 and neighbours, CenterNet-sized indices.
func TestFloorDivModExactIntegers(t *testing.T) {
	var as, bs []float32
	for _, x := range []int{1<<24 - 1, 1<<24 - 2, 1<<24 - 3, 1310719, 1310640, 16383, 12345677} {
		for _, y := range []int{1, 3, 7, 80, 128, 16384, 1<<24 - 1} {
			as, bs = append(as, float32(x)), append(bs, float32(y))
		}
	}
	n := len(as)
	a := &tensor.Tensor{Shape: []int{n}, Data: as}
	b := &tensor.Tensor{Shape: []int{n}, Data: bs}
	div := evalOp(t, NewFloorDiv(), &Call{}, a, b)[0]
	mod := evalOp(t, NewBinaryMath("Mod"), &Call{}, a, b)[0]
	for i := range n {
		x, y := int(as[i]), int(bs[i])
		if int(div.Data[i]) != x/y || int(mod.Data[i]) != x%y {
			t.Errorf("%d // %d = %v, %% = %v; want %d, %d", x, y, div.Data[i], mod.Data[i], x/y, x%y)
		}
	}
}

func TestFloorDivModGrads(t *testing.T) {
	// Inputs whose quotients stay clear of integers, so the finite
	// differences do not cross a step.
	rng := NewRNG(5)
	a := tensor.New(2, 3, 4)
	b := tensor.New(3, 1)
	for i := range b.Data {
		b.Data[i] = float32(1 + rng.Float64())
	}
	for i := range a.Data {
		bi := b.Data[(i/4)%3]
		q := float64(rng.IntN(7) - 3)
		a.Data[i] = float32((q + 0.3 + 0.4*rng.Float64()) * float64(bi))
	}
	o := gradOpts{Eps: 1e-3, Inputs: []*tensor.Tensor{a, b}}
	gradCheckOp(t, NewBinaryMath("Mod"), [][]int{{2, 3, 4}, {3, 1}}, o)
	gradCheckOp(t, NewFloorDiv(), [][]int{{2, 3, 4}, {3, 1}}, o)
}

func TestFloorDivModErrors(t *testing.T) {
	shapeErr(t, NewFloorDiv(), [][]int{{2, 3}, {4}}, "do not broadcast")
	shapeErr(t, NewBinaryMath("Mod"), [][]int{{2, 3}}, "takes 2 inputs")
}

// In a graph: registered (a model file round trip), no allocation per
// call.
func TestFloorDivModGraph(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 5)
	k := g.Apply(NewConstant(&tensor.Tensor{Shape: []int{1}, Data: []float32{3}}))
	q := g.Apply(NewFloorDiv(), x, k)
	r := g.Apply(NewBinaryMath("Mod"), x, k)
	g.Output(g.Add(q, r))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	arch, err := g.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	var aj archV2
	if err := json.Unmarshal(arch, &aj); err != nil {
		t.Fatal(err)
	}
	if _, err := graphFromNodes(aj); err != nil {
		t.Fatalf("reloading the architecture: %v", err)
	}
	s := g.NewSession()
	in := &tensor.Tensor{Shape: []int{2, 5}, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, -1}}
	ys, err := s.Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 1, 2, 1, 2, 3, 2, 3, 4, 1}
	for i, v := range ys[0].Data {
		if v != want[i] {
			t.Fatalf("x//3 + x%%3 = %v, want %v", ys[0].Data, want)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Run(false, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}
