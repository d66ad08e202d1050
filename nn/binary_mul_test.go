package nn

import (
	"fmt"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Mul's runs (both operands stretched or not along each merged axis)
// give the float64 reference product, broadcast by index, exactly.
func TestMulBroadcastMatchesReference(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(3))
	rng := NewRNG(7)
	for _, sh := range [][2][]int{
		{{2, 5, 7, 13}, {2, 5, 7, 13}},   // same shape
		{{1, 6, 5, 72}, {1, 1, 1, 72}},   // squeeze-excite scale
		{{3, 1, 1, 20}, {3, 40, 33, 20}}, // per-image scales first, pixels over the cores
		{{2, 1, 1, 1}, {2, 7, 9, 1}},     // one channel
		{{1, 1, 1, 9}, {2, 3, 4, 9}},     // the other operand stretched
		{{3, 4, 1}, {3, 1, 5}},           // both stretched
		{{2, 3, 5}, {1}},                 // a scalar
		{{1}, {4, 3}},
		{{4, 1, 6}, {1, 3, 1}},
	} {
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			a, b := convRand(rng, sh[0]...), convRand(rng, sh[1]...)
			op := NewMul()
			outs, err := op.Shapes([][]int{a.Shape, b.Shape})
			if err != nil {
				t.Fatal(err)
			}
			y := tensor.New(outs[0]...)
			if err := op.Forward(&Call{}, []*tensor.Tensor{a, b}, []*tensor.Tensor{y}); err != nil {
				t.Fatal(err)
			}
			r := len(y.Shape)
			at := func(x *tensor.Tensor, idx []int) float64 {
				off, stride := 0, 1
				for k := len(x.Shape) - 1; k >= 0; k-- {
					i := idx[r-len(x.Shape)+k]
					if x.Shape[k] == 1 {
						i = 0
					}
					off += i * stride
					stride *= x.Shape[k]
				}
				return float64(x.Data[off])
			}
			idx := make([]int, r)
			for o := range y.Data {
				for k, rem := r-1, o; k >= 0; k-- {
					idx[k] = rem % y.Shape[k]
					rem /= y.Shape[k]
				}
				if want := float32(at(a, idx) * at(b, idx)); y.Data[o] != want {
					t.Fatalf("y%v = %v, want %v", idx, y.Data[o], want)
				}
			}
		})
	}
}
