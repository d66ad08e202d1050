//go:build !amd64 || purego

package kernels

func copyRowsAsm(dst []float32, ds int, src []float32, ss int, n, span int) bool { return false }
