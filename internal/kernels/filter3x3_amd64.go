//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useFilter3x3AVX2 selects the assembly 3x3 row kernel (AVX2 + FMA).
var useFilter3x3AVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func filterRow3x3AVX2(dst *float32, srcs *[9]*float32, w *[9]float32, n int, mask uint)

// filterRow3x3Asm handles the largest multiple of 8 values of dst (all
// of them when dst is shorter than 8), the used sources checked to cover
// dst, and returns how many.
func filterRow3x3Asm(dst []float32, srcs *[9][]float32, w *[9]float32, mask uint) int {
	n := len(dst) &^ 7
	if !useFilter3x3AVX2 || n == 0 {
		return 0
	}
	var p [9]*float32
	for i, s := range srcs {
		if mask&(1<<i) != 0 {
			p[i] = &s[0]
		}
	}
	filterRow3x3AVX2(&dst[0], &p, w, n, mask)
	if n < len(dst) {
		// The last 8 values again, overlapping: the same sums, so no Go
		// tail whose rounding could differ.
		off := len(dst) - 8
		for i, s := range srcs {
			if mask&(1<<i) != 0 {
				p[i] = &s[off]
			}
		}
		filterRow3x3AVX2(&dst[off], &p, w, 8, mask)
	}
	return len(dst)
}
