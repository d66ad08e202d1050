package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmPlanesPacked: the products of packed planes against float64,
// on every kernel (the AVX2 one runs the assembly, the others the Go
// loop), for ragged rows and columns, and C past each plane untouched.
func TestSgemmPlanesPacked(t *testing.T) {
	for _, name := range AvailableKernels() {
		t.Run(name, func(t *testing.T) {
			restore, err := SetKernel(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			rng := rand.New(rand.NewPCG(9, 10))
			for _, m := range []int{1, 5, 6, 7, 13, 48} {
				for _, n := range []int{16, 17, 31, 40, 64} {
					for _, k := range []int{1, 3, 16, 37} {
						const planes = 3
						cs, as, bs := m*n+2, m*k+1, k*n+3
						a := randF32(rng, planes*as)
						b := randF32(rng, planes*bs)
						c := randF32(rng, planes*cs)
						c0 := append([]float32(nil), c...)
						packed := make([]float32, PackPlanesLen(planes, k, n))
						PackPlanes(packed, planes, k, n, b, bs)
						SgemmPlanesPacked(planes, m, n, k, c, cs, a, as, packed)
						for pl := range planes {
							for i := range m {
								for j := range n {
									var s, mag float64
									for q := range k {
										x := float64(a[pl*as+i*k+q]) * float64(b[pl*bs+q*n+j])
										s += x
										mag += math.Abs(x)
									}
									got := float64(c[pl*cs+i*n+j])
									if math.Abs(got-s) > float64(k+2)*u32*mag {
										t.Fatalf("%dx%dx%d plane %d: C[%d][%d] = %v, want %v", m, n, k, pl, i, j, got, s)
									}
								}
							}
							for i := m * n; i < cs; i++ {
								if c[pl*cs+i] != c0[pl*cs+i] {
									t.Fatalf("%dx%dx%d plane %d: value %d past C written", m, n, k, pl, i)
								}
							}
						}
					}
				}
			}
		})
	}
}

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
