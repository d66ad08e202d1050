//go:build !amd64 || purego

package kernels

func transposeBand8Asm(dst []float32, ldd int, src []float32, lds int, cols int) int { return 0 }

func interleave3Asm(dst, r0, r1, r2 []float32) int { return 0 }
