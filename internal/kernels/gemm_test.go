package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// gemmCase is one Sgemm call with its operands; check compares its result
// with a float64 evaluation on the given rows.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c0       []float32
	lda, ldb, ldc  int
}

func newGemmCase(rng *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta float32) *gemmCase {
	g := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = ac+pad, bc+pad, n+pad
	g.a = randSlice(rng, (ar-1)*g.lda+ac)
	g.b = randSlice(rng, (br-1)*g.ldb+bc)
	g.c0 = randSlice(rng, (m-1)*g.ldc+n)
	if beta == 0 {
		for i := range g.c0 {
			g.c0[i] = float32(math.NaN())
		}
	}
	return g
}

func (g *gemmCase) run() []float32 {
	c := append([]float32(nil), g.c0...)
	Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
	return c
}

// check verifies rows of c against a float64 evaluation, with the error
// bound of float32 dot products: (k+2)*eps*(|alpha|*sum|a||b| + |beta*c|).
// It also checks that padding between rows of C is untouched.
func (g *gemmCase) check(t *testing.T, c []float32, rows []int) {
	t.Helper()
	for _, i := range rows {
		for j := 0; j < g.n; j++ {
			var s, mag float64
			for p := 0; p < g.k; p++ {
				var av, bv float64
				if g.transA {
					av = float64(g.a[p*g.lda+i])
				} else {
					av = float64(g.a[i*g.lda+p])
				}
				if g.transB {
					bv = float64(g.b[j*g.ldb+p])
				} else {
					bv = float64(g.b[p*g.ldb+j])
				}
				s += av * bv
				mag += math.Abs(av * bv)
			}
			want := float64(g.alpha) * s
			scale := math.Abs(float64(g.alpha)) * mag
			if g.beta != 0 {
				cv := float64(g.beta) * float64(g.c0[i*g.ldc+j])
				want += cv
				scale += math.Abs(cv)
			}
			got := float64(c[i*g.ldc+j])
			tol := float64(g.k+2)*6e-8*scale + 1e-30
			if !(math.Abs(got-want) <= tol) {
				t.Fatalf("C[%d][%d] = %g, want %g (tol %g)", i, j, got, want, tol)
			}
		}
		if i+1 < g.m {
			for j := g.n; j < g.ldc; j++ {
				if x, y := c[i*g.ldc+j], g.c0[i*g.ldc+j]; x != y && !(x != x && y != y) {
					t.Fatalf("padding C[%d][%d] changed", i, j)
				}
			}
		}
	}
}

func allRows(m int) []int {
	r := make([]int, m)
	for i := range r {
		r[i] = i
	}
	return r
}

// eachKernel runs f in a subtest per available micro-kernel, that
// kernel active.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range AvailableKernels() {
		t.Run(name, func(t *testing.T) {
			restore, err := SetKernel(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

// forEachKernel runs f once per available micro-kernel, with 1 and 3
// threads (the latter exercises the parallel split).
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	eachKernel(t, func(t *testing.T) {
		for _, th := range []int{1, 3} {
			t.Run(fmt.Sprintf("t%d", th), func(t *testing.T) {
				prev := SetThreads(th)
				defer SetThreads(prev)
				f(t)
			})
		}
	})
}

func TestSgemmSizes(t *testing.T) {
	sizes := []int{1, 7, 31, 33, 100, 257}
	params := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {1, -1}}
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		iter := 0
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range sizes {
					if m*n*k > 100*257*257 {
						continue // 257^3 is covered by TestSgemmLarge
					}
					for tr := 0; tr < 4; tr++ {
						iter++
						ab := params[iter%len(params)]
						pad := iter % 3 * 2
						g := newGemmCase(rng, tr&1 != 0, tr&2 != 0, m, n, k, pad, ab[0], ab[1])
						c := g.run()
						t.Run(fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v", m, n, k, g.transA, g.transB), func(t *testing.T) {
							g.check(t, c, allRows(m))
						})
					}
				}
			}
		}
	})
}

func TestSgemmLarge(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for tr := 0; tr < 4; tr++ {
			g := newGemmCase(rng, tr&1 != 0, tr&2 != 0, 257, 257, 257, 5, 1.5, 0.5)
			g.check(t, g.run(), []int{0, 1, 13, 14, 100, 255, 256})
		}
	})
}

func TestSgemmZeroSizes(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 3, c, 2)
	for i, want := range []float32{3, 6, 9, 12} {
		if c[i] != want {
			t.Fatalf("k=0: c = %v, want beta*c", c)
		}
	}
	Sgemm(false, false, 0, 2, 3, 1, nil, 3, nil, 2, 0, nil, 2)
	Sgemm(false, false, 2, 2, 1, 0, []float32{1, 1}, 1, []float32{1, 1}, 2, 0, c, 2)
	for i := range c {
		if c[i] != 0 {
			t.Fatalf("alpha=0, beta=0: c = %v, want zeros", c)
		}
	}
}

// lenetShapes are the GEMMs of LeNet-5 (NHWC, batch 128) lowered with
// im2col: forward convolutions and dense layers, and the two backward
// products of conv2.
var lenetShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"conv1", false, false, 128 * 784, 20, 25},
	{"conv2", false, false, 128 * 196, 50, 500},
	{"dense1", false, false, 128, 500, 2450},
	{"dense2", false, false, 128, 10, 500},
	{"conv2_dW", true, false, 500, 50, 128 * 196},
	{"conv2_dX", false, true, 128 * 196, 500, 50},
}

func TestSgemmLeNet(t *testing.T) {
	// Operands are made once (they are large); the portable kernel gets
	// cut-down shapes to keep its share of the test time small.
	rng := rand.New(rand.NewPCG(5, 6))
	type lenetCase struct {
		name       string
		full, cut  *gemmCase
		rows, rowc []int
	}
	pick := func(m int) []int {
		rows := []int{0, 1, m/2 + 3, m - 1}
		for i := 0; i < 20; i++ {
			rows = append(rows, rng.IntN(m))
		}
		return rows
	}
	var cases []lenetCase
	for _, s := range lenetShapes {
		mc, kc := min(s.m, 1000), min(s.k, 3000)
		cases = append(cases, lenetCase{
			name: s.name,
			full: newGemmCase(rng, s.transA, s.transB, s.m, s.n, s.k, 0, 1, 0),
			cut:  newGemmCase(rng, s.transA, s.transB, mc, s.n, kc, 0, 1, 0),
			rows: pick(s.m), rowc: pick(mc),
		})
	}
	forEachKernel(t, func(t *testing.T) {
		for _, lc := range cases {
			g, rows := lc.full, lc.rows
			if Kernel() == "generic" {
				g, rows = lc.cut, lc.rowc
			}
			c := g.run()
			t.Run(lc.name, func(t *testing.T) { g.check(t, c, rows) })
		}
	})
}

func TestSgemmNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ threads, m, n, k int }{
		{1, 200, 150, 300},
		{2, 200, 150, 300},
		{8, 30, 40, 4000}, // splits k: uses scratch
	} {
		prev := SetThreads(tc.threads)
		g := newGemmCase(rng, false, true, tc.m, tc.n, tc.k, 0, 1, 0)
		c := make([]float32, len(g.c0))
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(g.transA, g.transB, g.m, g.n, g.k, 1, g.a, g.lda, g.b, g.ldb, 0, c, g.ldc)
		})
		SetThreads(prev)
		if allocs != 0 {
			t.Errorf("%+v: %v allocations per Sgemm, want 0", tc, allocs)
		}
	}
}

func TestSetKernel(t *testing.T) {
	if _, err := SetKernel("nosuch"); err == nil {
		t.Fatal("SetKernel(nosuch) succeeded")
	}
	names := AvailableKernels()
	if names[len(names)-1] != "generic" || Kernel() != names[0] {
		t.Fatalf("kernels %v, active %q", names, Kernel())
	}
}

func TestSplitRange(t *testing.T) {
	for _, n := range []int{1, 13, 14, 15, 100, 1000} {
		for parts := 1; parts <= 9; parts++ {
			next := 0
			for w := 0; w < parts; w++ {
				lo, hi := splitRange(n, 14, parts, w)
				if lo != next || hi < lo || (lo%14 != 0 && lo != n) {
					t.Fatalf("splitRange(%d, 14, %d, %d) = %d, %d", n, parts, w, lo, hi)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("splitRange(%d, 14, %d) covers [0, %d)", n, parts, next)
			}
		}
	}
}

// TestKernelInfo logs the kernels (bench/sgemm/run.sh prints this line).
func TestKernelInfo(t *testing.T) {
	t.Logf("kernels: %v", AvailableKernels())
}

func TestSplitGrid(t *testing.T) {
	kn := &gemmKernel{mr: 14, nr: 32, kc: 256}
	for _, tc := range []struct {
		m, n, k, t int
		wantDepth  bool
	}{
		{1024, 1024, 1024, 64, false},
		{25088, 50, 500, 64, false},
		{500, 50, 25088, 64, true}, // 72 tiles for 64 workers: split k too
		{25, 20, 100352, 64, true},
		{500, 50, 25088, 2, false},
	} {
		sp := splitGrid(kn, tc.m, tc.n, tc.k, tc.t, false)
		if sp.workers() > tc.t || sp.workers() < 1 || (sp.tk > 1) != tc.wantDepth {
			t.Errorf("splitGrid(%d, %d, %d, %d) = %+v", tc.m, tc.n, tc.k, tc.t, sp)
		}
	}
}

// TestSgemmDepthSplit runs shapes that split k across workers (many
// threads, few tiles of C) for every kernel.
func TestSgemmDepthSplit(t *testing.T) {
	for _, name := range AvailableKernels() {
		restore, _ := SetKernel(name)
		prev := SetThreads(16)
		rng := rand.New(rand.NewPCG(11, 12))
		for _, tr := range []bool{false, true} {
			for _, beta := range []float32{0, 0.5} {
				g := newGemmCase(rng, tr, !tr, 30, 40, 4000, 1, 0.5, beta)
				if sp := splitGrid(activeKernel.Load(), g.m, g.n, g.k, 16, false); sp.tk < 2 {
					t.Fatalf("%s: split %+v does not split k", name, sp)
				}
				g.check(t, g.run(), allRows(g.m))
			}
		}
		SetThreads(prev)
		restore()
	}
}

// TestSgemmManyThreads runs the LeNet shapes split for 64 workers (as on a
// 64-core machine; here the workers just take turns).
func TestSgemmManyThreads(t *testing.T) {
	prev := SetThreads(64)
	defer SetThreads(prev)
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range lenetShapes {
		m, k := min(s.m, 4096), min(s.k, 8192)
		g := newGemmCase(rng, s.transA, s.transB, m, s.n, k, 3, 1, 0.5)
		c := g.run()
		rows := []int{0, m - 1}
		for i := 0; i < 10; i++ {
			rows = append(rows, rng.IntN(m))
		}
		t.Run(s.name, func(t *testing.T) { g.check(t, c, rows) })
	}
}

// TestSgemmOneRow covers gemv (one row of C, B not transposed), in Sgemm
// and SgemmSerial: narrow and wide C, short and long depths, A as a row or a column (transA), every
// alpha/beta case, on 1 and 3 threads (large products split their depth,
// or with a depth too short for that, wide C its columns: n 40000, k 17).
func TestSgemmOneRow(t *testing.T) {
	params := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, th := range []int{1, 3} {
		prev := SetThreads(th)
		for _, n := range []int{1, 5, 24, 63, 64, 65, 200, 1000, 4097, 40000} {
			for _, k := range []int{1, 17, 600, 2048} {
				if n == 40000 && k > 17 {
					continue
				}
				for i, ab := range params {
					tA := i%2 == 1
					g := newGemmCase(rng, tA, false, 1, n, k, i, ab[0], ab[1])
					c := g.run()
					cs := append([]float32(nil), g.c0...)
					SgemmSerial(g.transA, false, 1, n, k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, cs, g.ldc)
					t.Run(fmt.Sprintf("t%d_n%d_k%d_tA%v_a%v_b%v", th, n, k, tA, ab[0], ab[1]), func(t *testing.T) {
						g.check(t, c, []int{0})
						g.check(t, cs, []int{0})
					})
				}
			}
		}
		SetThreads(prev)
	}
}

// Widths 8 more than a multiple of 16 end in a 6x8 tile, which the AVX2
// kernel computes in place (its half-width variants, A packed or read in
// place); every alpha/beta case, full and partial row tiles.
func TestSgemmHalfTiles(t *testing.T) {
	params := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}}
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		iter := 0
		for _, n := range []int{8, 24, 40, 72, 136} {
			for _, m := range []int{6, 13, 100} {
				for _, k := range []int{1, 5, 64, 300} {
					for tr := 0; tr < 4; tr++ {
						ab := params[iter%len(params)]
						iter++
						g := newGemmCase(rng, tr&1 != 0, tr&2 != 0, m, n, k, iter%3, ab[0], ab[1])
						c := g.run()
						t.Run(fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v", m, n, k, g.transA, g.transB), func(t *testing.T) {
							g.check(t, c, allRows(m))
						})
					}
				}
			}
		}
	})
}
