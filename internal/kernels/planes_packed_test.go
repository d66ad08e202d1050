package kernels

import (
	"math/rand/v2"
	"testing"
)

// SgemmPlanesPacked is tested with SgemmPlanes (TestSgemmPlanes).

func BenchmarkSgemmPlanesPacked(b *testing.B) {
	// ResNet-18's 7x7x512 Winograd products at batch 32, one chunk: 16
	// planes of 48 tiles x 512 x 512.
	const planes, m, n, k = 16, 48, 512, 512
	rng := rand.New(rand.NewPCG(1, 1))
	a, u, c := randF32(rng, planes*m*k), randF32(rng, planes*k*n), make([]float32, planes*m*n)
	packed := make([]float32, PackPlanesLen(planes, k, n))
	PackPlanes(packed, planes, k, n, u, k*n)
	b.Run("inplace", func(b *testing.B) {
		for b.Loop() {
			SgemmPlanes(planes, m, n, k, c, m*n, a, m*k, u, k*n)
		}
		b.ReportMetric(float64(2*planes*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("packed", func(b *testing.B) {
		for b.Loop() {
			SgemmPlanesPacked(planes, m, n, k, c, m*n, a, m*k, packed)
		}
		b.ReportMetric(float64(2*planes*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
