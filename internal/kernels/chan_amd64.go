//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

var useChanAVX2 = cpu.X86.HasAVX2

//go:noescape
func chanMomentsAVX2(s1, s2 *float64, x *float32, ref *float64, rows, c, cb int)

//go:noescape
func chanGradSumsAVX2(s1, s2 *float64, dy, x, mean *float32, rows, c, cb int)

//go:noescape
func chanAffineAVX2(y, x, mean, a, b *float32, rows, c, cb int)

//go:noescape
func chanScaleAVX2(y, dy, a *float32, rows, c, cb int)

//go:noescape
func chanGradInputAVX2(dx, dy, x, mean, a, b, cc *float32, rows, c, cb int)

//go:noescape
func chanPReLUAVX2(y, x, a *float32, rows, c, cb int)

//go:noescape
func chanPReLUGradAVX2(s *float64, dx, dy, x, a *float32, rows, c, cb, wantDx int)

// The ...Asm wrappers handle the first c &^ 7 channels of every row (the
// callers have checked the lengths) and return how many.

func chanMomentsAsm(s1, s2 []float64, x []float32, ref []float64) int {
	c := len(ref)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	chanMomentsAVX2(&s1[0], &s2[0], &x[0], &ref[0], len(x)/c, c, cb)
	return cb
}

func chanGradSumsAsm(s1, s2 []float64, dy, x, mean []float32) int {
	c := len(mean)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	chanGradSumsAVX2(&s1[0], &s2[0], &dy[0], &x[0], &mean[0], len(x)/c, c, cb)
	return cb
}

func chanAffineAsm(y, x, mean, a, b []float32) int {
	c := len(mean)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	chanAffineAVX2(&y[0], &x[0], &mean[0], &a[0], &b[0], len(x)/c, c, cb)
	return cb
}

func chanScaleAsm(y, dy, a []float32) int {
	c := len(a)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(dy) == 0 {
		return 0
	}
	chanScaleAVX2(&y[0], &dy[0], &a[0], len(dy)/c, c, cb)
	return cb
}

func chanGradInputAsm(dx, dy, x, mean, a, b, cc []float32) int {
	c := len(mean)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	chanGradInputAVX2(&dx[0], &dy[0], &x[0], &mean[0], &a[0], &b[0], &cc[0], len(x)/c, c, cb)
	return cb
}

func chanPReLUAsm(y, x, a []float32) int {
	c := len(a)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	chanPReLUAVX2(&y[0], &x[0], &a[0], len(x)/c, c, cb)
	return cb
}

func chanPReLUGradAsm(s []float64, dx, dy, x, a []float32) int {
	c := len(a)
	cb := c &^ 7
	if !useChanAVX2 || cb == 0 || len(x) == 0 {
		return 0
	}
	want, d := 1, dx
	if dx == nil {
		want, d = 0, dy // not written
	}
	chanPReLUGradAVX2(&s[0], &d[0], &dy[0], &x[0], &a[0], len(x)/c, c, cb, want)
	return cb
}
