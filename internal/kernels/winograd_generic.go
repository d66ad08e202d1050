//go:build !amd64 || purego

package kernels

// useWinoAVX2 is false: there are no assembly kernels (the tests flip it).
var useWinoAVX2 bool

func winoInputAsm(v []float32, vs int, p []float32, ps, c, n int) int       { return 0 }
func winoOutputAsm(y []float32, ys int, m []float32, ms, f, n int) int      { return 0 }
func winoGradOutputAsm(v []float32, vs int, dy []float32, ys, f, n int) int { return 0 }
func sgemmPlanesAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) bool {
	return false
}
func sgemmPlanesTNAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, bs int) bool {
	return false
}

func planesPackedAsm() bool { return false }

func sgemmPlanesPackedAsm(planes, m, n, k int, c []float32, cs int, a []float32, as int, b []float32, np, per int) bool {
	return false
}

func sgemmBiasAsm(m, n, k int, c, a, b, bias []float32, lo, hi float32) bool { return false }
