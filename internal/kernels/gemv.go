package kernels

// gemvGroup is how many rows of B one AxpyN pass adds into C's row: the
// row (a few KiB) stays in L1 while the group's rows of B stream past.
const gemvGroup = axpyNGroup

// gemvMinCols is the width of the column ranges gemv splits C into.
const gemvMinCols = 64

// gemv is Sgemm for one row of C and B not transposed (a dense layer at
// batch 1): c = alpha*a*B + beta*c. The tile path would read each column
// panel of B down its k rows, a cache line per row 4n bytes apart, which
// the prefetchers follow poorly, and run the 6-row micro-kernel for one
// row; streaming B's rows through AxpyN reads it in order, once. Columns
// are split over the pool when B is large.
func gemv(g *gemmArgs) {
	// B streams from cache or memory once, so a range of columns takes
	// about as long as 4x its multiply-adds would in register tiles;
	// ranges are whole multiples of 64 columns.
	cols := max(parallelMinFlops/(8*g.k), gemvMinCols)
	if t := Threads(); t > 1 && g.n >= 2*cols {
		gemvParallel(g, (cols+gemvMinCols-1)/gemvMinCols)
		return
	}
	gemvCols(g, 0, g.n)
}

// gemvJob is one parallel gemv, kept on a freeList.
type gemvJob struct{ g gemmArgs }

var gemvJobs FreeList[gemvJob]

func gemvParallel(g *gemmArgs, grain int) {
	j := gemvJobs.Get()
	j.g = *g
	Parallel((g.n+gemvMinCols-1)/gemvMinCols, grain, j)
	j.g = gemmArgs{} // drop references to the caller's slices
	gemvJobs.Put(j)
}

// Run computes columns [64*lo, 64*hi) of c.
func (j *gemvJob) Run(lo, hi int) { gemvCols(&j.g, lo*gemvMinCols, min(hi*gemvMinCols, j.g.n)) }

func gemvCols(g *gemmArgs, j0, j1 int) {
	c := g.c[j0:j1]
	set := g.beta == 0
	if !set && g.beta != 1 {
		Scal(g.beta, c)
	}
	var ws [gemvGroup]float32
	var rows [gemvGroup][]float32
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
