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
