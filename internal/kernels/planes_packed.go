package kernels

// Winograd's transformed kernel U (16 planes of Cin x F) read in place
// strides by a row of F floats per multiply-add step; with F a multiple
// of 512 those rows fall into a few cache sets, and every 6-row tile of
// the product re-reads the whole plane from memory. A frozen graph packs
// U once into panels of 16 columns per plane (PackPlanes); then each
// panel stays in L1 while every row tile of the plane multiplies it.

// planesPanel is the panel width: the AVX2 tile's 16 columns.
const planesPanel = 16

// PlanesPackedSupported reports whether planes of n columns can be
// packed (n >= 16) and SgemmPlanesPacked runs its fast kernel on them now
// (the AVX2 SGEMM kernel active, as SgemmPlanes needs): a caller packs
// only then.
func PlanesPackedSupported(n int) bool { return n >= planesPanel && planesPackedAsm() }

// planesPanels is the number of panels of a plane of n >= 16 columns:
// the full ones, and one more of the last 16 columns for a ragged n.
func planesPanels(n int) int { return (n + planesPanel - 1) / planesPanel }

// PackPlanesLen is the length of planes planes of k x n packed.
func PackPlanesLen(planes, k, n int) int { return planes * planesPanels(n) * k * planesPanel }

// PackPlanes packs planes planes of k x n (plane p at b[p*bs:], rows of
// n) into dst (PackPlanesLen long) for SgemmPlanesPacked: per plane, the
// panels of 16 columns, k rows each; for a ragged n the last panel holds
// the last 16 columns (overlapping the one before). n must be at least
// 16.
func PackPlanes(dst []float32, planes, k, n int, b []float32, bs int) {
	if n < planesPanel {
		panic("kernels.PackPlanes: fewer than 16 columns")
	}
	np := planesPanels(n)
	per := np * k * planesPanel
	_ = dst[planes*per-1]
	// Rows in blocks that every panel takes its part of while they are in
	// L1, as PackB does.
	for p := range planes {
		src := b[p*bs : p*bs+k*n]
		for r0 := 0; r0 < k; r0 += packRowBlock {
			r1 := min(r0+packRowBlock, k)
			for j := range np {
				col := min(j*planesPanel, n-planesPanel)
				d := dst[p*per+j*k*planesPanel : p*per+(j+1)*k*planesPanel]
				for r := r0; r < r1; r++ {
					*(*[planesPanel]float32)(d[r*planesPanel:]) = *(*[planesPanel]float32)(src[r*n+col:])
				}
			}
		}
	}
}

// SgemmPlanesPacked is SgemmPlanes with the B planes packed by PackPlanes
// (n >= 16): C_p (m x n) at c[p*cs:] = A_p (m x k) at a[p*as:] times
// B_p. With the fast kernel unavailable, or fewer than 6 rows, it runs a
// Go loop over the panels.
func SgemmPlanesPacked(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32) {
	if planes <= 0 || m <= 0 {
		return
	}
	if n < planesPanel {
		panic("kernels.SgemmPlanesPacked: fewer than 16 columns")
	}
	np := planesPanels(n)
	per := np * k * planesPanel
	last := planes - 1
	if k <= 0 || len(a) < last*as+m*k || len(b) < planes*per || len(c) < last*cs+m*n {
		if k <= 0 {
			for p := range planes {
				clear(c[p*cs : p*cs+m*n])
			}
			return
		}
		panic("kernels.SgemmPlanesPacked: operands shorter than their shapes")
	}
	if m >= 6 && sgemmPlanesPackedAsm(planes, m, n, k, c, cs, a, as, b, np, per) {
		return
	}
	for p := range planes {
		ap, bp, cp := a[p*as:p*as+m*k], b[p*per:(p+1)*per], c[p*cs:p*cs+m*n]
		for j := range np {
			col := min(j*planesPanel, n-planesPanel)
			panel := bp[j*k*planesPanel : (j+1)*k*planesPanel]
			for i := range m {
				var acc [planesPanel]float32
				for q, av := range ap[i*k : (i+1)*k] {
					row := panel[q*planesPanel : (q+1)*planesPanel]
					for jj := range acc {
						acc[jj] += av * row[jj]
					}
				}
				copy(cp[i*n+col:i*n+col+planesPanel], acc[:])
			}
		}
	}
}
