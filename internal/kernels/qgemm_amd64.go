//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useQVNNI: the kernels with int8 and int16 dot products (vpdpbusd,
// vpdpwssd: AVX-512 VNNI). useQAVX512: the byte kernels without them
// (requantization rows, row sums, quantization, strided copies, pool
// sums), which need AVX-512BW's byte masks and vpsadbw.
var useQVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

var useQAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

//go:generate go run qgemm_asmgen.go

//go:noescape
func qgemm12VNNI(a *byte, lda int, b *byte, quads, panels int, c *int32, ldc int)

//go:noescape
func qgemm4VNNI(a *byte, lda int, b *byte, quads, panels int, c *int32, ldc int)

//go:noescape
func qgemm1VNNI(a *byte, lda int, b *byte, quads, panels int, c *int32, ldc int)

//go:noescape
func qgemm12RqVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func qgemm12RqAddVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func qgemm4RqVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func qgemm4RqAddVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func qgemm1RqVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func qgemm1RqAddVNNI(a *byte, lda int, b *byte, quads, panels int, dst *byte, ldd int, bias *int32, scale *float32, adds *int32, lo, hi float32, zp int32, mask uint32)

//go:noescape
func requantRowU8AVX512(dst *byte, acc, bias *int32, scale *float32, n int, add int32, lo, hi float32, zp int32)

//go:noescape
func requantRowF32AVX512(dst *float32, acc, bias *int32, scale *float32, n int, add int32, lo, hi float32)

//go:noescape
func rowSumsU8AVX512(sums *int32, a *byte, lda, k, m int)

// qBlock is the number of rows the next kernel call takes of the m left:
// 12, then 4, then 1 at a time.
func qBlock(m int) int {
	switch {
	case m >= 12:
		return 12
	case m >= 4:
		return 4
	}
	return 1
}

// gemmQRows computes m rows of GemmQ, each readable in whole quads.
func gemmQRows(m int, a []byte, lda int, b *PackedQ, c []int32, ldc int) {
	if !useQVNNI {
		gemmQRowsGo(m, a, lda, b, c, ldc)
		return
	}
	for r := 0; r < m; {
		n := qBlock(m - r)
		_ = a[(r+n-1)*lda+4*b.quads-1]
		_ = c[(r+n-1)*ldc+b.Cols()-1]
		f := qgemm1VNNI
		switch n {
		case 12:
			f = qgemm12VNNI
		case 4:
			f = qgemm4VNNI
		}
		f(&a[r*lda], lda, &b.data[0], b.quads, b.panels, &c[r*ldc], ldc)
		r += n
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

func rowSumsU8Arch(sums []int32, a []byte, lda, k, m int) bool {
	if !useQAVX512 || m <= 0 || k <= 0 {
		return false
	}
	_ = sums[m-1]
	_ = a[(m-1)*lda+k-1]
	rowSumsU8AVX512(&sums[0], &a[0], lda, k, m)
	return true
}

//go:noescape
func dwRowQAVX512(acc *int32, x *byte, xstride, tapstride int, w *int32, n, c, kw int)

func dwRowQArch(acc []int32, x []byte, xstride, tapstride int, w []int32, n, c, kw int) bool {
	if !useQVNNI || c%16 != 0 {
		return false
	}
	dwRowQAVX512(&acc[0], &x[0], xstride, tapstride, &w[0], n, c, kw)
	return true
}

// gemmQBytesRows is GemmQBytes on m rows, each readable in whole quads;
// false without the instructions.
func gemmQBytesRows(m int, a []byte, lda int, b *PackedQ, dst []byte, ldd int, r *QRequant, adds []int32) bool {
	if !useQVNNI {
		return false
	}
	if m <= 0 {
		return true
	}
	cols := b.Cols()
	_, _ = r.Bias[cols-1], r.Scale[cols-1]
	mask := uint32(1)<<(b.N-(b.panels-1)*QPanel) - 1
	if b.N%QPanel == 0 {
		mask = ^uint32(0)
	}
	var zero [qRows]int32
	for r0 := 0; r0 < m; {
		n := qBlock(m - r0)
		_ = a[(r0+n-1)*lda+4*b.quads-1]
		_ = dst[(r0+n-1)*ldd+b.N-1]
		add := &zero[0]
		if adds != nil {
			_ = adds[r0+n-1]
			add = &adds[r0]
		}
		f := qgemm1RqVNNI
		switch {
		case n == 12 && adds != nil:
			f = qgemm12RqAddVNNI
		case n == 12:
			f = qgemm12RqVNNI
		case n == 4 && adds != nil:
			f = qgemm4RqAddVNNI
		case n == 4:
			f = qgemm4RqVNNI
		case adds != nil:
			f = qgemm1RqAddVNNI
		}
		f(&a[r0*lda], lda, &b.data[0], b.quads, b.panels, &dst[r0*ldd], ldd, &r.Bias[0], &r.Scale[0], add, r.Lo, r.Hi, r.ZP, mask)
		r0 += n
	}
	return true
}

//go:noescape
func dwRqAVX512(dst *byte, dstride int, x *byte, xstride int, offs *int, w *int32, n, c, taps int, bias *int32, scale *float32, lo, hi float32, zp int32)

func dwQBytesArch(dst []byte, dstride int, x []byte, xstride int, offs []int, w []int32, n, c int, r *QRequant) bool {
	if !useQVNNI || c&15 != 0 {
		return false
	}
	dwRqAVX512(&dst[0], dstride, &x[0], xstride, &offs[0], &w[0], n, c, len(offs), &r.Bias[0], &r.Scale[0], r.Lo, r.Hi, r.ZP)
	return true
}

//go:noescape
func quantizeU8AVX512(dst *byte, x *float32, n int, scale float32, zp, qmin, qmax, shift int32)

func quantizeU8Arch(dst []byte, x []float32, scale float32, zp, qmin, qmax, shift int32) int {
	n := len(x) &^ 15
	if !useQAVX512 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	quantizeU8AVX512(&dst[0], &x[0], n, scale, zp, qmin, qmax, shift)
	return n
}

//go:noescape
func copyStridedU8AVX512(dst *byte, dstride int, src *byte, sstride, span, n int)

func copyStridedArch(dst []byte, dstride int, src []byte, sstride, span, n int) bool {
	if !useQAVX512 || span > 64 {
		return false
	}
	copyStridedU8AVX512(&dst[0], dstride, &src[0], sstride, span, n)
	return true
}

//go:noescape
func addU8AVX512(acc *int32, x *byte, n int)

//go:noescape
func maxU8AVX512(acc *int32, x *byte, n int)

func accumulateU8Arch(acc []int32, x []byte, isMax bool) int {
	n := len(x) &^ 15
	if !useQAVX512 || n == 0 {
		return 0
	}
	_ = acc[n-1]
	if isMax {
		maxU8AVX512(&acc[0], &x[0], n)
	} else {
		addU8AVX512(&acc[0], &x[0], n)
	}
	return n
}

//go:noescape
func dwRq3x8AVX512(dst, x *byte, rowstride int, w *int32, groups, c, kh int, bias *int32, scale *float32, lo, hi float32, zp int32)

//go:noescape
func dwRq3x4AVX512(dst, x *byte, rowstride int, w *int32, groups, c, kh int, bias *int32, scale *float32, lo, hi float32, zp int32)

// dwQBytes3Arch does the first pixels of DwQBytes3, 8 then 4 at a time,
// and returns how many.
func dwQBytes3Arch(dst, x []byte, rowstride int, w []int32, n, c, kh int, r *QRequant) int {
	if !useQVNNI || c&15 != 0 {
		return 0
	}
	done := 0
	if g := n / 8; g > 0 {
		dwRq3x8AVX512(&dst[0], &x[0], rowstride, &w[0], g, c, kh, &r.Bias[0], &r.Scale[0], r.Lo, r.Hi, r.ZP)
		done = 8 * g
	}
	if n-done >= 4 {
		dwRq3x4AVX512(&dst[done*c], &x[done*c], rowstride, &w[0], 1, c, kh, &r.Bias[0], &r.Scale[0], r.Lo, r.Hi, r.ZP)
		done += 4
	}
	return done
}
