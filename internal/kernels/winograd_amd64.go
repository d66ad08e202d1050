//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

var useWinoAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:generate go run winograd_asmgen.go

//go:noescape
func winoInputAVX2(v *float32, vs int, p *float32, ps, c, n int)

//go:noescape
func winoOutputAVX2(y *float32, ys int, m *float32, ms, f, n int)

//go:noescape
func winoGradOutputAVX2(v *float32, vs int, dy *float32, ys, f, n int)

//go:noescape
func sgemmTilesAVX2(m6, n16, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemmTilesBiasAVX2(m6, n16, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, lo, hi float32)

//go:noescape
func sgemmTiles8AVX2(m12, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemmTiles8BiasAVX2(m12, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, lo, hi float32)

//go:noescape
func sgemmTilesTNAVX2(m6, n16, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, rskip, cskip int)

// The ...Asm wrappers transform the first c &^ 7 channels (the callers
// have checked the lengths) and return how many.

func winoInputAsm(v []float32, vs int, p []float32, ps, c, n int) int {
	cb := c &^ 7
	if !useWinoAVX2 || cb == 0 {
		return 0
	}
	for q := 0; q < cb; q += 8 {
		winoInputAVX2(&v[q], vs, &p[q], ps, c, n)
	}
	return cb
}

func winoOutputAsm(y []float32, ys int, m []float32, ms, f, n int) int {
	cb := f &^ 7
	if !useWinoAVX2 || cb == 0 || n == 0 {
		return 0
	}
	for q := 0; q < cb; q += 8 {
		winoOutputAVX2(&y[q], ys, &m[q], ms, f, n)
	}
	return cb
}

func winoGradOutputAsm(v []float32, vs int, dy []float32, ys, f, n int) int {
	cb := f &^ 7
	if !useWinoAVX2 || cb == 0 || n == 0 {
		return 0
	}
	for q := 0; q < cb; q += 8 {
		winoGradOutputAVX2(&v[q], vs, &dy[q], ys, f, n)
	}
	return cb
}

// sgemmPlanesAsm runs SgemmPlanes with sgemmTilesAVX2 when the AVX2 SGEMM
// kernel is the active one (an AVX-512 machine keeps its own kernel) and
// the product has at least one full 6x16 tile. A ragged edge is done by a
// second call on the last 6 rows or 16 columns, which overlap the first
// call's: C is only written, so they are written twice with the same
// values.
func sgemmPlanesAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) bool {
	if !useWinoAVX2 || !tilesKernel(planes) || m < 6 || n < 16 {
		return false
	}
	m6, n16 := m/6, n/16
	for p := range planes {
		cp, ap, bp := c[p*cs:p*cs+m*n], a[p*as:p*as+m*k], b[p*bs:p*bs+k*n]
		sgemmTilesAVX2(m6, n16, k, &ap[0], k, &bp[0], n, &cp[0], n)
		if m%6 != 0 {
			sgemmTilesAVX2(1, n16, k, &ap[(m-6)*k], k, &bp[0], n, &cp[(m-6)*n], n)
		}
		if edge8(m, n) {
			sgemmTiles8AVX2(m/12, k, &ap[0], k, &bp[n-8], n, &cp[n-8], n)
			if m%12 != 0 {
				sgemmTiles8AVX2(1, k, &ap[(m-12)*k], k, &bp[n-8], n, &cp[(m-12)*n+n-8], n)
			}
		} else if n%16 != 0 {
			sgemmTilesAVX2(m6, 1, k, &ap[0], k, &bp[n-16], n, &cp[n-16], n)
			if m%6 != 0 {
				sgemmTilesAVX2(1, 1, k, &ap[(m-6)*k], k, &bp[n-16], n, &cp[(m-6)*n+n-16], n)
			}
		}
	}
	return true
}

// sgemmPlanesTNAsm runs SgemmPlanesTN with sgemmTilesTNAVX2 under the same
// conditions as sgemmPlanesAsm. A ragged edge is a second call on the last
// 6 rows or 16 columns that skips those the first call added to.
func sgemmPlanesTNAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) bool {
	if !useWinoAVX2 || !tilesKernel(planes) || m < 6 || n < 16 {
		return false
	}
	m6, n16, rm, rn := m/6, n/16, m%6, n%16
	for p := range planes {
		cp, ap, bp := c[p*cs:p*cs+m*n], a[p*as:p*as+k*m], b[p*bs:p*bs+k*n]
		sgemmTilesTNAVX2(m6, n16, k, &ap[0], m, &bp[0], n, &cp[0], n, 0, 0)
		if rm != 0 {
			sgemmTilesTNAVX2(1, n16, k, &ap[m-6], m, &bp[0], n, &cp[(m-6)*n], n, 6-rm, 0)
		}
		if rn != 0 {
			sgemmTilesTNAVX2(m6, 1, k, &ap[0], m, &bp[n-16], n, &cp[n-16], n, 0, 16-rn)
			if rm != 0 {
				sgemmTilesTNAVX2(1, 1, k, &ap[m-6], m, &bp[n-16], n, &cp[(m-6)*n+n-16], n, 6-rm, 16-rn)
			}
		}
	}
	return true
}

// edge8 reports whether the columns past the last full 16 fit in the
// last 8, which the 12x8 tiles then cover (at least 12 rows): a width of
// 24, 40 or 72 pays for 8 more columns instead of 16 (MobileNetV2's
// 3136x24x144 projection with its bias, 1 thread, alternated runs: 54-62
// -> 61-69 GFLOP/s).
func edge8(m, n int) bool { return n%16 != 0 && n%16 <= 8 && m >= 12 }

func planesPackedAsm() bool { return useWinoAVX2 && tilesKernel(2) }

// tilesKernel reports whether the AVX2 all-tiles kernels serve a product
// of the given number of planes: under the AVX2 SGEMM kernel always;
// under the AVX-512 one for single products only (the 1x1 convolutions
// whose weights stay in cache: MobileNetV2 on one thread 11.0-11.5 ->
// 7.8-8.1 ms), since its packed GEMM measured faster on Winograd's
// planes (ResNet-18). Tests switch to the Go kernel to check the twins.
func tilesKernel(planes int) bool {
	switch activeKernel.Load() {
	case avx2Kernel:
		return true
	case avx512Kernel:
		return planes == 1
	}
	return false
}

// sgemmPlanesPackedAsm multiplies each plane panel by panel (m >= 6): the
// panel (k x 16) stays in L1 while every row tile passes over it; a
// ragged m takes a second call on the last 6 rows.
func sgemmPlanesPackedAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, np, per int) bool {
	if !planesPackedAsm() {
		return false
	}
	m6 := m / 6
	for p := range planes {
		ap, cp := a[p*as:p*as+m*k], c[p*cs:p*cs+m*n]
		for j := range np {
			col := min(j*planesPanel, n-planesPanel)
			panel := b[p*per+j*k*planesPanel:]
			sgemmTilesAVX2(m6, 1, k, &ap[0], k, &panel[0], planesPanel, &cp[col], n)
			if m%6 != 0 {
				sgemmTilesAVX2(1, 1, k, &ap[(m-6)*k], k, &panel[0], planesPanel, &cp[(m-6)*n+col], n)
			}
		}
	}
	return true
}

// sgemmBiasAsm runs SgemmBiasClamp with sgemmTilesBiasAVX2 under
// sgemmPlanesAsm's conditions, ragged edges as overlapping second calls
// (the bias of the last 16 columns with them).
func sgemmBiasAsm(m, n, k int, c, a, b, bias []float32, lo, hi float32) bool {
	if !useWinoAVX2 || !tilesKernel(1) || m < 6 || n < 16 {
		return false
	}
	m6, n16 := m/6, n/16
	sgemmTilesBiasAVX2(m6, n16, k, &a[0], k, &b[0], n, &c[0], n, &bias[0], lo, hi)
	if m%6 != 0 {
		sgemmTilesBiasAVX2(1, n16, k, &a[(m-6)*k], k, &b[0], n, &c[(m-6)*n], n, &bias[0], lo, hi)
	}
	if edge8(m, n) {
		sgemmTiles8BiasAVX2(m/12, k, &a[0], k, &b[n-8], n, &c[n-8], n, &bias[n-8], lo, hi)
		if m%12 != 0 {
			sgemmTiles8BiasAVX2(1, k, &a[(m-12)*k], k, &b[n-8], n, &c[(m-12)*n+n-8], n, &bias[n-8], lo, hi)
		}
	} else if n%16 != 0 {
		sgemmTilesBiasAVX2(m6, 1, k, &a[0], k, &b[n-16], n, &c[n-16], n, &bias[n-16], lo, hi)
		if m%6 != 0 {
			sgemmTilesBiasAVX2(1, 1, k, &a[(m-6)*k], k, &b[n-16], n, &c[(m-6)*n+n-16], n, &bias[n-16], lo, hi)
		}
	}
	return true
}
