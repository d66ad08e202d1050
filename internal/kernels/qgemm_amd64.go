//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useQVNNI: the integer GEMM's vpdpbusd (AVX-512 VNNI) and the byte
// requantization's vpmovusdb and vpsadbw (AVX-512BW).
var useQVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

var useQAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

//go:generate go run qgemm_asmgen.go

//go:noescape
func qgemm12VNNI(a *byte, lda int, b *byte, quads, panels int, c *int32, ldc int)

//go:noescape
func requantRowU8AVX512(dst *byte, acc, bias *int32, scale *float32, n int, add int32, lo, hi float32, zp int32)

//go:noescape
func requantRowF32AVX512(dst *float32, acc, bias *int32, scale *float32, n int, add int32, lo, hi float32)

//go:noescape
func sumU8AVX512(a *byte, n int) int64

// gemmQRows computes m rows (a multiple of qRows, each readable in whole
// quads) of GemmQ.
func gemmQRows(m int, a []byte, lda int, b *PackedQ, c []int32, ldc int) {
	if !useQVNNI {
		gemmQRowsGo(m, a, lda, b, c, ldc)
		return
	}
	for r := 0; r < m; r += qRows {
		_ = a[(r+qRows-1)*lda+4*b.quads-1]
		_ = c[(r+qRows-1)*ldc+b.Cols()-1]
		qgemm12VNNI(&a[r*lda], lda, &b.data[0], b.quads, b.panels, &c[r*ldc], ldc)
	}
}

func requantRowU8Arch(dst []byte, acc, bias []int32, scale []float32, add int32, lo, hi float32, zp int32) int {
	n := len(dst) &^ 15
	if !useQAVX512 || n == 0 {
		return 0
	}
	requantRowU8AVX512(&dst[0], &acc[0], &bias[0], &scale[0], n, add, lo, hi, zp)
	return n
}

func requantRowF32Arch(dst []float32, acc, bias []int32, scale []float32, add int32, lo, hi float32) int {
	n := len(dst) &^ 15
	if !useQAVX512 || n == 0 {
		return 0
	}
	requantRowF32AVX512(&dst[0], &acc[0], &bias[0], &scale[0], n, add, lo, hi)
	return n
}

func sumU8(a []byte) int32 {
	n := len(a) &^ 63
	var s int64
	if useQAVX512 && n > 0 {
		s = sumU8AVX512(&a[0], n)
	}
	for _, v := range a[n:] {
		s += int64(v)
	}
	return int32(s)
}

//go:noescape
func dwRowQAVX512(acc *int32, x *byte, xstride, tapstride int, w *int32, n, c, kw int)

// DwRowQ adds kw taps of a depthwise convolution on bytes to n pixels of
// int32 accumulators: acc[p*c+ch] += sum_t x[p*xstride+t*tapstride+ch] *
// int16(w[t*c+ch]) (the weights are int16 in the low halves of int32).
func DwRowQ(acc []int32, x []byte, xstride, tapstride int, w []int32, n, c, kw int) {
	if n <= 0 || kw <= 0 || c <= 0 {
		return
	}
	_ = acc[n*c-1]
	_ = x[(n-1)*xstride+(kw-1)*tapstride+c-1]
	_ = w[kw*c-1]
	if cb := c &^ 15; useQVNNI && cb == c {
		dwRowQAVX512(&acc[0], &x[0], xstride, tapstride, &w[0], n, c, kw)
		return
	}
	dwRowQGo(acc, x, xstride, tapstride, w, n, c, kw)
}
