package kernels

// PackedB is a k x n matrix B copied once into the column panels Sgemm's
// micro-kernel reads: panel j holds columns [j*nr, (j+1)*nr) of every
// row, row after row, zero padded past n. A layer's weights packed this
// way at load time are read as one contiguous stream per panel, where B
// read in place strides by a row per multiply-add step: with rows of a
// multiple of 2 KiB (512 or more filters) those reads all fall into a few
// cache sets and come from memory at every pass over B (a 63 x 512 x 1536
// product ran 1.3x faster with the row stride padded off that multiple).
//
// The packing belongs to the micro-kernel active when it was made;
// SgemmPacked falls back to the original matrix if another is active now.
type PackedB struct {
	kn   *gemmKernel
	k, n int
	data []float32
	b    []float32 // the original, row stride ldb
	ldb  int
}

// PackB packs b (k x n, row stride ldb, not transposed) for the active
// micro-kernel into p's storage (a new PackedB if p is nil) and returns
// it. The packed copy keeps a reference to b for the fallback.
func PackB(p *PackedB, k, n int, b []float32, ldb int) *PackedB {
	if p == nil {
		p = new(PackedB)
	}
	kn := activeKernel.Load()
	nr := kn.nr
	panels := (n + nr - 1) / nr
	if need := panels * nr * k; cap(p.data) < need {
		p.data = make([]float32, need)
	} else {
		p.data = p.data[:need]
	}
	*p = PackedB{kn: kn, k: k, n: n, data: p.data, b: b, ldb: ldb}
	if k > 0 && n > 0 {
		_ = b[(k-1)*ldb+n-1]
	}
	if t := min(Threads(), panels*k*nr/packParallelFloats); t > 1 {
		ParallelFunc(panels, 1, func(lo, hi int) { p.pack(lo, hi) })
	} else {
		p.pack(0, panels)
	}
	return p
}

// packParallelFloats is the packed size (floats) from which PackB splits
// its panels over the cores: a few hundred microseconds of copying.
const packParallelFloats = 1 << 18

// packRowBlock is how many rows of B pack() reads before moving to the
// next panel: those rows stay in L1 while every panel takes its part of
// them, where a panel at a time read B down its rows, one cache line per
// row, and missed at every row (4608 x 512, 1 thread: 5.3-5.7 -> 2.2-2.8
// ms; 2 threads 1.1-1.25).
const packRowBlock = 16

// pack copies panels [j0, j1) of b into p.data.
func (p *PackedB) pack(j0, j1 int) {
	k, n, nr, b, ldb := p.k, p.n, p.kn.nr, p.b, p.ldb
	for r0 := 0; r0 < k; r0 += packRowBlock {
		r1 := min(r0+packRowBlock, k)
		for j := j0; j < j1; j++ {
			c0 := j * nr
			w := min(nr, n-c0)
			d := p.data[j*nr*k : (j+1)*nr*k]
			switch {
			case w == 16 && nr == 16:
				// A row of a full panel as one array assignment, not a
				// copy call per 64 bytes.
				for r := r0; r < r1; r++ {
					*(*[16]float32)(d[r*16:]) = *(*[16]float32)(b[r*ldb+c0:])
				}
			case w == 32 && nr == 32:
				for r := r0; r < r1; r++ {
					*(*[32]float32)(d[r*32:]) = *(*[32]float32)(b[r*ldb+c0:])
				}
			default:
				for r := r0; r < r1; r++ {
					row := d[r*nr : (r+1)*nr]
					copy(row, b[r*ldb+c0:r*ldb+c0+w])
					clear(row[w:])
				}
			}
		}
	}
}

// Rows and Cols are the packed matrix's shape.
func (p *PackedB) Rows() int { return p.k }
func (p *PackedB) Cols() int { return p.n }

// SgemmPacked computes C = A B_rows + beta*C, where B_rows is rows [p0,
// p0+k) of the packed matrix (all of its columns: C is m x Cols()) and A
// is m x k (row stride lda), like Sgemm with alpha 1: on the pool's
// workers when the product is large enough. beta == 0 does not read C.
func SgemmPacked(m, k int, a []float32, lda int, p *PackedB, p0 int, beta float32, c []float32, ldc int) {
	sgemmPacked(true, m, k, a, lda, p, p0, beta, c, ldc)
}

// SgemmPackedSerial is SgemmPacked on the calling goroutine only (see
// SgemmSerial).
func SgemmPackedSerial(m, k int, a []float32, lda int, p *PackedB, p0 int, beta float32, c []float32, ldc int) {
	sgemmPacked(false, m, k, a, lda, p, p0, beta, c, ldc)
}

func sgemmPacked(parallel bool, m, k int, a []float32, lda int, p *PackedB, p0 int, beta float32, c []float32, ldc int) {
	n := p.n
	if p0 < 0 || k < 0 || p0+k > p.k {
		panic("kernels: SgemmPacked rows outside the packed matrix")
	}
	kn := activeKernel.Load()
	if kn != p.kn || (m == 1 && kn.row1 == nil) {
		// Packed for another kernel, or one row without a one-row kernel
		// (gemv reads B in place).
		b := p.b[p0*p.ldb:]
		if parallel {
			Sgemm(false, false, m, n, k, 1, a, lda, b, p.ldb, beta, c, ldc)
		} else {
			SgemmSerial(false, false, m, n, k, 1, a, lda, b, p.ldb, beta, c, ldc)
		}
		return
	}
	if m <= 0 || n <= 0 {
		return
	}
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if m == 1 {
		packedRow(parallel, kn, k, a, p, p0, beta, c)
		return
	}
	g := gemmArgs{m: m, n: n, k: k, alpha: 1, a: a, lda: lda, beta: beta, c: c, ldc: ldc, pb: p, pk: p0}
	if parallel {
		sgemmArgs(kn, &g)
		return
	}
	buf := getPackBuf(kn)
	gemmBlocked(kn, buf, &g)
	putPackBuf(buf)
}

// PackedOneRow reports whether SgemmPacked of one row reads the packed
// panels (the active kernel has a one-row form) rather than falling
// back to the original matrix: only then is packing for one row worth
// its memory.
func PackedOneRow() bool { return activeKernel.Load().row1 != nil }

// packedRowJob is one parallel packedRow, kept on a free list.
type packedRowJob struct {
	kn    *gemmKernel
	k, p0 int
	a, c  []float32
	p     *PackedB
	beta  float32
}

var packedRowJobs FreeList[packedRowJob]

// packedRow is sgemmPacked for one row of A (a dense layer or a
// squeeze-excite 1x1 convolution at batch 1): the kernel's one-row form
// over every panel in turn, so that B, packed panel after panel, streams
// from memory in order. MobileNetV2's 1280x1000 classifier, 1 thread,
// AMD Zen 5: gemv reading B in place 260-275 -> 137-142 us from memory,
// 62-67 -> 55 us from L3 (BenchmarkSgemmPackedShapes); in the model
// 0.27 -> 0.17 ms. Parallel, the cores take contiguous ranges of panels.
func packedRow(parallel bool, kn *gemmKernel, k int, a []float32, p *PackedB, p0 int, beta float32, c []float32) {
	panels := (p.n + kn.nr - 1) / kn.nr
	j := packedRowJobs.Get()
	*j = packedRowJob{kn: kn, k: k, p0: p0, a: a, c: c, p: p, beta: beta}
	// Streaming B costs about 4x its multiply-adds in register tiles.
	if grain := max(1, parallelMinFlops/(8*k*kn.nr)); parallel && panels >= 2*grain {
		Parallel(panels, grain, j)
	} else {
		j.Run(0, panels)
	}
	*j = packedRowJob{}
	packedRowJobs.Put(j)
}

// Run computes panels [lo, hi) of the row.
func (j *packedRowJob) Run(lo, hi int) {
	nr, p := j.kn.nr, j.p
	for q := lo; q < hi; q++ {
		c0 := q * nr
		j.kn.row1(j.k, j.a, p.data[p.k*c0+j.p0*nr:], j.c[c0:], 1, j.beta, min(nr, p.n-c0))
	}
}
