package nn

import "github.com/dlcv-go/dlcv/internal/kernels"

// Implicit GEMM for stride-1, undilated, ungrouped convolutions: no
// patches are written. The input rows a chunk of output rows reads are
// copied once into a buffer P with their padding, Wp = OW+KW-1 pixels
// wide. Output pixel (oy, ox) then reads, for kernel row ky, the KW*Cin
// contiguous values of P starting at pixel (oy+ky)*Wp + ox: so numbering
// the output pixels m = oy*Wp + ox (the KW-1 pixels past OW on each row
// are computed and thrown away), the values output m reads for row ky are
// row m of a matrix stored at P[ky*Wp*Cin:] with a row stride of Cin,
// rows overlapping. One GEMM per kernel row, reading P in place:
//
//	Y[m, :] += P_ky[m, :] (KW*Cin) x W[ky] (KW*Cin x F)
//
// computes the convolution with KH GEMMs of depth KW*Cin and a 1x copy of
// the input, where im2col writes and reads KH*KW copies. The weight
// gradient is the same matrices transposed, dW[ky] += P_ky^T dY, and the
// input gradient is itself such a convolution (dxGeom).

// implicitMinDepth is the least GEMM depth (KW*Cin) worth the implicit
// path: below it (RGB inputs, one-channel images) the GEMMs are too
// shallow and im2col's single deep GEMM is faster.
const implicitMinDepth = 32

// implicitMaxKW is the widest kernel the implicit path takes. Wider ones
// go to im2col: KH accumulating GEMMs of depth KW*Cin over OW+KW-1
// columns lose to one GEMM of depth KH*KW*Cin there (LeNet's 5x5
// convolutions: a training step 20% faster on im2col, 1 thread). A
// variable so that the tests still cover the implicit code on wide
// kernels.
var implicitMaxKW = 3

// implicit reports whether g runs as implicit GEMMs.
func (g *convGeo) implicit() bool {
	return g.groups == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
		!g.direct() && g.kw*g.cin >= implicitMinDepth && g.padT >= 0 && g.padL >= 0 &&
		g.kw <= implicitMaxKW
}

// implicitMinWidthPacked is the least output width at which a forward
// pass with packed weights (a frozen graph) takes the implicit path:
// narrower rows waste KW-1 of every Wp pixels (2 of 9 at 7x7), and
// im2col's single deep GEMM ran ResNet-18's 7x7x512 layers at batch 1 in
// 3.9-4.2 ms against 4.6-4.7 (1 thread).
const implicitMinWidthPacked = 8

// wp is the width of P: OW + KW - 1 pixels.
func (g *convGeo) wp() int { return g.ow + g.kw - 1 }

// implicitLines is how many output lines one chunk holds: its P and its
// staged output fit in chunkColFloats (or the test override).
func (g *convGeo) implicitLines(limit int) int {
	if limit <= 0 {
		limit = chunkColFloats
	}
	per := g.wp() * (g.cin + g.f)
	return max(1, min(g.oh, (limit-(g.kh-1)*g.wp()*g.cin)/per))
}

// implicitBuf is the scratch of one chunk of l lines: P, then the staged
// output (or output gradient).
func (g *convGeo) implicitBuf(l int) int {
	return (l+g.kh-1)*g.wp()*g.cin + l*g.wp()*g.f
}

// fillP copies the padded input rows that output rows [oy0, oy0+nl) of
// image img read into p: nl+KH-1 rows of Wp pixels.
func (g *convGeo) fillP(p, img []float32, oy0, nl int) {
	rowIn, rowP := g.w*g.cin, g.wp()*g.cin
	left := g.padL * g.cin
	for r := range nl + g.kh - 1 {
		dst := p[r*rowP : (r+1)*rowP]
		iy := oy0 + r - g.padT
		if iy < 0 || iy >= g.h {
			clear(dst)
			continue
		}
		clear(dst[:left])
		n := copy(dst[left:], img[iy*rowIn:(iy+1)*rowIn])
		clear(dst[left+n:])
	}
}

// implicitForward computes output lines [r0, r1) of the convolution of x
// by w (KH, KW, Cin, F) into y, finishing each row with the bias (tile),
// residual and activation, in chunks whose buffers are taken from buf;
// wide: with the parallel GEMM (convGemm); pw: w packed, or nil.
func (g *convGeo) implicitForward(wide bool, buf, x, w []float32, pw *kernels.PackedB, y, res, bias, tile []float32, act Act, r0, r1, lines int) {
	wp, f, k := g.wp(), g.f, g.kw*g.cin
	img := g.inLen()
	for r := r0; r < r1; {
		b, oy := r/g.oh, r%g.oh
		nl := min(r1-r, g.oh-oy, lines)
		p := buf[:(nl+g.kh-1)*wp*g.cin]
		stage := buf[len(p) : len(p)+nl*wp*f]
		g.fillP(p, x[b*img:(b+1)*img], oy, nl)
		m := (nl-1)*wp + g.ow // the last row's spare pixels are not needed
		for ky := range g.kh {
			beta := float32(1)
			if ky == 0 {
				beta = 0
			}
			convGemmW(wide, m, f, k, p[ky*wp*g.cin:], g.cin, w, pw, ky*k, beta, stage, f)
		}
		for i := range nl {
			line := r + i
			out := y[line*g.ow*f : (line+1)*g.ow*f]
			copy(out, stage[i*wp*f:])
			var rs []float32
			if res != nil {
				rs = res[line*g.ow*f:]
			}
			convEpilogue(out, rs, bias, tile, act)
		}
		r += nl
	}
}

// implicitWeightGrad adds dW += P_ky^T dY for output lines [r0, r1): the
// weight gradient of the convolution of x, given dy.
func (g *convGeo) implicitWeightGrad(buf, x, dy, dw []float32, r0, r1, lines int) {
	wp, f, k := g.wp(), g.f, g.kw*g.cin
	img := g.inLen()
	for r := r0; r < r1; {
		b, oy := r/g.oh, r%g.oh
		nl := min(r1-r, g.oh-oy, lines)
		p := buf[:(nl+g.kh-1)*wp*g.cin]
		stage := buf[len(p) : len(p)+nl*wp*f]
		g.fillP(p, x[b*img:(b+1)*img], oy, nl)
		// dY on P's grid: the spare pixels of each row contribute zero.
		for i := range nl {
			row := stage[i*wp*f : (i+1)*wp*f]
			n := copy(row, dy[(r+i)*g.ow*f:(r+i+1)*g.ow*f])
			clear(row[n:])
		}
		m := (nl-1)*wp + g.ow
		for ky := range g.kh {
			kernels.SgemmSerial(true, false, k, f, m, 1, p[ky*wp*g.cin:], g.cin, stage, f, 1, dw[ky*k*f:], f)
		}
		r += nl
	}
}
