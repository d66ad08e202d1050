package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Machinery shared by the convolutions (Conv2D, DepthwiseConv2D,
// ConvTranspose2D): run-time geometry, unfolding into patches and folding
// back, chunk sizes and the bias/residual/activation epilogue.

// The convolutions split their work over cores (kernels.Threads), each
// core processing its own lines of the output alone: im2col, GEMMs on one
// core (kernels.SgemmSerial), col2im. When the patches of the whole batch
// fit in keepColFloats (16 MB) a training Forward keeps them for Backward;
// otherwise each core unfolds its lines in chunks whose patches fit in
// chunkColFloats (1.6 MB, about a core's L2 cache), so that the GEMMs read
// them while still cached, and Backward unfolds them again, which costs
// less than a round trip through memory.
const (
	keepColFloats  = 4 << 20
	chunkColFloats = 400 << 10
	// convGrainFlops is the least work (multiply-adds counted twice) worth
	// a core of its own: about 20us.
	convGrainFlops = 1 << 20
)

// convGeo is the geometry of one convolution at run time: n images of
// h x w x cin give n outputs of oh x ow x f. Tap (ky, kx) of output pixel
// (oy, ox) reads input pixel (oy*sh - padT + ky*dh, ox*sw - padL + kx*dw);
// pixels outside the image are zero. With groups g, output channel j
// reads the input channels of group j / (f/g) only. A line is one output
// row of the batch, numbered b*oh + oy.
type convGeo struct {
	n, h, w, cin int
	oh, ow, f    int
	kh, kw       int
	sh, sw       int
	dh, dw       int
	padT, padL   int
	groups       int
}

func (g *convGeo) cg() int    { return g.cin / g.groups }
func (g *convGeo) fg() int    { return g.f / g.groups }
func (g *convGeo) kg() int    { return g.kh * g.kw * g.cin / g.groups } // patch length of one group
func (g *convGeo) ktot() int  { return g.kh * g.kw * g.cin }            // patch length, all groups
func (g *convGeo) lines() int { return g.n * g.oh }
func (g *convGeo) inLen() int { return g.h * g.w * g.cin } // one input image

// direct reports a 1x1, stride-1, unpadded, ungrouped convolution: the
// input is its own im2col.
func (g *convGeo) direct() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.groups == 1 &&
		g.padT == 0 && g.padL == 0 && g.oh == g.h && g.ow == g.w
}

// flopsPerLine is the multiply-adds (times two) of one output line.
func (g *convGeo) flopsPerLine() int { return 2 * g.ow * g.kh * g.kw * g.cg() * g.f }

// convParts is how many cores share units of work (lines or images) that
// cost flops each: at least convGrainFlops per core.
func convParts(units, flops int) int {
	grain := max(1, convGrainFlops/max(flops, 1))
	return max(1, min(kernels.Threads(), units/grain, units))
}

// forwardParts is how many parts a forward pass over lines (implicit or
// im2col) splits into, and whether its GEMMs run in parallel instead
// (wide): with fewer lines than 4 a core (7 for a 7x7 layer at batch 1,
// split 4:3) one part whose GEMMs split the filters evenly does better.
func (g *convGeo) forwardParts() (parts int, wide bool) {
	parts = convParts(g.lines(), g.flopsPerLine())
	if parts > 1 && g.lines() < 4*kernels.Threads() && g.groups == 1 {
		return 1, true
	}
	return parts, false
}

// chunkLines is how many output lines a chunk of patches holds (limit:
// chunkColFloats, or the test override).
func (g *convGeo) chunkLines(limit int) int {
	if limit <= 0 {
		limit = chunkColFloats
	}
	return max(1, limit/max(1, g.ow*g.ktot()))
}

// convGemm multiplies on the calling core (kernels.SgemmSerial) when the
// convolution's parts keep every core busy, and with the parallel
// kernels.Sgemm when wide: a pass split by image over fewer images than
// cores (batch-1 training, a transposed convolution's inference), whose
// parts would leave cores idle.
func convGemm(wide, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if wide {
		kernels.Sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernels.SgemmSerial(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// clampOf returns the clamp an activation is, if it is one: none
// (-Inf, +Inf), ReLU (0, +Inf) or a clip such as ReLU6; kernels apply it
// as they store their sums.
func clampOf(a Act) (lo, hi float32, ok bool) {
	switch a.Kind {
	case "":
		return float32(math.Inf(-1)), float32(math.Inf(1)), true
	case "relu":
		return 0, float32(math.Inf(1)), true
	case "clip":
		return a.Min, a.Max, true
	}
	return 0, 0, false
}

// convGemmW is convGemm of a by rows [p0, p0+k) of a kernel w of n
// columns, read from its packed copy pw when there is one.
func convGemmW(wide bool, m, n, k int, a []float32, lda int, w []float32, pw *kernels.PackedB, p0 int, beta float32, c []float32, ldc int) {
	switch {
	case pw == nil:
		convGemm(wide, false, false, m, n, k, a, lda, w[p0*n:], n, beta, c, ldc)
	case wide:
		kernels.SgemmPacked(m, k, a, lda, pw, p0, beta, c, ldc)
	default:
		kernels.SgemmPackedSerial(m, k, a, lda, pw, p0, beta, c, ldc)
	}
}

// convAxis resolves one spatial axis of a convolution: the output size
// and the padding before it, for an input of size in (-1: unknown, which
// gives -1) and a kernel of k taps dilated by d.
func convAxis(in, k, s, d int, p Padding, vertical bool) (out, lo int, err error) {
	if k < 1 || s < 1 || d < 1 {
		return 0, 0, fmt.Errorf("kernel %d, stride %d and dilation %d must be >= 1", k, s, d)
	}
	ke := (k-1)*d + 1
	if in < 0 {
		if _, _, err := p.resolve(ke, ke, s, vertical); err != nil {
			return 0, 0, err
		}
		return -1, 0, nil
	}
	return convGeometry(in, ke, s, p, vertical)
}

// unfold writes the patches of output lines [r0, r1) of the images x into
// dst: one row of kg() values per output pixel, taps ordered (ky, kx,
// channel of the group), the rows of group gi starting at dst[gi*gs:].
// Multiplying group gi's rows by the kernel rows of its filters gives
// their outputs.
func (g *convGeo) unfold(dst []float32, gs int, x []float32, r0, r1 int) {
	if g.groups > 1 {
		unfoldGrouped(g, dst, gs, x, r0, r1)
		return
	}
	k, img := g.ktot(), g.inLen()
	for r := r0; r < r1; {
		b, oy, nl := g.segment(r, r1)
		kg := g.kernelsGeom(oy, nl)
		kg.Im2col(dst[(r-r0)*g.ow*k:], x[b*img:(b+kg.N)*img])
		r += nl
	}
}

// fold is the adjoint of unfold: it adds every patch value of src back
// onto the pixel of dx it was read from (values on padding are dropped).
// dx is accumulated into.
func (g *convGeo) fold(dx, src []float32, gs int, r0, r1 int) {
	if g.groups > 1 {
		foldGrouped(g, dx, src, gs, r0, r1)
		return
	}
	k, img := g.ktot(), g.inLen()
	for r := r0; r < r1; {
		b, oy, nl := g.segment(r, r1)
		kg := g.kernelsGeom(oy, nl)
		kg.Col2im(dx[b*img:(b+kg.N)*img], src[(r-r0)*g.ow*k:])
		r += nl
	}
}

// segment splits lines [r, r1) at image boundaries: it returns the image
// b and row oy of line r and how many lines from r to take together,
// whole images when r starts one (one Im2col call over several images),
// else the rest of the image.
func (g *convGeo) segment(r, r1 int) (b, oy, nl int) {
	b, oy = r/g.oh, r%g.oh
	if oy == 0 && r1-r >= g.oh {
		return b, 0, (r1 - r) / g.oh * g.oh
	}
	return b, oy, min(r1-r, g.oh-oy)
}

// kernelsGeom is the kernels.ConvGeom of nl lines starting at row oy of
// an image (whole images when oy is 0 and nl a multiple of oh): the
// padding above line oy is what is left of padT (negative inside the
// image), so the lines unfold as an image of their own.
func (g *convGeo) kernelsGeom(oy, nl int) kernels.ConvGeom {
	n, oh := 1, nl
	if oy == 0 && nl%g.oh == 0 {
		n, oh = nl/g.oh, g.oh
	}
	return kernels.ConvGeom{N: n, H: g.h, W: g.w, C: g.cin, KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw,
		DH: g.dh, DW: g.dw, PadTop: g.padT - oy*g.sh, PadLeft: g.padL, OH: oh, OW: g.ow}
}

// unfoldGrouped is unfold for grouped convolutions, whose patches
// kernels.Im2col does not lay out: every tap is a copy of the group's
// channels of one pixel.
func unfoldGrouped(g *convGeo, dst []float32, gs int, x []float32, r0, r1 int) {
	cg, kg, img := g.cg(), g.kg(), g.inLen()
	for r := r0; r < r1; r++ {
		b, oy := r/g.oh, r%g.oh
		src := x[b*img : (b+1)*img]
		for ox := 0; ox < g.ow; ox++ {
			q := ((r-r0)*g.ow + ox) * kg
			ix0 := ox*g.sw - g.padL
			for gi := 0; gi < g.groups; gi++ {
				out := dst[gi*gs+q : gi*gs+q+kg]
				c0 := gi * cg
				for ky := 0; ky < g.kh; ky++ {
					o := out[ky*g.kw*cg : (ky+1)*g.kw*cg]
					iy := oy*g.sh - g.padT + ky*g.dh
					if iy < 0 || iy >= g.h {
						clear(o)
						continue
					}
					row := src[iy*g.w*g.cin : (iy+1)*g.w*g.cin]
					for kx := 0; kx < g.kw; kx++ {
						t := o[kx*cg : (kx+1)*cg]
						ix := ix0 + kx*g.dw
						if ix < 0 || ix >= g.w {
							clear(t)
							continue
						}
						p := row[ix*g.cin+c0 : ix*g.cin+c0+cg]
						if cg == 1 {
							t[0] = p[0]
						} else {
							copy(t, p)
						}
					}
				}
			}
		}
	}
}

// foldGrouped is the adjoint of unfoldGrouped.
func foldGrouped(g *convGeo, dx, src []float32, gs int, r0, r1 int) {
	cg, kg, img := g.cg(), g.kg(), g.inLen()
	for r := r0; r < r1; r++ {
		b, oy := r/g.oh, r%g.oh
		dimg := dx[b*img : (b+1)*img]
		for ox := 0; ox < g.ow; ox++ {
			q := ((r-r0)*g.ow + ox) * kg
			ix0 := ox*g.sw - g.padL
			for gi := 0; gi < g.groups; gi++ {
				in := src[gi*gs+q : gi*gs+q+kg]
				c0 := gi * cg
				for ky := 0; ky < g.kh; ky++ {
					iy := oy*g.sh - g.padT + ky*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					row := dimg[iy*g.w*g.cin : (iy+1)*g.w*g.cin]
					for kx := 0; kx < g.kw; kx++ {
						ix := ix0 + kx*g.dw
						if ix < 0 || ix >= g.w {
							continue
						}
						addSmall(row[ix*g.cin+c0:ix*g.cin+c0+cg], in[(ky*g.kw+kx)*cg:(ky*g.kw+kx+1)*cg])
					}
				}
			}
		}
	}
}

// addSmall sets dst[i] += src[i]; kernels.Add's call costs more than a
// loop below one vector.
func addSmall(dst, src []float32) {
	if len(dst) >= 8 {
		kernels.Add(dst, src[:len(dst)])
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// convEpilogue finishes output rows while they are still in cache: it
// adds res (the same rows of the residual input; nil without one) and the
// bias (tile: the bias repeated over a multiple of len(bias) values; nil
// without a bias), then applies act. out holds whole pixels. ReLU fuses
// with the bias add (kernels.AddRelu) and clip (ReLU6) runs vectorised;
// the other activations take Act.Apply's loops.
func convEpilogue(out, res, bias, tile []float32, act Act) {
	if res != nil {
		kernels.Add(out, res[:len(out)])
	}
	relu, clip := act.Kind == "relu", act.Kind == "clip"
	if bias != nil {
		// The bias with the activation in one pass where a kernel fuses
		// them (ReLU, and clips such as ReLU6).
		add := func(dst, b []float32) {
			switch {
			case relu:
				kernels.AddRelu(dst, b)
			case clip:
				kernels.AddClip(dst, b, act.Min, act.Max)
			default:
				kernels.Add(dst, b)
			}
		}
		f := len(bias)
		full := len(out) / len(tile) * len(tile)
		for i := 0; i < full; i += len(tile) {
			add(out[i:i+len(tile)], tile)
		}
		for r := full; r < len(out); r += f {
			add(out[r:r+f], bias)
		}
		if clip {
			return
		}
	} else if relu {
		kernels.Relu(out, out)
	}
	switch act.Kind {
	case "", "relu":
	case "clip":
		kernels.Clip(out, out, act.Min, act.Max)
	default:
		act.Apply(out)
	}
}

// biasTiles sets out = act(a w + bias) for row-major a (m x k) and w
// (k x n) with kernels.SgemmBiasClamp: the bias, and an activation that
// is a clamp (ReLU, ReLU6), in the tile's registers; another activation
// (SiLU, hard swish) after, on out while it is in cache.
func biasTiles(m, n, k int, out, a, w, bias []float32, act Act) {
	lo, hi, ok := clampOf(act)
	if !ok {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	kernels.SgemmBiasClamp(m, n, k, out, a, w, bias, lo, hi)
	if !ok {
		convEpilogue(out, nil, nil, nil, act)
	}
}

// biasTile returns bias repeated over a multiple of its length
// (sumBlock) in *buf, grown as needed: the epilogue's bias rows
// (convEpilogue); nil without a bias.
func biasTile(buf *[]float32, bias []float32) []float32 {
	if bias == nil {
		return nil
	}
	*buf = grow(*buf, sumBlock(len(bias)))
	for j := range *buf {
		(*buf)[j] = bias[j%len(bias)]
	}
	return *buf
}

// grow returns buf with length n, reallocating only when its capacity is
// short (the contents are then unspecified).
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// convActGrad computes g = dy * act'(y) over all cores with the task t
// (kept in the op's state, so it does not allocate).
func convActGrad(t *actTask, act Act, g, dy, y []float32) {
	*t = actTask{a: act, grad: true, dst: g, x: y, dy: dy}
	kernels.Parallel(len(g), ewGrain, t)
	*t = actTask{}
}

// convCheckAct reports an activation a convolution cannot train with: its
// derivative must follow from the output (Act.FromOutput), since the
// pre-activation values are never stored.
func convCheckAct(kind string, a Act) error {
	if a.Kind != "" && !a.FromOutput() {
		return fmt.Errorf("%s: fused activation %s has no derivative from its output; Backward is not supported (inference only)", kind, a)
	}
	return nil
}

// directTilesMax is the largest 1x1 kernel (Cin*F values: 256 KB) that the
// direct path multiplies with kernels.SgemmPlanes' all-tiles kernel, which
// reads the kernel in place once per 6 rows of pixels.
const directTilesMax = 64 << 10
