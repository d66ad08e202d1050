//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useDwAVX512: the AVX-512 depthwise kernels (MobileNetV2's depthwise
// layers on one thread: see docs/benchmarks.md).
var useDwAVX512 = cpu.X86.HasAVX512F

//go:generate go run depthwise_asmgen.go silu_asmgen.go

// The depthwise interior kernels of depthwise_amd64.s (depthwise_asmgen.go),
// chosen with the MulAdd loops' CPU check (useMulAddAVX2).

//go:noescape
func dwTaps16AVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

//go:noescape
func dwTaps8AVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

//go:noescape
func dwTapsMaskAVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, mask *int32, bias *float32, lo, hi float32)

// The AVX-512 versions (32 and 16 channels a call), same bits.
//
//go:noescape
func dwTaps32AVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

//go:noescape
func dwTaps16AVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

// The AVX-512 versions with SiLU applied to the sums in the registers, in
// the steps of siluAVX512 (sigmoid_amd64.s: the same bits as SiLU after
// dwTaps32AVX512 or dwTaps16AVX512); lo and hi are not used.
//
//go:noescape
func dwTaps32SiLUAVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

//go:noescape
func dwTaps16SiLUAVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32)

// dwSiLUFused reports whether the depthwise kernels apply SiLU to c
// channels in their registers (AVX-512, a multiple of 16 channels).
func dwSiLUFused(c int) bool { return useDwAVX512 && c%16 == 0 }

// dwTapsSiLU is dwTaps followed by SiLU for a count of channels
// dwSiLUFused accepts.
func dwTapsSiLU(acc, x, w, bias []float32, n, kh, kw, c, sx, rowx int) {
	if !tapsArgs(acc, x, w, bias, n, kh, kw, c, sx, rowx) {
		return
	}
	ch := 0
	for ; ch+32 <= c; ch += 32 {
		dwTaps32SiLUAVX512(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], 0, 0)
	}
	if ch < c {
		dwTaps16SiLUAVX512(&acc[ch], &x[ch], &w[ch], n, kh, kw, c, sx, rowx, &bias[ch], 0, 0)
	}
}
