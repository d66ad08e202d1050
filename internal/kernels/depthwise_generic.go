//go:build !amd64 || purego

package kernels

func dwTaps16AVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32) {
	panic("kernels: no assembly")
}

func dwTaps8AVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32) {
	panic("kernels: no assembly")
}

func dwTapsMaskAVX2(acc, x, w *float32, n, kh, kw, c, sx, rowx int, mask *int32, bias *float32, lo, hi float32) {
	panic("kernels: no assembly")
}

const useDwAVX512 = false

func dwTaps32AVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32) {
	panic("kernels: no assembly")
}

func dwTaps16AVX512(acc, x, w *float32, n, kh, kw, c, sx, rowx int, bias *float32, lo, hi float32) {
	panic("kernels: no assembly")
}

func dwSiLUFused(c int) bool { return false }

func dwTapsSiLU(acc, x, w, bias []float32, n, kh, kw, c, sx, rowx int) {
	panic("kernels: no assembly")
}
