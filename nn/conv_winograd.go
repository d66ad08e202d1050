package nn

import "github.com/dlcv-go/dlcv/internal/kernels"

// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (kernels/winograd.go):
// each 2x2 tile of outputs costs 16 multiplications per channel pair
// instead of 36. The output is cut into tiles, tile row q = b*th + ty
// covering output lines 2ty and 2ty+1 of image b (th = ceil(OH/2) tile
// rows of tw = ceil(OW/2) tiles). A chunk of tile rows is computed in
// three steps while its data stays in cache:
//
//  1. the input rows the chunk reads are copied with their padding into P
//     (as the implicit GEMM does, with room for the last tile's pixels),
//     and every tile's 4x4 pixels are transformed: V, 16 planes of
//     tiles x Cin;
//  2. 16 products M_ξ = V_ξ U_ξ with the transformed kernel U (16 planes
//     of Cin x F, computed once per call);
//  3. M is transformed back onto the output, which then gets the bias,
//     residual and activation.
//
// The input gradient is a convolution of the same kind (dxGeom) and runs
// the same way with the flipped kernel. The weight gradient is the
// adjoint, Winograd F(3x3, 2x2): per chunk the input tiles are
// transformed as above and the 2x2 tiles of dY by A dY A^T, and the 16
// products V_ξ^T dỸ_ξ (Cin x F, as deep as the chunk has tiles) are
// summed over the chunks, to be transformed into dW once per part.

// winoChunkFloats bounds V and M of one chunk (192 KB): with the
// transformed kernel (up to 256 KB for 64 x 64 channels) they stay in a
// 512 KB L2 cache.
const winoChunkFloats = 48 << 10

// winoMinFilters is the least number of filters for the Winograd path
// (it also needs the implicit path's depth, 3*Cin >= implicitMinDepth):
// with fewer, the products are too narrow to pay for the transforms.
const winoMinFilters = 8

// winoMinTiles is the least number of output tiles (over the batch) for
// the Winograd path. Its kernel is transformed at every call (weights may
// have changed), which reads 9 and writes 16 values per channel pair, most
// of it from memory for wide layers, while each tile saves 20 multiply-
// adds per pair: ResNet-18's 512-channel 7x7 layers at batch 1 (16 tiles)
// spent twice as long in the transform as the implicit GEMM takes whole.
// A variable so that tests can take the path on small shapes.
var winoMinTiles = 64

// winoMinTilesFrozen is winoMinTiles where the transformed kernel is made
// once (a frozen graph, nn.Graph.SetFrozen). ResNet-18's 14x14x256 layers
// at batch 1 (49 tiles), one thread: AVX2 kernel 3.85 -> 3.25 ms; AVX-512
// kernel on an AMD Zen 5 host 1.27 -> 0.75-0.84 ms (the network 17.2 ->
// 16.0 ms). On an Intel AVX-512 host the implicit GEMM measured the
// faster one there (the network 27.5-28.5 against 30.4-32.2 ms). Its
// 7x7x512 layers (16 tiles, 16 planes of 512x512 to read) stay below
// the bound: 4.7 -> 7.7 ms with AVX2, 1.70-1.75 -> 2.06-2.20 ms on Zen 5.
const winoMinTilesFrozen = 36

// winogradOn turns the Winograd path on (benchmarks compare it with the
// implicit GEMM by turning it off).
var winogradOn = true

// winograd reports whether g runs as Winograd F(2x2, 3x3).
func (g *convGeo) winograd() bool { return g.winogradFor(false) }

// winogradFor is winograd for a forward pass whose transformed kernel is
// made once (frozen) or at every call.
func (g *convGeo) winogradFor(frozen bool) bool {
	if !winogradOn || g.kh != 3 || g.kw != 3 || !g.implicit() || g.f < winoMinFilters {
		return false
	}
	th, tw := g.winoTiles()
	least := winoMinTiles
	if frozen {
		least = winoMinTilesFrozen
	}
	return g.n*th*tw >= least
}

// winoTiles returns the tile rows per image and tiles per tile row.
func (g *convGeo) winoTiles() (th, tw int) { return (g.oh + 1) / 2, (g.ow + 1) / 2 }

// winoRows is how many tile rows a chunk holds: its V and M fit in
// winoChunkFloats (or the test override), but a chunk has at least
// winoMinChunkTiles tiles, two rows of the AVX2 micro-kernel: with fewer
// than its 6 rows the plane products fall back to edge tiles (ResNet-18's
// 7x7x512 layers at batch 32, one tile row of 4 tiles a chunk, spent half
// the network's time there).
func (g *convGeo) winoRows(limit int) int {
	if limit <= 0 {
		limit = winoChunkFloats
	}
	_, tw := g.winoTiles()
	return max(1, limit/(kernels.WinoPlanes*tw*(g.cin+g.f)), (winoMinChunkTiles+tw-1)/tw)
}

const winoMinChunkTiles = 12

// winoBuf is the scratch of one chunk of rows tile rows: V, M and P.
func (g *convGeo) winoBuf(rows int) int {
	th, tw := g.winoTiles()
	t := rows * tw
	vs, ms := kernels.WinoPlaneStride(t*g.cin), kernels.WinoPlaneStride(t*g.f)
	return kernels.WinoPlanes*(vs+ms) + (2*min(rows, th)+2)*(2*tw+2)*g.cin
}

// winoWeights writes the transformed kernel of w (3, 3, Cin, F) into u.
func (g *convGeo) winoWeights(u, w []float32) []float32 {
	u = grow(u, kernels.WinoPlanes*g.cin*g.f)
	kernels.WinoWeights(u, w, g.cin, g.f)
	return u
}

// winoFill copies into p the input rows that tile rows [ty, ty+n) of
// image img read: 2n+2 rows of 2tw+2 pixels from row 2ty-padT and column
// -padL, zero outside the image.
func (g *convGeo) winoFill(p, img []float32, ty, n, tw int) {
	pw := (2*tw + 2) * g.cin
	rowIn, left := g.w*g.cin, g.padL*g.cin
	for r := range 2*n + 2 {
		dst := p[r*pw : (r+1)*pw]
		iy := 2*ty + r - g.padT
		if iy < 0 || iy >= g.h {
			clear(dst)
			continue
		}
		clear(dst[:left])
		n := copy(dst[left:], img[iy*rowIn:(iy+1)*rowIn])
		clear(dst[left+n:])
	}
}

// winoForward computes tile rows [q0, q1) of the convolution of x by the
// transformed kernel u (its planes packed when uPacked) into y, finishing the lines with the bias (tile),
// residual and activation, in chunks of rows tile rows whose buffers are
// taken from buf.
func (g *convGeo) winoForward(buf, x, u []float32, uPacked bool, y, res, bias, tile []float32, act Act, q0, q1, rows int) {
	th, tw := g.winoTiles()
	cin, f := g.cin, g.f
	img, pw := g.inLen(), (2*tw+2)*cin
	for c0 := q0; c0 < q1; c0 += rows {
		c1 := min(c0+rows, q1)
		t := (c1 - c0) * tw
		vs, ms := kernels.WinoPlaneStride(t*cin), kernels.WinoPlaneStride(t*f)
		v := buf[:kernels.WinoPlanes*vs]
		m := buf[len(v) : len(v)+kernels.WinoPlanes*ms]
		p := buf[len(v)+len(m):]
		for q := c0; q < c1; {
			b, ty := q/th, q%th
			n := min(c1-q, th-ty)
			g.winoFill(p, x[b*img:(b+1)*img], ty, n, tw)
			for r := range n {
				kernels.WinoInput(v[(q-c0+r)*tw*cin:], vs, p[2*r*pw:], pw, cin, tw)
			}
			q += n
		}
		if uPacked {
			kernels.SgemmPlanesPacked(kernels.WinoPlanes, t, f, cin, m, ms, v, vs, u)
		} else {
			kernels.SgemmPlanes(kernels.WinoPlanes, t, f, cin, m, ms, v, vs, u, cin*f)
		}
		rowOut := g.ow * f
		for q := c0; q < c1; q++ {
			b, ty := q/th, q%th
			line := b*g.oh + 2*ty
			kernels.WinoOutput(y[line*rowOut:], rowOut, m[(q-c0)*tw*f:], ms, f, tw, min(2, g.oh-2*ty), g.ow)
		}
		// The chunk's lines are contiguous in y (and in the residual).
		l0 := c0/th*g.oh + 2*(c0%th)
		l1 := (c1-1)/th*g.oh + min(2*((c1-1)%th)+2, g.oh)
		var rs []float32
		if res != nil {
			rs = res[l0*rowOut:]
		}
		convEpilogue(y[l0*rowOut:l1*rowOut], rs, bias, tile, act)
	}
}

// winoWeightGrad adds to dw (3, 3, Cin, F) the weight gradient of tile
// rows [q0, q1) of the convolution of x, given dy, in chunks of rows tile
// rows whose buffers are taken from buf; acc (16 planes of Cin x F)
// holds the transformed sums.
func (g *convGeo) winoWeightGrad(buf, acc, x, dy, dw []float32, q0, q1, rows int) {
	th, tw := g.winoTiles()
	cin, f := g.cin, g.f
	img, pw := g.inLen(), (2*tw+2)*cin
	rowOut := g.ow * f
	clear(acc)
	for c0 := q0; c0 < q1; c0 += rows {
		c1 := min(c0+rows, q1)
		t := (c1 - c0) * tw
		vs, gs := kernels.WinoPlaneStride(t*cin), kernels.WinoPlaneStride(t*f)
		v := buf[:kernels.WinoPlanes*vs]
		gy := buf[len(v) : len(v)+kernels.WinoPlanes*gs]
		p := buf[len(v)+len(gy):]
		for q := c0; q < c1; {
			b, ty := q/th, q%th
			n := min(c1-q, th-ty)
			g.winoFill(p, x[b*img:(b+1)*img], ty, n, tw)
			for r := range n {
				kernels.WinoInput(v[(q-c0+r)*tw*cin:], vs, p[2*r*pw:], pw, cin, tw)
			}
			q += n
		}
		for q := c0; q < c1; q++ {
			b, ty := q/th, q%th
			line := b*g.oh + 2*ty
			kernels.WinoGradOutput(gy[(q-c0)*tw*f:], gs, dy[line*rowOut:], rowOut, f, tw, min(2, g.oh-2*ty), g.ow)
		}
		kernels.SgemmPlanesTN(kernels.WinoPlanes, cin, f, t, acc, cin*f, v, vs, gy, gs)
	}
	kernels.WinoWeightGrad(dw, acc, cin, f)
}
