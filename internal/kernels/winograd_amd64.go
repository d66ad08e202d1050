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

// The 12x32 AVX-512 tiles (same bits as the 6x16 ones).
//
//go:noescape
func sgemmTilesAVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemmTilesBiasAVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, lo, hi float32)

// The 12x16 ones.
//
//go:noescape
func sgemmTiles16AVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemmTiles16BiasAVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, lo, hi float32)

// The 32-column tiles with columns 16..31 under a mask (one column tile:
// ncols 1), for a last 17 to 31 columns.
//
//go:noescape
func sgemmTilesMaskAVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, mask uint64)

//go:noescape
func sgemmTilesMaskBiasAVX512(m12, ncols, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, lo, hi float32, mask uint64)

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
	for p := range planes {
		cp, ap, bp := c[p*cs:p*cs+m*n], a[p*as:p*as+m*k], b[p*bs:p*bs+k*n]
		tilesAll(m, n, k, cp, ap, bp, nil, 0, 0)
	}
	return true
}

// use512Tiles: the 12x32 and 12x16 tiles serve products of 12 rows and
// 16 columns or more when the AVX-512 SGEMM kernel is the active one
// (196x96x576 on one thread: 115 GFLOP/s with the 6x16 tiles, 184 with
// these).
func use512Tiles(m, n int) bool {
	return hasAVX512 && activeKernel.Load() == avx512Kernel && m >= 12 && n >= 16
}

// tilesAll computes C = A*B (plus bias, clamped, for a non-nil bias) for
// row-major A (m x k), B (k x n) and C (m x n), m >= 6 and n >= 16: with
// AVX-512 12x32 tiles, then 12x16 ones, a last columns short of 16 as an
// overlapping 12x16 tile; else the 6x16 and 12x8 AVX2 tiles. Ragged rows
// are overlapping calls too (C is only written, and every tile gives the
// same bits).
func tilesAll(m, n, k int, c, a, b, bias []float32, lo, hi float32) {
	if !use512Tiles(m, n) {
		tilesAVX2(m, n, k, a, b, n, c, bias, 0, lo, hi)
		return
	}
	c0 := 0
	if n32 := n / 32; n32 > 0 {
		tiles512(2, n32, m, n, k, c, a, b, bias, 0, 0, lo, hi)
		c0 = 32 * n32
	}
	if r := n - c0; r > 16 {
		// 17 to 31 columns: one masked 32-column tile, one pass over A
		// where two overlapping 16-column tiles read it twice
		// (BenchmarkSgemmBiasClamp/3136x24x144, 1 thread, AMD Zen 5:
		// 128-131 -> 160-176 GFLOP/s).
		tiles512(2, 1, m, n, k, c, a, b, bias, c0, uint64(1)<<(r-16)-1, lo, hi)
		return
	}
	if n-c0 == 16 {
		tiles512(1, 1, m, n, k, c, a, b, bias, c0, 0, lo, hi)
		c0 += 16
	}
	if c0 < n {
		tiles512(1, 1, m, n, k, c, a, b, bias, n-16, 0, lo, hi)
	}
}

// tiles512 runs cols column tiles of 16*nv from column c0 over all m
// rows (the last 12 again when m is not a multiple of 12); a non-zero
// mask (nv 2, one column tile) selects the columns 16..31 that exist.
func tiles512(nv, cols, m, n, k int, c, a, b, bias []float32, c0 int, mask uint64, lo, hi float32) {
	call := func(m12, r0 int) {
		ap, bp, cp := &a[r0*k], &b[c0], &c[r0*n+c0]
		switch {
		case mask != 0 && bias != nil:
			sgemmTilesMaskBiasAVX512(m12, cols, k, ap, k, bp, n, cp, n, &bias[c0], lo, hi, mask)
		case mask != 0:
			sgemmTilesMaskAVX512(m12, cols, k, ap, k, bp, n, cp, n, mask)
		case nv == 2 && bias != nil:
			sgemmTilesBiasAVX512(m12, cols, k, ap, k, bp, n, cp, n, &bias[c0], lo, hi)
		case nv == 2:
			sgemmTilesAVX512(m12, cols, k, ap, k, bp, n, cp, n)
		case bias != nil:
			sgemmTiles16BiasAVX512(m12, cols, k, ap, k, bp, n, cp, n, &bias[c0], lo, hi)
		default:
			sgemmTiles16AVX512(m12, cols, k, ap, k, bp, n, cp, n)
		}
	}
	call(m/12, 0)
	if m%12 != 0 {
		call(1, m-12)
	}
}

// tilesAVX2 is tilesAll's AVX2 part: the w >= 16 columns of B and C that
// start at b[0] and c[0] (row strides ldb = ldc = n), with the bias from
// bias[b0] (none for a nil bias).
func tilesAVX2(m, w, k int, a, b []float32, n int, c, bias []float32, b0 int, lo, hi float32) {
	// t16 runs m6 6-row blocks of n16 column tiles from row r0, column
	// c0; t8 m12 12-row blocks of the 8 columns from c0.
	t16 := func(m6, n16, r0, c0 int) {
		ap, bp, cp := &a[r0*k], &b[c0], &c[r0*n+c0]
		if bias == nil {
			sgemmTilesAVX2(m6, n16, k, ap, k, bp, n, cp, n)
		} else {
			sgemmTilesBiasAVX2(m6, n16, k, ap, k, bp, n, cp, n, &bias[b0+c0], lo, hi)
		}
	}
	t8 := func(m12, r0, c0 int) {
		ap, bp, cp := &a[r0*k], &b[c0], &c[r0*n+c0]
		if bias == nil {
			sgemmTiles8AVX2(m12, k, ap, k, bp, n, cp, n)
		} else {
			sgemmTiles8BiasAVX2(m12, k, ap, k, bp, n, cp, n, &bias[b0+c0], lo, hi)
		}
	}
	m6, n16 := m/6, w/16
	t16(m6, n16, 0, 0)
	if m%6 != 0 {
		t16(1, n16, m-6, 0)
	}
	if edge8(m, w) {
		t8(m/12, 0, w-8)
		if m%12 != 0 {
			t8(1, m-12, w-8)
		}
	} else if w%16 != 0 {
		t16(m6, 1, 0, w-16)
		if m%6 != 0 {
			t16(1, 1, m-6, w-16)
		}
	}
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

func planesPackedAsm() bool { return useWinoAVX2 && tilesKernel(WinoPlanes) }

// tilesKernel reports whether the all-tiles kernels serve a product of
// the given number of planes: under the AVX2 SGEMM kernel always; under
// the AVX-512 one for single products only (the 1x1 convolutions whose
// weights stay in cache: MobileNetV2 on one thread 11.0-11.5 -> 6.3-6.4
// ms), since its packed GEMM measured faster on Winograd's planes
// (ResNet-18 on one thread 29.5-30.0 against 32.0-32.2 ms with the
// tiles). Tests switch to the Go kernel to check the twins.
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
	tilesAll(m, n, k, c, a, b, bias, lo, hi)
	return true
}
