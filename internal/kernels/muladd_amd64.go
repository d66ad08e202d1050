//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useMulAddAVX2 selects the AVX2+FMA loops of muladd_amd64.s and
// requant_amd64.s (the depthwise taps and the quantized epilogue).
var useMulAddAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func mulAddAVX2(acc, x, w *float32, n int)

//go:noescape
func mulAdd3AVX2(acc, x0, x1, x2, w0, w1, w2 *float32, n int)

// The ...Asm wrappers process the largest multiple of 8 values (bounds
// checked here) and return how many; the Go loops finish the rest.

func mulAddAsm(acc, x, w []float32) int {
	n := len(acc) &^ 7
	if !useMulAddAVX2 || n == 0 {
		return 0
	}
	_, _ = x[n-1], w[n-1]
	mulAddAVX2(&acc[0], &x[0], &w[0], n)
	return n
}

func mulAdd3Asm(acc, x0, x1, x2, w0, w1, w2 []float32) int {
	n := len(acc) &^ 7
	if !useMulAddAVX2 || n == 0 {
		return 0
	}
	_, _, _, _, _, _ = x0[n-1], x1[n-1], x2[n-1], w0[n-1], w1[n-1], w2[n-1]
	mulAdd3AVX2(&acc[0], &x0[0], &x1[0], &x2[0], &w0[0], &w1[0], &w2[0], n)
	return n
}
