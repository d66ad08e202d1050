//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func reluGradAVX2(dx, dy, y *float32, n int)

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func addReluAVX2(dst, b *float32, n int)

//go:noescape
func addClipAVX2(dst, b *float32, n int, lo, hi float32)

//go:noescape
func maxPool2x2AVX2(dst, r0, r1 *float32, ow, c int)

//go:noescape
func maxPool2x2GradAVX2(dx0, dx1, r0, r1, y, dy *float32, ow, c, relu int)

// The ...Asm wrappers process a multiple of 8 values (bounds checked
// here) and return how many; the Go versions finish the rest.

func reluAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	reluAVX2(&dst[0], &src[0], n)
	return n
}

func reluGradAsm(dx, dy, y []float32) int {
	n := len(y) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_, _ = dx[n-1], dy[n-1]
	reluGradAVX2(&dx[0], &dy[0], &y[0], n)
	return n
}

func addAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	addAVX2(&dst[0], &src[0], n)
	return n
}

func addReluAsm(dst, b []float32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = b[n-1]
	addReluAVX2(&dst[0], &b[0], n)
	return n
}

func addClipAsm(dst, b []float32, lo, hi float32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = b[n-1]
	addClipAVX2(&dst[0], &b[0], n, lo, hi)
	return n
}

// The pooling kernels need c >= 8: the channels are covered by blocks of
// 8, the last one overlapping the one before when c is not a multiple of
// 8 (recomputing values is harmless since nothing accumulates). Callers
// have checked the lengths.
func maxPool2x2Asm(dst, r0, r1 []float32, ow, c int) bool {
	if !hasAVX2 || c < 8 {
		return false
	}
	maxPool2x2AVX2(&dst[0], &r0[0], &r1[0], ow, c)
	return true
}

func maxPool2x2GradAsm(dx0, dx1, r0, r1, y, dy []float32, ow, c int, reluMask bool) bool {
	if !hasAVX2 || c < 8 {
		return false
	}
	relu := 0
	if reluMask {
		relu = 1
	}
	maxPool2x2GradAVX2(&dx0[0], &dx1[0], &r0[0], &r1[0], &y[0], &dy[0], ow, c, relu)
	return true
}

//go:noescape
func mulIfEqualAVX2(dst, src, a, b *float32, n int)

func mulIfEqualAsm(dst, src, a, b []float32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_, _, _ = src[n-1], a[n-1], b[n-1]
	mulIfEqualAVX2(&dst[0], &src[0], &a[0], &b[0], n)
	return n
}
