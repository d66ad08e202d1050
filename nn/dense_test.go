package nn

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestDenseGrad(t *testing.T) {
	gradCheckOp(t, NewDense(5), [][]int{{3, 7}}, gradOpts{Seed: 1})
	gradCheckOp(t, NewDense(1), [][]int{{1, 4}}, gradOpts{Seed: 2})
	gradCheckOp(t, &Dense{Units: 3}, [][]int{{4, 2}}, gradOpts{Seed: 3})
	// Over the last axis of a rank-3 input (tokens).
	gradCheckOp(t, NewDense(6), [][]int{{2, 3, 5}}, gradOpts{Seed: 4})
	// With a fused activation, whose derivative comes from the output.
	gradCheckOp(t, &Dense{Units: 4, UseBias: true, Act: Act{Kind: "tanh"}}, [][]int{{3, 5}}, gradOpts{Seed: 5})
}

func TestDenseErrors(t *testing.T) {
	shapeErr(t, NewDense(10), [][]int{{4}}, "(4,)", "Flatten")
	shapeErr(t, NewDense(0), [][]int{{2, 4}}, "0 units")
	shapeErr(t, &Dense{Units: 2, Act: Act{Kind: "swish2"}}, [][]int{{2, 4}}, `"swish2"`)
	d := NewDense(10)
	if err := d.Build([][]int{{-1, 6}}, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	shapeErr(t, d, [][]int{{2, 3}}, "(2, 3)", "built for 6")
	if err := NewDense(3).Build([][]int{{-1, -1}}, NewRNG(1)); err == nil || !strings.Contains(err.Error(), "(?, ?)") {
		t.Errorf("unknown features at build: %v", err)
	}
	if err := NewDense(3).Forward(&Call{}, []*tensor.Tensor{tensor.New(1, 2)}, []*tensor.Tensor{tensor.New(1, 3)}); err == nil {
		t.Error("Forward before Build succeeded")
	}
}

// Backward without an input gradient (the first layer) still fills the
// weight gradients.
func TestDenseSkipInputGrad(t *testing.T) {
	d := NewDense(3)
	x := randNormal(NewRNG(1), 2, 4)
	call := &Call{Train: true}
	y := evalOp(t, d, call, x)
	if err := d.Backward(call, []*tensor.Tensor{x}, y, []*tensor.Tensor{randNormal(NewRNG(2), 2, 3)}, []*tensor.Tensor{nil}); err != nil {
		t.Fatal(err)
	}
	if d.Kernel().Grad.Data[0] == 0 || d.Bias().Grad.Data[0] == 0 {
		t.Error("no weight gradient without an input gradient")
	}
}

// TestDenseTorch checks the dense case of testdata/torch_layers.json
// (gen_torch_fixtures.py).
func TestDenseTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_layers.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name, Kind                 string
			Units                      int
			XShape                     []int `json:"x_shape"`
			YShape                     []int `json:"y_shape"`
			X, W, B, Y, DY, DX, DW, DB []float32
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f.Cases {
		if c.Kind != "dense" {
			continue
		}
		n++
		d := NewDense(c.Units)
		if err := d.Build([][]int{c.XShape}, NewRNG(1)); err != nil {
			t.Fatal(err)
		}
		copy(d.Kernel().Value.Data, c.W)
		copy(d.Bias().Value.Data, c.B)
		x := fixtureTensor(t, c.X, c.XShape...)
		call := &Call{Train: true}
		y := evalOp(t, d, call, x)
		relClose(t, c.Name+" y", y[0].Data, c.Y, torchTol)
		dx := evalOpGrad(t, d, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, c.DY, c.YShape...)})
		relClose(t, c.Name+" dx", dx[0].Data, c.DX, torchTol)
		relClose(t, c.Name+" dW", d.Kernel().Grad.Data, c.DW, torchTol)
		relClose(t, c.Name+" db", d.Bias().Grad.Data, c.DB, torchTol)
	}
	if n == 0 {
		t.Fatal("no dense case in torch_layers.json")
	}
}
