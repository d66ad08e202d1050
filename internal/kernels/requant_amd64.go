//go:build !purego

package kernels

//go:noescape
func requantizeAVX2(v, b, s *float32, n int, lo, hi float32)

func requantizeAsm(v, b, s []float32, lo, hi float32) int {
	n := len(v) &^ 7
	if !useMulAddAVX2 || n == 0 {
		return 0
	}
	_, _ = b[n-1], s[n-1]
	requantizeAVX2(&v[0], &b[0], &s[0], n, lo, hi)
	return n
}
