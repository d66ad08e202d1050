package kernels

// gemvGroup is how many rows of B one AxpyN pass adds into C's row: the
// row (a few KiB) stays in L1 while the group's rows of B stream past.
// Eight read streams, not AxpyN's full 16: with B coming from memory
// (weights read once per image) the prefetchers keep up with eight
// (1024x1000 from memory, 1 thread: 260-310 -> 210-250 us; from cache
// the same).
const gemvGroup = 8

// gemvMinCols is the width of the column ranges gemv splits C into.
const gemvMinCols = 64

// gemv is Sgemm for one row of C and B not transposed (a dense layer at
// batch 1): c = alpha*a*B + beta*c. The tile path would read each column
// panel of B down its k rows, a cache line per row 4n bytes apart, which
// the prefetchers follow poorly, and run the 6-row micro-kernel for one
// row; streaming B's rows through AxpyN reads it in order, once. When B
// is large its depth is split over the pool, or with too short a depth
// its columns.
func gemv(g *gemmArgs) {
	// B streams from cache or memory once, so a range of columns takes
	// about as long as 4x its multiply-adds would in register tiles.
	if t := min(Threads(), 8*g.k*g.n/parallelMinFlops, g.k/gemvGroup); t > 1 {
		gemvParallel(g, t, 1)
		return
	}
	cols := max(parallelMinFlops/(8*g.k), gemvMinCols)
	if t := Threads(); t > 1 && g.n >= 2*cols {
		gemvParallel(g, 0, (cols+gemvMinCols-1)/gemvMinCols)
		return
	}
	gemvCols(g, 0, g.n)
}

// gemvJob is one parallel gemv, kept on a freeList. Split over the depth
// (parts > 0), part p adds rows [k0, k1) of B into its own copy of c:
// each worker then streams one contiguous block of B, which the
// prefetchers follow from memory faster than every worker reading a
// stripe of each row (MobileNetV2's 1280x1000 classifier, 2 threads, in
// the model: 0.25-0.32 -> 0.21-0.25 ms; three copies of it cycled from
// L3: 0.12-0.17 -> 0.10-0.12 ms). With parts == 0 the job splits C's
// columns instead, 64 a range.
type gemvJob struct {
	g       gemmArgs
	parts   int
	scratch []float32 // parts-1 rows of n, for parts after the first
}

var gemvJobs FreeList[gemvJob]

// gemvParallel runs g on the pool: split into parts of its depth, the
// parts' rows summed into c in order afterwards (so the bits do not
// depend on which worker ran what), or with parts 0 into ranges of
// columns, grain ranges at least per worker.
func gemvParallel(g *gemmArgs, parts, grain int) {
	j := gemvJobs.Get()
	j.g, j.parts = *g, parts
	n := parts
	if parts == 0 {
		n = (g.n + gemvMinCols - 1) / gemvMinCols
	} else if need := (parts - 1) * g.n; len(j.scratch) < need {
		j.scratch = make([]float32, need)
	}
	Parallel(n, grain, j)
	for p := 1; p < parts; p++ {
		Axpy(1, j.scratch[(p-1)*g.n:p*g.n], g.c[:g.n])
	}
	j.g = gemmArgs{} // drop references to the caller's slices
	gemvJobs.Put(j)
}

// Run computes depth parts [lo, hi), or columns [64*lo, 64*hi) of c.
func (j *gemvJob) Run(lo, hi int) {
	if j.parts == 0 {
		gemvCols(&j.g, lo*gemvMinCols, min(hi*gemvMinCols, j.g.n))
		return
	}
	g := &j.g
	ks := 1
	if g.transA {
		ks = g.lda
	}
	for p := lo; p < hi; p++ {
		k0, k1 := splitRange(g.k, gemvGroup, j.parts, p)
		s := *g
		s.k, s.a, s.b = k1-k0, g.a[k0*ks:], g.b[k0*g.ldb:]
		if p > 0 {
			s.c, s.beta = j.scratch[(p-1)*g.n:p*g.n], 0
		}
		gemvCols(&s, 0, g.n)
	}
}

func gemvCols(g *gemmArgs, j0, j1 int) {
	c := g.c[j0:j1]
	set := g.beta == 0
	if !set && g.beta != 1 {
		Scal(g.beta, c)
	}
	var ws [axpyNGroup]float32
	var rows [axpyNGroup][]float32
	// Element p of a is a[p*ks].
	ks := 1
	if g.transA {
		ks = g.lda
	}
	for p0 := 0; p0 < g.k; p0 += gemvGroup {
		n := min(gemvGroup, g.k-p0)
		for t := range n {
			p := p0 + t
			ws[t] = g.alpha * g.a[p*ks]
			rows[t] = g.b[p*g.ldb+j0 : p*g.ldb+j1]
		}
		AxpyN(c, ws[:n], rows[:n], set && p0 == 0)
	}
}

// useGemv lets tests and benchmarks compare gemv with the tile path.
var useGemv = true
