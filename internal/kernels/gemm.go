package kernels

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// where op(X) is X or its transpose. op(A) is m x k, op(B) is k x n, C is
// m x n. lda, ldb, ldc are the row strides of A, B, C as stored.
// When beta == 0, C is not read (NaNs in C do not propagate), as in BLAS.
//
// The implementation is Goto/BLIS style: op(B) is packed in kc x nc blocks
// and op(A) in micro-panels of the kernel's register-tile height, both into
// reused buffers, and a micro-kernel (AVX-512, AVX2+FMA or portable Go; see
// AvailableKernels) computes register tiles of C. Large problems are split
// over Threads() goroutines of the pool Parallel shares.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kn := activeKernel.Load()
	g := gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if m == 1 && !transB && useGemv {
		gemv(&g)
		return
	}
	sgemmArgs(kn, &g)
}

// sgemmArgs runs g on the pool's workers when it is large enough.
func sgemmArgs(kn *gemmKernel, g *gemmArgs) {
	m, n, k := g.m, g.n, g.k
	// Each worker gets at least parallelMinFlops/2 of work.
	if t := min(Threads(), 4*m*n*k/parallelMinFlops); t > 1 {
		if sp := splitGrid(kn, m, n, k, t, g.pb != nil); sp.workers() > 1 {
			runParallel(kn, g, sp)
			return
		}
	}
	buf := getPackBuf(kn)
	gemmBlocked(kn, buf, g)
	putPackBuf(buf)
}

// gemmArgs is one Sgemm call (or the sub-problem of one worker).
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	// pb, when set, replaces b: op(B) is rows [pk, pk+k) and columns
	// [pj, pj+n) of the packed matrix (pj a multiple of its panel width).
	pb     *PackedB
	pk, pj int
}

// sub returns the sub-problem for rows [i0, i1) and columns [j0, j1) of C
// and depth [p0, p1).
func (g *gemmArgs) sub(i0, i1, j0, j1, p0, p1 int) gemmArgs {
	s := *g
	s.m, s.n, s.k = i1-i0, j1-j0, p1-p0
	if g.transA {
		s.a = g.a[p0*g.lda+i0:]
	} else {
		s.a = g.a[i0*g.lda+p0:]
	}
	switch {
	case g.pb != nil:
		s.pk, s.pj = g.pk+p0, g.pj+j0
	case g.transB:
		s.b = g.b[j0*g.ldb+p0:]
	default:
		s.b = g.b[p0*g.ldb+j0:]
	}
	s.c = g.c[i0*g.ldc+j0:]
	return s
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packBuf holds one worker's packed panels. Buffers live on a free list,
// so a steady stream of Sgemm calls allocates nothing; there are at most
// as many buffers as concurrently running workers.
type packBuf struct {
	a, b []float32
}

var packBufs FreeList[packBuf]

func getPackBuf(kn *gemmKernel) *packBuf {
	buf := packBufs.Get()
	// blockSizes never exceeds a depth of 2*kc, nor kc*nc for B.
	if len(buf.a) < 2*kn.mc*kn.kc {
		buf.a = make([]float32, 2*kn.mc*kn.kc)
	}
	if len(buf.b) < kn.nc*kn.kc+2*kn.kc*kn.nr {
		buf.b = make([]float32, kn.nc*kn.kc+2*kn.kc*kn.nr)
	}
	return buf
}

func putPackBuf(buf *packBuf) { packBufs.Put(buf) }

// directMaxTiles is the largest number of register-tile columns in C for
// which A is read in place instead of packed: with few column tiles each
// A element is used only a few times, so packing it would cost about as
// much as the arithmetic (e.g. im2col convolutions with 20 or 50 filters;
// measured faster up to 8 tiles, i.e. N <= 256 with the avx512 kernel).
// directMaxRowTiles is the same for B (not transposed) and rows of C
// (e.g. a dense layer with a batch of 128).
const directMaxTiles, directMaxRowTiles = 8, 20

// gemmBlocked runs one (sub-)problem on the calling goroutine. Loop order
// (outer to inner): column blocks of nc, depth blocks of kc (pack B), row
// blocks of mc (pack A), row panels of mr, column panels of nr. The A panel
// (mr x kc) stays in L1 while the B block streams from L2.
func gemmBlocked(kn *gemmKernel, buf *packBuf, g *gemmArgs) {
	mR, nR := kn.mr, kn.nr
	m, n, k := g.m, g.n, g.k
	// With a row stride of A that is a multiple of 4 KiB, the rows (or k
	// steps) of an in-place panel all map to the same L1 sets; then only
	// half as many column tiles make reading in place pay.
	nt := (n + nR - 1) / nR
	directA := nt <= directMaxTiles/2 || (nt <= directMaxTiles && g.lda%1024 != 0)
	directB := !g.transB && (m+mR-1)/mR <= directMaxRowTiles
	pb := g.pb
	// Element (i, p) of op(A) is a[i*rs + p*ks].
	rs, ks := g.lda, 1
	if g.transA {
		rs, ks = 1, g.lda
	}
	kcb, ncb := blockSizes(kn, k)
	for jc := 0; jc < n; jc += ncb {
		nc := min(ncb, n-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			// Full column panels of B are read in place when directB; the
			// last, partial one is always packed (zero padding).
			ncFull := nc / nR * nR
			if pb != nil {
				// Nothing to pack.
			} else if !directB {
				packB(buf.b, g.transB, g.b, g.ldb, pc, jc, kc, nc, nR)
			} else if ncFull < nc {
				packB(buf.b[ncFull*kc:], false, g.b, g.ldb, pc, jc+ncFull, kc, nc-ncFull, nR)
			}
			for ic := 0; ic < m; ic += kn.mc {
				mc := min(kn.mc, m-ic)
				if !directA {
					packA(kn, buf.a, g.transA, g.a, g.lda, ic, pc, mc, kc)
				}
				// C only written: the last rows and columns may be whole
				// tiles that overlap the ones before (overlapEdges).
				overlap := kn.overlapEdges && beta == 0 && kc == k
				if pb != nil && !directA && !overlap {
					packedBlock(kn, g, buf.a, pb, ic, mc, jc, nc, pc, kc, beta)
					continue
				}
				for ir := 0; ir < mc; ir += mR {
					mr := min(mR, mc-ir)
					r0 := ic + ir // first row of C (and op(A)) of the panel
					var ap []float32
					ars, aks := 1, mR
					switch {
					case mr < mR && overlap && m >= mR:
						// The last mR rows of C, whole.
						r0, mr = m-mR, mR
						if directA {
							ap, ars, aks = g.a[r0*rs+pc*ks:], rs, ks
						} else {
							packA(kn, buf.a, g.transA, g.a, g.lda, r0, pc, mR, kc)
							ap = buf.a[:mR*kc]
						}
					case !directA:
						ap = buf.a[ir*kc : (ir+mR)*kc]
					case mr == mR:
						ap, ars, aks = g.a[(ic+ir)*rs+pc*ks:], rs, ks
					case (ic+ir)*rs+pc*ks+(mR-1)*rs+(kc-1)*ks < len(g.a):
						// Last rows, with the kernel's other rows inside a:
						// those are read but their results never stored
						// (edge tiles store mr rows), so A is still read
						// in place. Packing a transposed A's few rows costs
						// a copy per k step, more than the tile itself.
						ap, ars, aks = g.a[(ic+ir)*rs+pc*ks:], rs, ks
					default: // last rows at the end of a: pack them
						packA(kn, buf.a, g.transA, g.a, g.lda, ic+ir, pc, mr, kc)
						ap = buf.a[:mR*kc]
					}
					for jr := 0; jr < nc; jr += nR {
						nr := min(nR, nc-jr)
						bp, bs := buf.b[jr*kc:(jr+nR)*kc], nR
						c0 := jr
						var pf []float32
						switch {
						case pb != nil:
							bp, bs = pb.data[(pb.k*(g.pj+jc+jr)+(g.pk+pc)*nR):], nR
							// The first row panel reads the packed
							// block from memory: it prefetches the
							// next panel as it computes on this one.
							if ir == 0 && jr+nR < nc {
								pf = bp[pb.k*nR:]
							}
						case directB && nr == nR:
							bp, bs = g.b[pc*g.ldb+jc+jr:], g.ldb
						case directB && overlap && nr != nR/2 && n >= nR:
							// The last nR columns of C, whole, from B in
							// place (a width of nR/2 has a kernel of its
							// own).
							c0, nr = n-jc-nR, nR
							bp, bs = g.b[pc*g.ldb+n-nR:], g.ldb
						}
						kn.fn(kc, ap, ars, aks, bp, bs, g.c[r0*g.ldc+jc+c0:], g.ldc, g.alpha, beta, mr, nr, pf)
					}
				}
			}
		}
	}
}

// packedBlock computes one block of C from the packed A panels in a and
// the pre-packed B (weights, read from memory or L3 once per call) with
// the two inner loops swapped: each B micro-panel is used by all the
// block's A panels while it is in L1, so the stream from memory is spread
// over the whole block instead of arriving at the first row panel's pace
// (ResNet-18's 7x7x512 layers at batch 1, 49x512x4608 on one thread, AMD
// Zen 5: 142-158 -> 178 GFLOP/s with B in cache, 98-112 -> 138 from
// memory; BenchmarkSgemmPackedShapes).
func packedBlock(kn *gemmKernel, g *gemmArgs, a []float32, pb *PackedB, ic, mc, jc, nc, pc, kc int, beta float32) {
	mR, nR := kn.mr, kn.nr
	// One tile per B panel (the second, where there are two: the first
	// is waiting on this panel) prefetches the next panel of the block.
	pfAt := min(mR, (mc-1)/mR*mR)
	for jr := 0; jr < nc; jr += nR {
		nr := min(nR, nc-jr)
		bp := pb.data[pb.k*(g.pj+jc+jr)+(g.pk+pc)*nR:]
		var next []float32
		if jr+nR < nc {
			next = bp[pb.k*nR:]
		}
		for ir := 0; ir < mc; ir += mR {
			var pf []float32
			if ir == pfAt {
				pf = next
			}
			kn.fn(kc, a[ir*kc:(ir+mR)*kc], 1, mR, bp, nR, g.c[(ic+ir)*g.ldc+jc+jr:], g.ldc, g.alpha, beta, min(mR, mc-ir), nr, pf)
		}
	}
}

// blockSizes returns the depth and column blocking for depth k. A depth up
// to 2*kn.kc is done in one block, which saves a second pass over C (it
// matters when N is small, e.g. k=500 for LeNet's conv2); longer depths are
// cut into equal blocks of at most kn.kc. The column block shrinks to keep
// the packed B block (kc x nc) the same size.
func blockSizes(kn *gemmKernel, k int) (kc, nc int) {
	kc = k
	if k > 2*kn.kc {
		nb := (k + kn.kc - 1) / kn.kc
		kc = (k + nb - 1) / nb
	}
	nc = kn.nc
	if kc > kn.kc {
		nc = max(kn.nr, kn.nc*kn.kc/kc/kn.nr*kn.nr)
	}
	return kc, nc
}

// packA copies rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into dst as
// micro-panels of kn.mr rows: panel q holds, for each p, the mr values
// op(A)[i0+q*mr+r][p0+p]. Rows past mc are zero.
func packA(kn *gemmKernel, dst []float32, trans bool, a []float32, lda, i0, p0, mc, kc int) {
	mr := kn.mr
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : (ir+mr)*kc]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each k step is a contiguous run.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+ir:]
				dp := d[p*mr : p*mr+mr]
				copy(dp, src[:rows])
				clear(dp[rows:])
			}
			continue
		}
		src := a[(i0+ir)*lda+p0:]
		if kn.packRows != nil {
			kn.packRows(d, src, lda, kc, rows)
		} else {
			packRowsGo(d, src, lda, kc, rows, mr)
		}
	}
}

// packRowsGo packs rows (<= mr) rows of kc values at stride lda into one
// micro-panel of mr rows, zero padded.
func packRowsGo(d, a []float32, lda, kc, rows, mr int) {
	for r := 0; r < rows; r++ {
		for p, v := range a[r*lda : r*lda+kc] {
			d[p*mr+r] = v
		}
	}
	for r := rows; r < mr; r++ {
		for p := 0; p < kc; p++ {
			d[p*mr+r] = 0
		}
	}
}

// packB copies rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into dst as
// micro-panels of nr columns: panel q holds, for each p, the nr values
// op(B)[p0+p][j0+q*nr+j]. Columns past nc are zero.
func packB(dst []float32, trans bool, b []float32, ldb, p0, j0, kc, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		if !trans {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0+jr:]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src[:cols])
				clear(dp[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: each column of the panel is a row of b.
		for j := 0; j < cols; j++ {
			src := b[(j0+jr+j)*ldb+p0:]
			src = src[:kc]
			for p, v := range src {
				d[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kc; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}

// sgemmRef is a straightforward implementation, kept as a readable
// specification and used by tests.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if transB {
				for j := range crow {
					crow[j] += av * b[j*ldb+p]
				}
			} else {
				brow := b[p*ldb : p*ldb+n]
				for j := range crow {
					crow[j] += av * brow[j]
				}
			}
		}
	}
}
