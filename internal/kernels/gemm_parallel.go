package kernels

// parallelMinFlops is the size (2*m*n*k) below which Sgemm stays on the
// calling goroutine (about 25us of work on one core): handing work to the
// pool costs a few microseconds. Larger calls use at most one worker per
// parallelMinFlops/2.
const parallelMinFlops = 1 << 21

// split is how one Sgemm call is divided: a tm x tn grid over C, repeated
// for tk slices of the depth (k). Slices after the first accumulate into
// scratch copies of C that are summed at the end; splitting k keeps all
// cores busy when C has few register tiles but k is long (weight
// gradients: C is filters x patch size, k is batch x pixels).
type split struct{ tm, tn, tk int }

func (s split) workers() int { return s.tm * s.tn * s.tk }

// maxScratch bounds the scratch (floats) that a depth split may use.
const maxScratch = 1 << 22

// splitGrid chooses the split (at most t workers) that minimises the
// estimated time of the slowest worker: its share of register tiles times
// its depth, plus the packing it repeats (each worker packs its own rows of
// A and columns of B), plus the final sum of depth slices.
//
// With B packed once (PackB) there is no B to pack, and splitting the
// columns measured slower than splitting the rows even where the rows
// split unevenly (2 threads: 63x512x1536 0.94-1.03 against 0.76-0.84 ms,
// 196x96x576 0.20-0.23 against 0.15-0.19, 196x384x64 0.13-0.15 against
// 0.10-0.11, never the other way beyond noise; a depth split of the
// first, 0.85-0.91): column and depth splits then cost a fifth more.
func splitGrid(kn *gemmKernel, m, n, k, t int, packedB bool) split {
	mt := (m + kn.mr - 1) / kn.mr
	nt := (n + kn.nr - 1) / kn.nr
	best, bestCost := split{1, 1, 1}, -1.0
	for z := 1; z <= t; z++ {
		if z > 1 && (k/z < kn.kc/2 || (z-1)*m*n > maxScratch) {
			break
		}
		kz := float64((k + z - 1) / z)
		for x := 1; x <= t/z; x++ {
			if x > mt {
				break
			}
			y := min(t/(z*x), nt)
			rows := float64((mt + x - 1) / x * kn.mr)
			cols := float64((nt + y - 1) / y * kn.nr)
			// One packed element costs roughly as much as 4 multiply-adds,
			// one summed element of a depth slice as 30.
			pack := rows + cols
			if packedB {
				pack = rows
			}
			cost := rows*cols*kz + 4*kz*pack + 30*float64(m*n*(z-1))
			if packedB && (y > 1 || z > 1) {
				cost *= 1.2
			}
			if z > 1 {
				cost *= 1.05 // on a near tie, avoid the scratch traffic
			}
			if bestCost < 0 || cost < bestCost {
				best, bestCost = split{x, y, z}, cost
			}
		}
	}
	return best
}

// gemmJob is one parallel Sgemm call; Parallel hands its workers
// (indices of the split) to the shared pool.
type gemmJob struct {
	kn      *gemmKernel
	g       gemmArgs
	sp      split
	scratch []float32 // (tk-1) m x n partial products; grows, never shrinks
}

var gemmJobs FreeList[gemmJob] // keeps the scratch too

func runParallel(kn *gemmKernel, g *gemmArgs, sp split) {
	nw := sp.workers()
	job := gemmJobs.Get()
	job.kn, job.g, job.sp = kn, *g, sp
	if need := (sp.tk - 1) * g.m * g.n; len(job.scratch) < need {
		job.scratch = make([]float32, need)
	}
	Parallel(nw, 1, job)
	mn := g.m * g.n
	for z := 1; z < sp.tk; z++ {
		part := job.scratch[(z-1)*mn : z*mn]
		for i := 0; i < g.m; i++ {
			Axpy(1, part[i*g.n:(i+1)*g.n], g.c[i*g.ldc:i*g.ldc+g.n])
		}
	}
	job.g = gemmArgs{} // drop references to the caller's slices
	gemmJobs.Put(job)
}

// Run computes the blocks of workers [lo, hi): one each when Parallel
// found a thread for every worker, several in turn when it did not (a
// nested call, or Threads lowered meanwhile).
func (j *gemmJob) Run(lo, hi int) {
	for w := lo; w < hi; w++ {
		j.run(w)
	}
}

// run computes worker w's block of C. Blocks are whole register tiles so
// only the last row/column of workers sees edge tiles. Depth slices after
// the first write alpha*A*B (beta = 0) to their scratch copy of C.
func (j *gemmJob) run(w int) {
	g, kn, sp := &j.g, j.kn, j.sp
	z, r := w/(sp.tm*sp.tn), w%(sp.tm*sp.tn)
	i0, i1 := splitRange(g.m, kn.mr, sp.tm, r/sp.tn)
	j0, j1 := splitRange(g.n, kn.nr, sp.tn, r%sp.tn)
	p0, p1 := splitRange(g.k, 1, sp.tk, z)
	if i0 >= i1 || j0 >= j1 {
		return
	}
	s := g.sub(i0, i1, j0, j1, p0, p1)
	if z > 0 {
		s.c = j.scratch[(z-1)*g.m*g.n+i0*g.n+j0:]
		s.ldc, s.beta = g.n, 0
	}
	buf := getPackBuf(kn)
	gemmBlocked(kn, buf, &s)
	putPackBuf(buf)
}

// splitRange returns part w of [0, n) split into parts of whole tiles.
func splitRange(n, tile, parts, w int) (lo, hi int) {
	tiles := (n + tile - 1) / tile
	per, extra := tiles/parts, tiles%parts
	start := w*per + min(w, extra)
	cnt := per
	if w < extra {
		cnt++
	}
	return min(start*tile, n), min((start+cnt)*tile, n)
}
