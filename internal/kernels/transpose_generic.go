//go:build !amd64 || purego

package kernels

func transposeBand8Asm(dst []float32, ldd int, src []float32, lds int, cols int) int { return 0 }
