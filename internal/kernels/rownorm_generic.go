//go:build !amd64 || purego

package kernels

func layerNormRowsAsm(y, x, gamma, beta, mean, inv []float32, eps float32) bool { return false }
func layerNormRowsGradAsm(dx, dy, x, gamma, mean, inv []float32) bool           { return false }
func layerNormParamGradsAsm(sg, sb []float64, dy, x, mean, inv []float32, d, off int) int {
	return 0
}
