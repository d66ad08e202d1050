package nn

import (
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestSoftmaxGrad(t *testing.T) {
	gradCheck(t, NewSoftmax(), []int{3, 7}, gradOpts{Eps: 1e-3, Tol: 1e-2})
}

func TestSoftmaxStable(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{1000, 1001, 1002, -1e30, 0, 1e30}, 2, 3)
	s := NewSoftmax()
	if _, err := s.Build([]int{3}, nil); err != nil {
		t.Fatal(err)
	}
	y, err := s.Forward(x, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.09003057, 0.24472847, 0.66524096, 0, 0, 1}
	for i, w := range want {
		if math.Abs(float64(y.Data[i])-w) > 1e-6 {
			t.Fatalf("softmax[%d] = %v, want %v", i, y.Data[i], w)
		}
	}
	if _, err := s.Forward(tensor.New(5), false); err == nil {
		t.Fatal("want error for 1-D input")
	}
}
