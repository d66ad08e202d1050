package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestSoftmaxGrad(t *testing.T) {
	gradCheckOp(t, NewSoftmax(), [][]int{{3, 7}}, gradOpts{Eps: 1e-3, Tol: 1e-2})
	gradCheckOp(t, &Softmax{Axis: 1}, [][]int{{2, 5, 3}}, gradOpts{Eps: 1e-3, Tol: 1e-2, Seed: 1})
	gradCheckOp(t, &Softmax{Axis: -2}, [][]int{{2, 3, 4, 5}}, gradOpts{Eps: 1e-3, Tol: 1e-2, Seed: 2})
}

func TestSoftmaxStable(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{1000, 1001, 1002, -1e30, 0, 1e30}, 2, 3)
	y := evalOp(t, NewSoftmax(), &Call{}, x)[0]
	want := []float64{0.09003057, 0.24472847, 0.66524096, 0, 0, 1}
	for i, w := range want {
		if math.Abs(float64(y.Data[i])-w) > 1e-6 {
			t.Fatalf("softmax[%d] = %v, want %v", i, y.Data[i], w)
		}
	}
	shapeErr(t, NewSoftmax(), [][]int{{5}}, "(5,)", "axis")
	shapeErr(t, &Softmax{Axis: 3}, [][]int{{2, 5, 4}}, "axis 3", "(2, 5, 4)")
	shapeErr(t, &Softmax{Axis: -3}, [][]int{{2, 5, 4}}, "axis -3")
}
