package kernels

import (
	"fmt"
	"testing"
)

func TestTranspose(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {1, 37}, {37, 1}, {3, 50}, {3, 8}, {3, 7}, {3, 1001}, {4, 17}, {5, 3}, {8, 8}, {8, 71}, {9, 200}, {16, 16}, {17, 33}, {24, 70}, {64, 3}, {100, 129}} {
		rows, cols := sz[0], sz[1]
		for _, pad := range []int{0, 3} {
			lds, ldd := cols+pad, rows+2*pad
			src := make([]float32, rows*lds)
			for i := range src {
				src[i] = float32(i) + 0.5
			}
			dst := make([]float32, cols*ldd)
			for i := range dst {
				dst[i] = -1
			}
			Transpose(dst, ldd, src, lds, rows, cols)
			for j := range cols {
				for i := range ldd {
					want := float32(-1)
					if i < rows {
						want = src[i*lds+j]
					}
					if got := dst[j*ldd+i]; got != want {
						t.Fatalf("%dx%d pad %d: dst[%d][%d] = %v, want %v", rows, cols, pad, j, i, got, want)
					}
				}
			}
		}
	}
}

func BenchmarkTranspose(b *testing.B) {
	for _, sz := range [][2]int{{3, 224 * 224}, {64, 56 * 56}, {56 * 56, 64}, {512, 512}} {
		rows, cols := sz[0], sz[1]
		src := make([]float32, rows*cols)
		dst := make([]float32, rows*cols)
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			b.SetBytes(int64(8 * rows * cols))
			for b.Loop() {
				Transpose(dst, rows, src, cols, rows, cols)
			}
		})
	}
}
