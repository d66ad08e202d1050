package onnx

import (
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// permutations returns every permutation of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// transposeTensor (the engine's Transpose, tiled for batches of matrix
// transposes such as NCHW <-> NHWC) agrees with the definition
// y[i_0..] = x[i_perm...] for every permutation of ranks 1 to 4 on
// awkward sizes.
func TestTransposeTensorMatchesDefinition(t *testing.T) {
	shapes := [][]int{{7}, {3, 17}, {1, 5}, {2, 3, 19}, {2, 5, 1, 3}, {3, 4, 18, 17}, {1, 33, 6, 5}}
	for _, shape := range shapes {
		x := tensor.New(shape...)
		for i := range x.Data {
			x.Data[i] = float32(i)
		}
		for _, perm := range permutations(len(shape)) {
			y := transposeTensor(x, perm)
			r := len(shape)
			strides := make([]int, r)
			s := 1
			for i := r - 1; i >= 0; i-- {
				strides[i] = s
				s *= shape[i]
			}
			idx := make([]int, r) // index into y
			for o := range y.Data {
				off := 0
				for i := range r {
					off += idx[i] * strides[perm[i]]
				}
				if y.Data[o] != x.Data[off] {
					t.Fatalf("shape %v perm %v: y[%d] = %v, want %v", shape, perm, o, y.Data[o], x.Data[off])
				}
				for i := r - 1; i >= 0; i-- {
					if idx[i]++; idx[i] < y.Shape[i] {
						break
					}
					idx[i] = 0
				}
			}
			for i, a := range perm {
				if y.Shape[i] != shape[a] {
					t.Fatalf("shape %v perm %v: output shape %v", shape, perm, y.Shape)
				}
			}
		}
	}
}
