//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useFilter3x3AVX2 selects the assembly 3x3 row kernel (AVX2 + FMA).
var useFilter3x3AVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func filterRow3x3AVX2(dst *float32, srcs *[9]*float32, w *[9]float32, n int)

// filterRow3x3Asm handles the largest multiple of 8 values of dst, the
// sources checked to cover dst, and returns how many.
func filterRow3x3Asm(dst []float32, srcs *[9][]float32, w *[9]float32) int {
	n := len(dst) &^ 7
	if !useFilter3x3AVX2 || n == 0 {
		return 0
	}
	var p [9]*float32
	for i, s := range srcs {
		p[i] = &s[0]
	}
	filterRow3x3AVX2(&dst[0], &p, w, n)
	return n
}
