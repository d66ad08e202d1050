package kernels

import "fmt"

// Conv1Chan computes a stride-1 convolution of n one-channel images
// (h x w) directly, without im2col: y (n x oh x ow x f, NHWC) =
// bias + sum over taps of x[oy-padTop+ky, ox-padLeft+kx] * w[ky, kx, f]
// (w stored as kh x kw x f; pixels outside the image are zero), then
// max(., 0) when relu. Such a layer (e.g. LeNet's first) makes a skinny
// GEMM (depth kh*kw, f columns) that runs far below the GEMM's speed.
// scratch must hold PaddedLen(h, w, ...) values. It returns false, doing
// nothing, when no direct kernel fits the CPU or the shape (f > 32 or
// ow < 8); the caller then uses im2col and Sgemm.
func Conv1Chan(y, x []float32, n, h, w, padTop, padLeft, oh, ow, kh, kw int, wts, bias []float32, f int, relu bool, scratch []float32) bool {
	if !conv1cOK(f, ow) {
		return false
	}
	hp, wp := oh-1+kh, ow-1+kw
	if len(x) < n*h*w || len(y) < n*oh*ow*f || len(wts) < kh*kw*f || len(bias) < f || len(scratch) < PaddedLen(oh, ow, kh, kw) {
		panic(fmt.Sprintf("kernels.Conv1Chan: %d images %dx%d -> %dx%dx%d, kernel %dx%d: slices too short", n, h, w, oh, ow, f, kh, kw))
	}
	xp := scratch[:hp*wp+8]
	clear(xp)
	for b := 0; b < n; b++ {
		padImage(xp, x[b*h*w:(b+1)*h*w], h, w, hp, wp, padTop, padLeft)
		out := y[b*oh*ow*f : (b+1)*oh*ow*f]
		for oy := 0; oy < oh; oy++ {
			conv1cRow(out[oy*ow*f:(oy+1)*ow*f], xp[oy*wp:], wts, bias, ow, wp, kh, kw, f, relu)
		}
	}
	return true
}

// PaddedLen is the scratch Conv1Chan and Conv1ChanGrad need: one
// zero-padded image and 8 values of slack.
func PaddedLen(oh, ow, kh, kw int) int { return (oh-1+kh)*(ow-1+kw) + 8 }

// padImage copies the h x w image img into the zero-padded hp x wp image
// xp at (padTop, padLeft); the border keeps the zeros it had.
func padImage(xp, img []float32, h, w, hp, wp, padTop, padLeft int) {
	r0, r1 := max(0, -padTop), min(h, hp-padTop)
	c0, c1 := max(0, -padLeft), min(w, wp-padLeft)
	for r := r0; r < r1 && c0 < c1; r++ {
		copy(xp[(r+padTop)*wp+c0+padLeft:(r+padTop)*wp+c1+padLeft], img[r*w+c0:r*w+c1])
	}
}

// Conv1ChanGrad adds to dw (kh x kw x f) the kernel gradient of the
// convolution Conv1Chan computes, for the output gradient dy
// (n x oh x ow x f): dw[ky, kx, :] += sum over images and output pixels of
// x[oy-padTop+ky, ox-padLeft+kx] * dy[pixel, :]. It returns false, doing
// nothing, when no kernel fits (f > 32 or kw > 8); the caller then uses
// im2col and Sgemm.
func Conv1ChanGrad(dw, x, dy []float32, n, h, w, padTop, padLeft, oh, ow, kh, kw, f int, scratch []float32) bool {
	if !conv1cGradOK(f, kw) {
		return false
	}
	hp, wp := oh-1+kh, ow-1+kw
	if len(x) < n*h*w || len(dy) < n*oh*ow*f || len(dw) < kh*kw*f || len(scratch) < PaddedLen(oh, ow, kh, kw) {
		panic(fmt.Sprintf("kernels.Conv1ChanGrad: %d images %dx%d -> %dx%dx%d, kernel %dx%d: slices too short", n, h, w, oh, ow, f, kh, kw))
	}
	xp := scratch[:hp*wp+8]
	clear(xp)
	for b := 0; b < n; b++ {
		padImage(xp, x[b*h*w:(b+1)*h*w], h, w, hp, wp, padTop, padLeft)
		g := dy[b*oh*ow*f : (b+1)*oh*ow*f]
		for ky := 0; ky < kh; ky++ {
			conv1cGrad(dw[ky*kw*f:(ky+1)*kw*f], xp[ky*wp:], g, oh, ow, wp, kw, f)
		}
	}
	return true
}

// Conv1ChanSupported reports whether Conv1Chan has a kernel for f filters
// and output rows of ow pixels on this CPU.
func Conv1ChanSupported(f, ow int) bool { return conv1cOK(f, ow) }
