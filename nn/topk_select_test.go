package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// TopK's heap selection (k*16 < n) gives what a stable sort of the whole
// axis gives: ties keep the lower index first, NaN sorts as the largest.
func TestTopKSelectionMatchesSort(t *testing.T) {
	rng := NewRNG(3)
	const n, k = 3000, 37
	x := tensor.New(2, n)
	for i := range x.Data {
		x.Data[i] = float32(int(rng.Float64() * 50)) // many ties
	}
	x.Data[17], x.Data[n+5] = float32(math.NaN()), float32(math.NaN())
	// The same values along axis 0 of the transpose: strided, not a
	// contiguous row.
	xt := tensor.New(n, 2)
	for r := range 2 {
		for i := range n {
			xt.Data[i*2+r] = x.Data[r*n+i]
		}
	}
	for _, largest := range []bool{true, false} {
		outs := evalOp(t, NewTopK(k, 1, largest), &Call{}, x)
		outsT := evalOp(t, NewTopK(k, 0, largest), &Call{}, xt)
		for r := range 2 {
			row := x.Data[r*n : (r+1)*n]
			idx := make([]int, n)
			for i := range idx {
				idx[i] = i
			}
			key := func(i int) float64 {
				v := float64(row[i])
				if math.IsNaN(v) {
					v = math.Inf(1)
				}
				if !largest {
					return v
				}
				return -v
			}
			slices.SortStableFunc(idx, func(a, b int) int {
				switch ka, kb := key(a), key(b); {
				case ka < kb:
					return -1
				case ka > kb:
					return 1
				}
				return 0
			})
			for j := range k {
				got := outs[1].Data[r*k+j]
				if int(got) != idx[j] {
					t.Fatalf("largest=%v row %d: index %d is %v, want %d", largest, r, j, got, idx[j])
				}
				if gt := outsT[1].Data[j*2+r]; int(gt) != idx[j] {
					t.Fatalf("largest=%v column %d: index %d is %v, want %d", largest, r, j, gt, idx[j])
				}
			}
		}
	}
}
