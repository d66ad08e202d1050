//go:build !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The assembly kernels (generated into gemm_amd64.s by gemm_asmgen.go).
// Col variants read A(r, p) at a[r + p*astride], Row variants at
// a[r*astride + p].

// The 14- and 7-row forms prefetch pf (laid out as b: the next B panel,
// or b itself) into L2 as they read b.
//
//go:noescape
func sgemmKernelAVX512Col(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr int, nmask uint32, pf *float32)

//go:noescape
func sgemmKernelAVX512Row(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr int, nmask uint32, pf *float32)

// The 7-row forms, for tiles of at most 7 rows, and the one-row form
// (Col1) of packedRow.
//
//go:noescape
func sgemmKernelAVX512Col1(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr int, nmask uint32)

//go:noescape
func sgemmKernelAVX512Col7(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr int, nmask uint32, pf *float32)

//go:noescape
func sgemmKernelAVX512Row7(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr int, nmask uint32, pf *float32)

//go:noescape
func packAPanelAVX512(dst, a *float32, lda, kc int, rowmask uint32)

//go:noescape
func sgemmKernelAVX2Col(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernelAVX2Row(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

// The 6x8 halves, for a last column tile of 8 (see gemm_asmgen.go).
//
//go:noescape
func sgemmKernelAVX2Col8(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernelAVX2Row8(k int, a *float32, astride int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32)

//go:generate go run gemm_asmgen.go

func registerArchKernels() {
	// x/sys/cpu reports AVX2 / AVX-512 only when the OS saves the wide
	// registers (XCR0), so these checks are sufficient.
	if cpu.X86.HasAVX512F {
		registerKernel(avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		registerKernel(avx2Kernel)
	}
}

// checkA panics (like an index expression) unless the full mr x k panel of
// A at the given strides lies inside a. Either rs or ks is 1.
func checkA(a []float32, rs, ks, mr, k int) {
	_ = a[(mr-1)*rs+(k-1)*ks]
}

var avx512Kernel = &gemmKernel{
	name: "avx512", mr: 14, nr: 32, kc: 256, mc: 14 * 12, nc: 512,
	row1: func(k int, a, b, c []float32, alpha, beta float32, nr int) {
		_, _, _ = a[k-1], b[(k-1)*32+31], c[nr-1]
		sgemmKernelAVX512Col1(k, &a[0], 1, &b[0], 32, &c[0], 0, alpha, beta, 1, uint32(1<<nr-1))
	},
	fn: func(k int, a []float32, rs, ks int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, mr, nr int, pf []float32) {
		// The kernel reads all 14 rows of A (the caller passes real or
		// zero-padded rows), 32 values of each of the k rows of b, and writes only C[0:mr, 0:nr].
		checkA(a, rs, ks, 14, k)
		_ = b[(k-1)*bs+31]
		_ = c[(mr-1)*ldc+nr-1]
		mask := uint32(1<<nr - 1)
		pfp := &b[0]
		if pf != nil {
			_ = pf[(k-1)*bs+31]
			pfp = &pf[0]
		}
		switch {
		case mr <= 7 && rs == 1:
			sgemmKernelAVX512Col7(k, &a[0], ks, &b[0], bs, &c[0], ldc, alpha, beta, mr, mask, pfp)
		case mr <= 7:
			sgemmKernelAVX512Row7(k, &a[0], rs, &b[0], bs, &c[0], ldc, alpha, beta, mr, mask, pfp)
		case rs == 1:
			sgemmKernelAVX512Col(k, &a[0], ks, &b[0], bs, &c[0], ldc, alpha, beta, mr, mask, pfp)
		default:
			sgemmKernelAVX512Row(k, &a[0], rs, &b[0], bs, &c[0], ldc, alpha, beta, mr, mask, pfp)
		}
	},
	packRows: func(dst, a []float32, lda, kc, rows int) {
		_ = dst[14*kc-1]
		_ = a[(rows-1)*lda+kc-1]
		if 13*lda >= 1<<31 { // gather indexes are int32
			packRowsGo(dst, a, lda, kc, rows, 14)
			return
		}
		packAPanelAVX512(&dst[0], &a[0], lda, kc, uint32(1<<rows-1))
	},
}

var avx2Kernel = &gemmKernel{
	name: "avx2", mr: 6, nr: 16, kc: 256, mc: 6 * 24, nc: 512,
	fn: func(k int, a []float32, rs, ks int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, mr, nr int, pf []float32) {
		checkA(a, rs, ks, 6, k)
		_ = b[(k-1)*bs+15]
		if mr == 6 && nr == 8 {
			_ = c[5*ldc+7]
			if rs == 1 {
				sgemmKernelAVX2Col8(k, &a[0], ks, &b[0], bs, unsafe.SliceData(c), ldc, alpha, beta)
			} else {
				sgemmKernelAVX2Row8(k, &a[0], rs, &b[0], bs, unsafe.SliceData(c), ldc, alpha, beta)
			}
			return
		}
		if mr != 6 || nr != 16 {
			avx2EdgeTile(k, a, rs, ks, b, bs, c, ldc, alpha, beta, mr, nr)
			return
		}
		_ = c[5*ldc+15]
		if rs == 1 {
			sgemmKernelAVX2Col(k, &a[0], ks, &b[0], bs, unsafe.SliceData(c), ldc, alpha, beta)
		} else {
			sgemmKernelAVX2Row(k, &a[0], rs, &b[0], bs, unsafe.SliceData(c), ldc, alpha, beta)
		}
	},
	packRows:     packRows6,
	overlapEdges: true,
}

// avx2EdgeTile computes an edge tile (mr < 6 rows or nr < 16 columns)
// into a scratch tile and stores its part of C. A function of its own so
// that full tiles (most of them, and with a short depth most of the time)
// do not clear the scratch at every call.
func avx2EdgeTile(k int, a []float32, rs, ks int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	var t [6 * 16]float32
	if rs == 1 {
		sgemmKernelAVX2Col(k, &a[0], ks, &b[0], bs, &t[0], 16, 1, 0)
	} else {
		sgemmKernelAVX2Row(k, &a[0], rs, &b[0], bs, &t[0], 16, 1, 0)
	}
	storeTile(t[:], 16, c, ldc, alpha, beta, mr, nr)
}

// packRows6 packs rows (<= 6) rows of A for the AVX2 kernel: six full
// rows walk together, one store of six per k step (packRowsGo's row at a
// time writes every sixth value).
func packRows6(dst, a []float32, lda, kc, rows int) {
	if rows < 6 {
		packRowsGo(dst, a, lda, kc, rows, 6)
		return
	}
	a0 := a[:kc]
	a1 := a[lda : lda+kc][:len(a0)]
	a2 := a[2*lda : 2*lda+kc][:len(a0)]
	a3 := a[3*lda : 3*lda+kc][:len(a0)]
	a4 := a[4*lda : 4*lda+kc][:len(a0)]
	a5 := a[5*lda : 5*lda+kc][:len(a0)]
	d := dst[:6*len(a0)]
	for p, v := range a0 {
		dp := d[p*6 : p*6+6 : p*6+6]
		dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = v, a1[p], a2[p], a3[p], a4[p], a5[p]
	}
}
