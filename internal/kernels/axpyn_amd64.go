//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useAxpyNAVX2 selects the assembly row kernel (AVX2 + FMA, 8 floats a step).
var useAxpyNAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyNAVX2(o *float32, srcs *[]float32, ws *float32, ntaps, n int, set bool)

// axpyNAsm handles the largest multiple of 8 values of dst for 1 to
// axpyNGroup sources, each checked to cover dst, and returns how many.
func axpyNAsm(dst []float32, ws []float32, srcs [][]float32, set bool) int {
	n := len(dst) &^ 7
	if !useAxpyNAVX2 || n == 0 {
		return 0
	}
	axpyNAVX2(&dst[0], &srcs[0], &ws[0], len(srcs), n, set)
	return n
}
