package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// Helpers for testing one op outside a graph.

// evalOp builds op for the inputs' shapes when it has no params yet and
// runs Forward on call (a fresh one when nil), returning the outputs.
func evalOp(t *testing.T, op Op, call *Call, xs ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape
	}
	outShapes, err := op.Shapes(shapes)
	if err != nil {
		t.Fatalf("%s Shapes%v: %v", op.Kind(), shapes, err)
	}
	if op.Params() == nil {
		if err := op.Build(shapes, NewRNG(1)); err != nil {
			t.Fatalf("%s Build: %v", op.Kind(), err)
		}
	}
	outs := make([]*tensor.Tensor, len(outShapes))
	for i, s := range outShapes {
		outs[i] = tensor.New(s...)
		outs[i].Fill(float32(math.NaN())) // Forward must write every value
	}
	if err := op.Forward(call, xs, outs); err != nil {
		t.Fatalf("%s Forward: %v", op.Kind(), err)
	}
	return outs
}

// evalOpGrad runs Backward after evalOp with the same call, passing in and
// out only where the op's Saves asks for them, and returns dL/din for
// every input (NaN-filled beforehand: Backward must overwrite them).
func evalOpGrad(t *testing.T, op Op, call *Call, xs, outs, douts []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	saveIn, saveOut := true, true
	if sv, ok := op.(Saver); ok {
		saveIn, saveOut = sv.Saves()
	}
	bin := make([]*tensor.Tensor, len(xs))
	bout := make([]*tensor.Tensor, len(outs))
	din := make([]*tensor.Tensor, len(xs))
	ng, _ := op.(NoGrad)
	for i, x := range xs {
		if saveIn {
			bin[i] = x
		}
		if ng == nil || !ng.NoGrad(i) {
			din[i] = tensor.New(x.Shape...)
			din[i].Fill(float32(math.NaN()))
		}
	}
	for i, y := range outs {
		if saveOut {
			bout[i] = y
		}
	}
	if err := op.Backward(call, bin, bout, douts, din); err != nil {
		t.Fatalf("%s Backward: %v", op.Kind(), err)
	}
	return din
}

// randNormal returns a tensor of standard normal values.
func randNormal(rng *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// shapeErr checks that op.Shapes(in) fails with a message containing
// every string of want.
func shapeErr(t *testing.T, op Op, in [][]int, want ...string) {
	t.Helper()
	_, err := op.Shapes(in)
	if err == nil {
		t.Errorf("%s Shapes%v succeeded, want an error mentioning %q", op.Kind(), in, want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s Shapes%v: error %q does not mention %q", op.Kind(), in, err, w)
		}
	}
}
