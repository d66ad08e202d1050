package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSgemmPacked compares products with rows of a packed B against the
// float64 evaluation of the same rows, on every kernel, serial and split
// over threads, for awkward shapes, row offsets, row strides and betas.
func TestSgemmPacked(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		iter := 0
		for _, m := range []int{1, 5, 7, 33, 130} {
			for _, n := range []int{1, 7, 17, 33, 100, 300} {
				for _, kt := range []int{3, 40, 600} {
					iter++
					pad := iter % 3 * 2
					g := newGemmCase(rng, false, false, m, n, kt, pad, 1, float32(iter%2))
					full := g.b
					pb := PackB(nil, kt, n, full, g.ldb)
					if pb.Rows() != kt || pb.Cols() != n {
						t.Fatalf("packed shape %dx%d, want %dx%d", pb.Rows(), pb.Cols(), kt, n)
					}
					for _, rows := range [][2]int{{0, kt}, {kt / 3, kt - kt/3}} {
						p0, k := rows[0], rows[1]-rows[0]
						sub := *g
						sub.k, sub.b = k, full[p0*g.ldb:]
						for _, serial := range []bool{false, true} {
							c := append([]float32(nil), g.c0...)
							if serial {
								SgemmPackedSerial(m, k, g.a, g.lda, pb, p0, g.beta, c, g.ldc)
							} else {
								SgemmPacked(m, k, g.a, g.lda, pb, p0, g.beta, c, g.ldc)
							}
							t.Run(fmt.Sprintf("m%d_n%d_k%d_p0%d_serial%v", m, n, k, p0, serial), func(t *testing.T) {
								sub.check(t, c, allRows(m))
							})
						}
					}
				}
			}
		}
	})
}

// TestSgemmPackedOtherKernel: a matrix packed for one kernel still gives
// the product when another is active (it falls back to the original).
func TestSgemmPackedOtherKernel(t *testing.T) {
	names := AvailableKernels()
	if len(names) < 2 {
		t.Skip("one kernel only")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	g := newGemmCase(rng, false, false, 20, 37, 50, 1, 1, 0)
	restore, err := SetKernel(names[0])
	if err != nil {
		t.Fatal(err)
	}
	pb := PackB(nil, g.k, g.n, g.b, g.ldb)
	restore()
	restore, err = SetKernel(names[len(names)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	c := append([]float32(nil), g.c0...)
	SgemmPacked(g.m, g.k, g.a, g.lda, pb, 0, 0, c, g.ldc)
	g.check(t, c, allRows(g.m))
}

func TestSgemmPackedBadRows(t *testing.T) {
	pb := PackB(nil, 4, 4, make([]float32, 16), 4)
	defer func() {
		if recover() == nil {
			t.Fatal("rows past the packed matrix did not panic")
		}
	}()
	SgemmPacked(2, 3, make([]float32, 6), 3, pb, 2, 0, make([]float32, 8), 4)
}

func BenchmarkSgemmPacked(b *testing.B) {
	// ResNet-18's last stage at batch 1 through the implicit GEMM: 7 lines
	// of 9 pixels, one kernel row (3 x 512 deep), 512 filters.
	m, n, k := 63, 512, 1536
	rng := rand.New(rand.NewPCG(1, 1))
	a, w, c := randSlice(rng, m*512+k), randSlice(rng, k*n), make([]float32, m*n)
	pb := PackB(nil, k, n, w, n)
	b.Run("inplace", func(b *testing.B) {
		for range b.N {
			Sgemm(false, false, m, n, k, 1, a, 512, w, n, 0, c, n)
		}
		b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("packed", func(b *testing.B) {
		for range b.N {
			SgemmPacked(m, k, a, 512, pb, 0, 0, c, n)
		}
		b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// TestPackBLayout checks every packed value, padding included, of a
// matrix large enough for PackB to split its panels over 3 threads, with
// a ragged last panel and a row stride wider than the matrix.
func TestPackBLayout(t *testing.T) {
	defer SetThreads(SetThreads(3))
	forEachKernel(t, func(t *testing.T) {
		k, n, ldb := 700, 410, 413
		rng := rand.New(rand.NewPCG(3, 5))
		b := randSlice(rng, k*ldb)
		p := PackB(nil, k, n, b, ldb)
		nr := p.kn.nr
		if p.k*((n+nr-1)/nr)*nr < packParallelFloats {
			t.Fatalf("%dx%d is too small to split", k, n)
		}
		for c := range (n + nr - 1) / nr * nr {
			for r := range k {
				want := float32(0)
				if c < n {
					want = b[r*ldb+c]
				}
				if got := p.data[(c/nr)*nr*k+r*nr+c%nr]; got != want {
					t.Fatalf("packed (%d, %d) = %v, want %v", r, c, got, want)
				}
			}
		}
	})
}

// TestSgemmPackedOneRow: one row of A by a packed B wide and deep enough
// that packedRow splits its panels over three threads (and one row at
// an offset p0), against the float64 product, with and without beta.
func TestSgemmPackedOneRow(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, beta := range []float32{0, 1} {
			const n, kt = 700, 1000
			g := newGemmCase(rng, false, false, 1, n, kt, 3, 1, beta)
			pb := PackB(nil, kt, n, g.b, g.ldb)
			for _, p0 := range []int{0, 37} {
				sub := *g
				sub.k, sub.b = kt-p0, g.b[p0*g.ldb:]
				for _, serial := range []bool{false, true} {
					c := append([]float32(nil), g.c0...)
					if serial {
						SgemmPackedSerial(1, kt-p0, g.a, g.lda, pb, p0, beta, c, g.ldc)
					} else {
						SgemmPacked(1, kt-p0, g.a, g.lda, pb, p0, beta, c, g.ldc)
					}
					t.Run(fmt.Sprintf("beta%v_p0%d_serial%v", beta, p0, serial), func(t *testing.T) { sub.check(t, c, allRows(1)) })
				}
			}
		}
	})
}

// BenchmarkSgemmPackedShapes times products by packed weights of batch-1
// layers on one thread, with the weights in cache (one copy) and cycled
// from memory (copies filling 64 MB, at least 8: more than an L3 of 32
// MB holds): ResNet-18's 7x7x512 layer (49x512x4608, im2col),
// MobileNetV2's 7x7 projection (49x320x960), EfficientNet-B0's 7x7 and
// 14x14 projections (49x192x1152, 196x112x672), and one-row products
// (MobileNetV2's classifier, 1x1000x1280; a squeeze-excite reduction,
// 1x48x1152).
func BenchmarkSgemmPackedShapes(b *testing.B) {
	for _, sh := range [][3]int{{49, 512, 4608}, {49, 320, 960}, {49, 192, 1152}, {196, 112, 672}, {1, 1000, 1280}, {1, 48, 1152}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, copies := range []int{1, max(8, (64<<20)/(4*k*n))} {
			b.Run(fmt.Sprintf("%dx%dx%d/copies%d", m, n, k, copies), func(b *testing.B) {
				defer SetThreads(SetThreads(1))
				rng := rand.New(rand.NewPCG(1, 1))
				a, c := randSlice(rng, m*k), make([]float32, m*n)
				ps := make([]*PackedB, copies)
				for i := range ps {
					ps[i] = PackB(nil, k, n, randSlice(rng, k*n), n)
				}
				i := 0
				for b.Loop() {
					SgemmPacked(m, k, a, k, ps[i%copies], 0, 0, c, n)
					i++
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
