//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// useVecAVX2 selects the AVX2 loops of vec_amd64.s (about 4-8x the Go
// loops on data in cache; see BenchmarkVec).
var useVecAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func vecAxpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func vecScalAVX2(alpha float32, x *float32, n int)

//go:noescape
func vecDotAVX2(x, y *float32, n int) float32

// The *Vec functions handle the largest multiple of 8 elements and return
// how many they did (0 when the assembly is not usable).

func axpyVec(alpha float32, x, y []float32) int {
	n := len(x) &^ 7
	if !useVecAVX2 || n == 0 {
		return 0
	}
	_ = y[n-1]
	vecAxpyAVX2(alpha, &x[0], &y[0], n)
	return n
}

func dotVec(x, y []float32) (float32, int) {
	n := len(x) &^ 7
	if !useVecAVX2 || n == 0 {
		return 0, 0
	}
	_ = y[n-1]
	return vecDotAVX2(&x[0], &y[0], n), n
}

func scalVec(alpha float32, x []float32) int {
	n := len(x) &^ 7
	if !useVecAVX2 || n == 0 {
		return 0
	}
	vecScalAVX2(alpha, &x[0], n)
	return n
}
