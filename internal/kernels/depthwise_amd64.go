//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useDwAVX512: the AVX-512 depthwise kernels (MobileNetV2's depthwise
// layers on one thread: see docs/benchmarks.md).
var useDwAVX512 = cpu.X86.HasAVX512F

//go:generate go run depthwise_asmgen.go

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
