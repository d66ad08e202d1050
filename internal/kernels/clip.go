package kernels

import "fmt"

// Clip sets dst[i] = min(max(src[i], lo), hi): ReLU6 (0, 6) and the other
// clipped activations, which the convolutions apply to their output rows
// while the rows are in cache. NaN stays NaN; the sign of a zero result is
// not specified (as Relu's). dst and src may be the same slice.
func Clip(dst, src []float32, lo, hi float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels.Clip: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	done := clipAsm(dst, src, lo, hi)
	clipGo(dst[done:], src[done:], lo, hi)
}

func clipGo(dst, src []float32, lo, hi float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = min(max(v, lo), hi)
	}
}
