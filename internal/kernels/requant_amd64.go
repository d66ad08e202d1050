//go:build !purego

package kernels

//go:noescape
func requantizeAVX2(v, b, s *float32, n int, lo, hi float32)
