package kernels

import "fmt"

// Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016) for 3x3 stride-1 convolutions over NHWC data:
// every 2x2 block of outputs (a tile) is computed from the 4x4 block of
// inputs it reads as
//
//	Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//
// with
//
//	B^T = | 1  0 -1  0 |   G = | 1    0    0  |   A^T = | 1  1  1  0 |
//	      | 0  1  1  0 |       | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
//	      | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
//	      | 0  1  0 -1 |       | 0    0    1  |
//
// so a tile costs 16 multiplications per (input, output) channel pair
// where the direct convolution costs 36. Summed over the input channels,
// the element-wise products become 16 matrix products, one per position
// ξ of the 4x4 transformed tile: M_ξ (tiles x F) = V_ξ (tiles x Cin) x
// U_ξ (Cin x F). The data live in planes: V[ξ*vs + t*c + ch] is
// position ξ of tile t's transformed input, channel ch.
//
// The weight gradient is the adjoint: dW = G^T [ sum over tiles of
// (A dY A^T) ⊙ (B^T d B) ] G, 16 products V_ξ^T (Cin x tiles) x
// dỸ_ξ (tiles x F) with the same input transform.
//
// The transforms add and subtract only (G's halves are exact), so each
// transformed value is a sum of at most 4 (B^T d B: rows of two ±1
// terms, twice) or 9 (A^T M A) terms. See docs/benchmarks.md for the
// error bound.
//
// The kernels here are the transforms and the batched small GEMM; AVX2
// versions handle channels in blocks of 8 (the Go loops, which compute
// the same operations in the same order, the rest), so they give the
// same bits as the Go code, the GEMM aside.

// WinoPlanes is the number of positions of a transformed tile.
const WinoPlanes = 16

// WinoPlaneStride returns a plane stride (floats) for planes of n values:
// n rounded up to an odd number of 64-byte lines. The 16 values a
// transform reads or writes for one tile are one plane stride apart; with
// a stride of a multiple of 2 KB they would all fall into one or two sets
// of the L1 cache, which holds 8 lines per set.
func WinoPlaneStride(n int) int {
	lines := (n + 15) / 16
	return (lines | 1) * 16
}

// WinoWeights writes u, 16 planes of cin x f values (plane ξ at
// u[ξ*cin*f:]), the transformed kernel G g G^T of w (3, 3, cin, f).
//
// It works in blocks of channel pairs copied in and out whole: the 9
// input and 16 output planes lie cin*f values apart (1 MB for 512 x 512
// channels), so walking all 25 at once, a value from each, maps them to
// one set of the L1 cache and misses on almost every access (85 ns a
// channel pair, most of a ResNet-18 batch-1 inference).
//
// The blocks are split over the pool: the transform runs at every call,
// before the parallel products, and at batch 1 it would otherwise hold
// the other cores idle.
func WinoWeights(u, w []float32, cin, f int) {
	n := cin * f
	if len(w) < 9*n || len(u) < WinoPlanes*n {
		panic(fmt.Sprintf("kernels.WinoWeights: %d weights, %d outputs for %d x %d channels", len(w), len(u), cin, f))
	}
	blocks := (n + winoBlk - 1) / winoBlk
	if Threads() == 1 || blocks < 2*winoGrain {
		winoWeightBlocks(u, w, n, 0, blocks)
		return
	}
	j := winoJobs.Get()
	j.u, j.w, j.n = u, w, n
	Parallel(blocks, winoGrain, j)
	j.u, j.w = nil, nil
	winoJobs.Put(j)
}

// winoBlk is WinoWeights' block of channel pairs; winoGrain blocks (about
// 20us) are the least worth another core.
const winoBlk, winoGrain = 128, 16

// winoWeightsJob is one parallel WinoWeights, kept on a freeList.
type winoWeightsJob struct {
	u, w []float32
	n    int
}

var winoJobs FreeList[winoWeightsJob]

func (j *winoWeightsJob) Run(lo, hi int) { winoWeightBlocks(j.u, j.w, j.n, lo, hi) }

// winoWeightBlocks transforms blocks [b0, b1) of winoBlk channel pairs.
func winoWeightBlocks(u, w []float32, n, b0, b1 int) {
	var g [9][winoBlk]float32
	var o [WinoPlanes][winoBlk]float32
	for e0 := b0 * winoBlk; e0 < min(n, b1*winoBlk); e0 += winoBlk {
		m := min(winoBlk, n-e0)
		for k := range 9 {
			copy(g[k][:m], w[k*n+e0:k*n+e0+m])
		}
		for e := range m {
			// h = G g (4 x 3), then h G^T (4 x 4).
			var h [4][3]float32
			for kx := range 3 {
				g0, g1, g2 := g[kx][e], g[3+kx][e], g[6+kx][e]
				h[0][kx] = g0
				h[1][kx] = (g0 + g1 + g2) * 0.5
				h[2][kx] = (g0 - g1 + g2) * 0.5
				h[3][kx] = g2
			}
			for i := range 4 {
				r := h[i]
				o[4*i+0][e] = r[0]
				o[4*i+1][e] = (r[0] + r[1] + r[2]) * 0.5
				o[4*i+2][e] = (r[0] - r[1] + r[2]) * 0.5
				o[4*i+3][e] = r[2]
			}
		}
		for p := range WinoPlanes {
			copy(u[p*n+e0:p*n+e0+m], o[p][:m])
		}
	}
}

// WinoInput transforms n tiles of one row of tiles: tile t reads the 4x4
// pixels p[r*ps + (2t+j)*c + ch] (rows r, columns j < 4; c channels per
// pixel, ps floats per row) and writes B^T d B to v[ξ*vs + t*c + ch].
func WinoInput(v []float32, vs int, p []float32, ps, c, n int) {
	if n <= 0 {
		return
	}
	if c <= 0 || len(p) < 3*ps+(2*n+2)*c || len(v) < 15*vs+n*c || vs < n*c {
		panic(fmt.Sprintf("kernels.WinoInput: %d tiles of %d channels: input %d (row %d), planes %d (stride %d)", n, c, len(p), ps, len(v), vs))
	}
	done := winoInputAsm(v, vs, p, ps, c, n)
	winoInputGo(v, vs, p, ps, c, n, done)
}

// winoInputGo transforms channels [c0, c) of n tiles.
func winoInputGo(v []float32, vs int, p []float32, ps, c, n, c0 int) {
	for t := range n {
		for ch := c0; ch < c; ch++ {
			var d [4][4]float32
			for r := range 4 {
				row := p[r*ps+2*t*c+ch:]
				d[r] = [4]float32{row[0], row[c], row[2*c], row[3*c]}
			}
			var tt [4][4]float32 // B^T d
			for j := range 4 {
				tt[0][j] = d[0][j] - d[2][j]
				tt[1][j] = d[1][j] + d[2][j]
				tt[2][j] = d[2][j] - d[1][j]
				tt[3][j] = d[1][j] - d[3][j]
			}
			o := v[t*c+ch:]
			for i := range 4 {
				r := tt[i]
				o[(4*i+0)*vs] = r[0] - r[2]
				o[(4*i+1)*vs] = r[1] + r[2]
				o[(4*i+2)*vs] = r[2] - r[1]
				o[(4*i+3)*vs] = r[1] - r[3]
			}
		}
	}
}

// WinoOutput writes the outputs of n tiles of one row of tiles: tile t
// reads m[ξ*ms + t*f + ch] and writes A^T M A to the pixels
// y[r*ys + (2t+j)*f + ch] for rows r < rows (1 or 2) and pixels 2t+j <
// cols (cols in (2n-2, 2n]).
func WinoOutput(y []float32, ys int, m []float32, ms, f, n, rows, cols int) {
	if n <= 0 {
		return
	}
	if f <= 0 || rows < 1 || rows > 2 || cols <= 2*n-2 || cols > 2*n || len(m) < 15*ms+n*f || ms < n*f ||
		len(y) < (rows-1)*ys+cols*f {
		panic(fmt.Sprintf("kernels.WinoOutput: %d tiles of %d channels, %d rows of %d pixels: output %d (row %d), planes %d (stride %d)",
			n, f, rows, cols, len(y), ys, len(m), ms))
	}
	full := 0 // tiles done whole by the assembly
	if rows == 2 {
		full = cols / 2
	}
	done := winoOutputAsm(y, ys, m, ms, f, full)
	winoOutputGo(y, ys, m, ms, f, 0, full, 2, 2*full, done, f)
	winoOutputGo(y, ys, m, ms, f, full, n, rows, cols, 0, f)
}

// winoOutputGo writes channels [c0, c1) of tiles [t0, t1).
func winoOutputGo(y []float32, ys int, m []float32, ms, f, t0, t1, rows, cols, c0, c1 int) {
	for t := t0; t < t1; t++ {
		for ch := c0; ch < c1; ch++ {
			in := m[t*f+ch:]
			var s [2][4]float32 // A^T M
			for j := range 4 {
				m0, m1, m2, m3 := in[j*ms], in[(4+j)*ms], in[(8+j)*ms], in[(12+j)*ms]
				s[0][j] = m0 + m1 + m2
				s[1][j] = m1 - m2 - m3
			}
			for r := range rows {
				q := s[r]
				out := y[r*ys+2*t*f+ch:]
				out[0] = q[0] + q[1] + q[2]
				if 2*t+1 < cols {
					out[f] = q[1] - q[2] - q[3]
				}
			}
		}
	}
}

// WinoGradOutput transforms n 2x2 tiles of an output gradient: tile t
// reads dy[r*ys + (2t+j)*f + ch] for rows r < rows (1 or 2) and pixels
// 2t+j < cols (cols in (2n-2, 2n]; the others count as zero) and writes
// A dy A^T to v[ξ*vs + t*f + ch].
func WinoGradOutput(v []float32, vs int, dy []float32, ys, f, n, rows, cols int) {
	if n <= 0 {
		return
	}
	if f <= 0 || rows < 1 || rows > 2 || cols <= 2*n-2 || cols > 2*n || len(v) < 15*vs+n*f || vs < n*f ||
		len(dy) < (rows-1)*ys+cols*f {
		panic(fmt.Sprintf("kernels.WinoGradOutput: %d tiles of %d channels, %d rows of %d pixels: gradient %d (row %d), planes %d (stride %d)",
			n, f, rows, cols, len(dy), ys, len(v), vs))
	}
	full := 0
	if rows == 2 {
		full = cols / 2
	}
	done := winoGradOutputAsm(v, vs, dy, ys, f, full)
	winoGradOutputGo(v, vs, dy, ys, f, 0, full, 2, 2*full, done, f)
	winoGradOutputGo(v, vs, dy, ys, f, full, n, rows, cols, 0, f)
}

// winoGradOutputGo transforms channels [c0, c1) of tiles [t0, t1).
func winoGradOutputGo(v []float32, vs int, dy []float32, ys, f, t0, t1, rows, cols, c0, c1 int) {
	for t := t0; t < t1; t++ {
		for ch := c0; ch < c1; ch++ {
			var d [2][2]float32
			for r := range rows {
				in := dy[r*ys+2*t*f+ch:]
				d[r][0] = in[0]
				if 2*t+1 < cols {
					d[r][1] = in[f]
				}
			}
			var e [4][2]float32 // A dy
			for j := range 2 {
				e[0][j] = d[0][j]
				e[1][j] = d[0][j] + d[1][j]
				e[2][j] = d[0][j] - d[1][j]
				e[3][j] = -d[1][j]
			}
			o := v[t*f+ch:]
			for i := range 4 {
				o[(4*i+0)*vs] = e[i][0]
				o[(4*i+1)*vs] = e[i][0] + e[i][1]
				o[(4*i+2)*vs] = e[i][0] - e[i][1]
				o[(4*i+3)*vs] = -e[i][1]
			}
		}
	}
}

// WinoWeightGrad adds G^T M G to dw (3, 3, cin, f) for m, 16 planes of
// cin x f values (plane ξ at m[ξ*cin*f:]): the weight gradient from the
// transformed sums.
func WinoWeightGrad(dw, m []float32, cin, f int) {
	n := cin * f
	if len(dw) < 9*n || len(m) < WinoPlanes*n {
		panic(fmt.Sprintf("kernels.WinoWeightGrad: %d gradients, %d sums for %d x %d channels", len(dw), len(m), cin, f))
	}
	for e := range n {
		var h [3][4]float32 // G^T M
		for j := range 4 {
			m0, m1, m2, m3 := m[j*n+e], m[(4+j)*n+e], m[(8+j)*n+e], m[(12+j)*n+e]
			h[0][j] = m0 + (m1+m2)*0.5
			h[1][j] = (m1 - m2) * 0.5
			h[2][j] = (m1+m2)*0.5 + m3
		}
		for ky := range 3 {
			r := h[ky]
			dw[(ky*3+0)*n+e] += r[0] + (r[1]+r[2])*0.5
			dw[(ky*3+1)*n+e] += (r[1] - r[2]) * 0.5
			dw[(ky*3+2)*n+e] += (r[1]+r[2])*0.5 + r[3]
		}
	}
}

// SgemmPlanes computes, for each of planes planes p, the product
// C_p = A_p B_p of row-major matrices without strides of their own:
// C_p (m x n) at c[p*cs:], A_p (m x k) at a[p*as:], B_p (k x n) at
// b[p*bs:]. C is written, not accumulated. It is the Winograd
// convolution's batch of small products (k and n are channel counts), on
// the calling goroutine.
func SgemmPlanes(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) {
	if planes <= 0 || m <= 0 || n <= 0 {
		return
	}
	if k <= 0 {
		for p := range planes {
			clear(c[p*cs : p*cs+m*n])
		}
		return
	}
	last := planes - 1
	if len(a) < last*as+m*k || len(b) < last*bs+k*n || len(c) < last*cs+m*n {
		panic(fmt.Sprintf("kernels.SgemmPlanes: %d planes of %dx%dx%d: lengths c %d, a %d, b %d (strides %d, %d, %d)",
			planes, m, n, k, len(c), len(a), len(b), cs, as, bs))
	}
	if sgemmPlanesAsm(planes, m, n, k, c, cs, a, as, b, bs) {
		return
	}
	for p := range planes {
		SgemmSerial(false, false, m, n, k, 1, a[p*as:], k, b[p*bs:], n, 0, c[p*cs:], n)
	}
}

// SgemmBiasClamp sets C = clamp(A B + bias, lo, hi) for row-major A (m x
// k), B (k x n) and C (m x n) without strides of their own, bias per
// column, on the calling goroutine: a 1x1 convolution whose weights stay
// in cache, with its bias and a fused ReLU or ReLU6 added in the tile's
// registers instead of a pass over the output (-Inf and +Inf for no
// clamp). The sums are SgemmPlanes', the bias added after them, so the
// bits are those of the product followed by the epilogue; a NaN stays
// NaN.
func SgemmBiasClamp(m, n, k int, c, a, b, bias []float32, lo, hi float32) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(a) < m*k || len(b) < k*n || len(c) < m*n || len(bias) < n {
		panic(fmt.Sprintf("kernels.SgemmBiasClamp: %dx%dx%d: lengths c %d, a %d, b %d, bias %d", m, n, k, len(c), len(a), len(b), len(bias)))
	}
	if k > 0 && sgemmBiasAsm(m, n, k, c, a, b, bias, lo, hi) {
		return
	}
	SgemmPlanes(1, m, n, k, c, 0, a, 0, b, 0)
	bias = bias[:n]
	for i := range m {
		row := c[i*n : (i+1)*n]
		for j, v := range row {
			row[j] = min(max(v+bias[j], lo), hi)
		}
	}
}

// SgemmPlanesTN adds, for each of planes planes p, the product
// C_p += A_p^T B_p to row-major matrices without strides of their own:
// C_p (m x n) at c[p*cs:], A_p (k x m) at a[p*as:], B_p (k x n) at
// b[p*bs:]. It is the Winograd weight gradient's batch of products
// (V_ξ^T dỸ_ξ, depth the tiles of a chunk), on the calling goroutine.
func SgemmPlanesTN(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) {
	if planes <= 0 || m <= 0 || n <= 0 || k <= 0 {
		return
	}
	last := planes - 1
	if len(a) < last*as+k*m || len(b) < last*bs+k*n || len(c) < last*cs+m*n {
		panic(fmt.Sprintf("kernels.SgemmPlanesTN: %d planes of %dx%dx%d: lengths c %d, a %d, b %d (strides %d, %d, %d)",
			planes, m, n, k, len(c), len(a), len(b), cs, as, bs))
	}
	if sgemmPlanesTNAsm(planes, m, n, k, c, cs, a, as, b, bs) {
		return
	}
	for p := range planes {
		SgemmSerial(true, false, m, n, k, 1, a[p*as:], m, b[p*bs:], n, 1, c[p*cs:], n)
	}
}
