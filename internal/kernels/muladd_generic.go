//go:build !amd64 || purego

package kernels

func mulAddAsm(acc, x, w []float32) int                    { return 0 }
func mulAdd3Asm(acc, x0, x1, x2, w0, w1, w2 []float32) int { return 0 }
