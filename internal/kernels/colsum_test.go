package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestColumnSums: the bits of summing the rows in order, for column
// counts around the kernels' blocks of 32 and 8, strides wider than the
// columns, and one row.
func TestColumnSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []int{1, 7, 8, 9, 31, 32, 33, 40, 64, 100} {
		for _, rows := range []int{1, 2, 5, 256} {
			for _, pad := range []int{0, 3} {
				stride := c + pad
				src := randVec(rng, (rows-1)*stride+c)
				want := make([]float32, c)
				copy(want, src[:c])
				for i := 1; i < rows; i++ {
					for j := range want {
						want[j] += src[i*stride+j]
					}
				}
				got := make([]float32, c)
				for i := range got {
					got[i] = -1
				}
				ColumnSums(got, src, rows, stride)
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("c=%d rows=%d stride=%d: [%d] = %v, want %v", c, rows, stride, j, got[j], want[j])
					}
				}
			}
		}
	}
	dst := []float32{1, 2}
	ColumnSums(dst, nil, 0, 2)
	if dst[0] != 0 || dst[1] != 0 {
		t.Fatalf("no rows: %v, want zeros", dst)
	}
}

func BenchmarkColumnSums(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	src, dst := randVec(rng, 256*32), make([]float32, 32)
	for b.Loop() {
		ColumnSums(dst, src, 256, 32)
	}
}
