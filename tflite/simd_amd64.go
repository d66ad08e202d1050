//go:build amd64 && !purego

package tflite

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly loops for the depthwise multiply-add and
// the requantization epilogue; the Go loops stay as the fallback.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func requantAVX2(v, b, s []float32, lo, hi float32)

//go:noescape
func mac3AVX2(acc, x0, x1, x2, w0, w1, w2 []float32)

func mac3(acc, x0, x1, x2, w0, w1, w2 []float32) {
	n := len(acc) &^ 7
	if useAVX2 && n > 0 {
		_, _, _, _, _, _ = x0[n-1], x1[n-1], x2[n-1], w0[n-1], w1[n-1], w2[n-1]
		mac3AVX2(acc[:n], x0[:n], x1[:n], x2[:n], w0[:n], w1[:n], w2[:n])
		if n == len(acc) {
			return
		}
		acc, x0, x1, x2, w0, w1, w2 = acc[n:], x0[n:], x1[n:], x2[n:], w0[n:], w1[n:], w2[n:]
	}
	mac3Go(acc, x0, x1, x2, w0, w1, w2)
}

func requant(v, b, s []float32, lo, hi float32) {
	n := len(v) &^ 7
	if useAVX2 && n > 0 {
		_, _ = b[n-1], s[n-1]
		requantAVX2(v[:n], b[:n], s[:n], lo, hi)
		if n == len(v) {
			return
		}
		v, b, s = v[n:], b[n:], s[n:]
	}
	requantGo(v, b, s, lo, hi)
}
