//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

var hasAVX512 = cpu.X86.HasAVX512F

//go:noescape
func conv1cRowAVX512(y, xp, w, bias *float32, ow, wp, kh, kw, f, masks, relu int)

//go:noescape
func conv1cGradAVX512(dw, xp, dy *float32, oh, ow, wp, f, masks, kw int)

func conv1cGradOK(f, kw int) bool { return hasAVX512 && f >= 1 && f <= 32 && kw >= 1 && kw <= 8 }

// conv1cGrad checks the extents the assembly touches and runs it.
func conv1cGrad(dw, xp, dy []float32, oh, ow, wp, kw, f int) {
	_ = dw[kw*f-1]
	_ = xp[(oh-1)*wp+ow-1+7]
	_ = dy[oh*ow*f-1]
	conv1cGradAVX512(&dw[0], &xp[0], &dy[0], oh, ow, wp, f, conv1cMasks(f), kw)
}

func conv1cMasks(f int) int {
	lo := uint32(1)<<min(f, 16) - 1
	hi := uint32(0)
	if f > 16 {
		hi = uint32(1)<<(f-16) - 1
	}
	return int(lo | hi<<16)
}

func conv1cOK(f, ow int) bool { return hasAVX512 && f >= 1 && f <= 32 && ow >= 8 }

// conv1cRow checks the extents the assembly touches and runs it.
func conv1cRow(y, xp, w, bias []float32, ow, wp, kh, kw, f int, relu bool) {
	_ = y[ow*f-1]
	_ = xp[(kh-1)*wp+ow-1+kw-1]
	_ = w[kh*kw*f-1]
	_ = bias[f-1]
	r := 0
	if relu {
		r = 1
	}
	conv1cRowAVX512(&y[0], &xp[0], &w[0], &bias[0], ow, wp, kh, kw, f, conv1cMasks(f), r)
}
