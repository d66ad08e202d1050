//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

var useRowNormAVX2 = cpu.X86.HasAVX2

//go:noescape
func layerNormRowsAVX2(y, x, gamma, beta, mean, inv *float32, rows, d int, eps float32)

//go:noescape
func layerNormRowsGradAVX2(dx, dy, x, gamma, mean, inv *float32, rows, d int)

//go:noescape
func layerNormParamGradsAVX2(sg, sb *float64, dy, x, mean, inv *float32, rows, d, cb int)

// The row kernels run in assembly when the rows are whole blocks of 8
// (the callers have checked the lengths); they report whether they did.

func layerNormRowsAsm(y, x, gamma, beta, mean, inv []float32, eps float32) bool {
	d := len(gamma)
	if !useRowNormAVX2 || d%8 != 0 || len(mean) == 0 {
		return false
	}
	layerNormRowsAVX2(&y[0], &x[0], &gamma[0], &beta[0], &mean[0], &inv[0], len(mean), d, eps)
	return true
}

func layerNormRowsGradAsm(dx, dy, x, gamma, mean, inv []float32) bool {
	d := len(gamma)
	if !useRowNormAVX2 || d%8 != 0 || len(mean) == 0 {
		return false
	}
	layerNormRowsGradAVX2(&dx[0], &dy[0], &x[0], &gamma[0], &mean[0], &inv[0], len(mean), d)
	return true
}

// layerNormParamGradsAsm handles the first len(sg)&^7 columns and returns
// how many.
func layerNormParamGradsAsm(sg, sb []float64, dy, x, mean, inv []float32, d, off int) int {
	cb := len(sg) &^ 7
	if !useRowNormAVX2 || cb == 0 || len(mean) == 0 {
		return 0
	}
	layerNormParamGradsAVX2(&sg[0], &sb[0], &dy[off], &x[off], &mean[0], &inv[0], len(mean), d, cb)
	return cb
}
