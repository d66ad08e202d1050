//go:build !amd64 || purego

package kernels

func filterRow3x3Asm(dst []float32, srcs *[9][]float32, w *[9]float32, mask uint) int { return 0 }
