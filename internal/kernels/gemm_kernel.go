package kernels

import (
	"fmt"
	"sync/atomic"
)

// gemmKernel is one micro-kernel with the blocking it was tuned for.
// fn computes C[0:mr, 0:nr] = alpha*A*B + beta*C (beta == 0: C is not
// read) for an A panel of depth k whose element (r, p) is a[r*rs + p*ks]
// (one of rs, ks is 1; all of the kernel's mr rows must be readable: a
// packed panel is zero padded, and a panel read in place may have rows
// past the caller's mr that hold anything, since every row of C depends
// on its own row of A only and fn stores only C[0:mr]) and a B panel whose row p is the kernel's nr
// values at b[p*bs:] (packed and zero padded with bs = nr, or B itself).
type gemmKernel struct {
	name   string
	mr, nr int // register tile
	kc, mc int // cache blocks: depth, rows of A per packed block
	nc     int // columns of B per packed block (multiple of nr)
	// fn computes one tile; pf, if not nil, is memory laid out as b (the
	// next B panel of a packed block) that the kernel may prefetch while
	// it runs.
	fn func(k int, a []float32, rs, ks int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, mr, nr int, pf []float32)
	// packRows, if set, packs rows (<= mr) rows of a row-major A (row
	// stride lda, kc columns) into one zero-padded micro-panel; it
	// replaces the Go loop in packA.
	packRows func(dst, a []float32, lda, kc, rows int)
	// overlapEdges: the kernel has no edge tiles of its own (AVX2 goes
	// through a scratch tile), so where C is only written (beta 0, one
	// depth block) gemmBlocked computes the last rows (columns) as the
	// whole tile that ends at C's edge, writing the rows (columns) it
	// shares with the tile before again with the same values.
	overlapEdges bool
	// row1, if set, computes one row of C from one packed B panel of
	// depth k: c[0:nr] = alpha * a[0:k] * panel + beta*c (beta 0: c is not
	// read). A one-row product by a packed matrix (packedRow) then reads
	// B as one sequential stream.
	row1 func(k int, a, b, c []float32, alpha, beta float32, nr int)
}

// kernelList holds the kernels this CPU can run, best first; generic is
// always last.
var kernelList []*gemmKernel

var activeKernel atomic.Pointer[gemmKernel]

func registerKernel(k *gemmKernel) { kernelList = append(kernelList, k) }

func init() {
	registerArchKernels()
	registerKernel(genericKernel)
	activeKernel.Store(kernelList[0])
}

// AvailableKernels lists the SGEMM micro-kernels usable on this CPU, fastest
// first ("avx512", "avx2", "generic"). The first is the default.
func AvailableKernels() []string {
	names := make([]string, len(kernelList))
	for i, k := range kernelList {
		names[i] = k.name
	}
	return names
}

// Tile returns the register tile (rows, columns of C) of the micro-kernel
// Sgemm uses now: callers that can choose between GEMM shapes prefer an
// n that is a multiple of the columns (a partial tile costs a whole one).
func Tile() (mr, nr int) {
	k := activeKernel.Load()
	return k.mr, k.nr
}

// Kernel returns the name of the micro-kernel Sgemm uses now.
func Kernel() string { return activeKernel.Load().name }

// SetKernel makes Sgemm use the named micro-kernel (one of AvailableKernels)
// and returns a function restoring the previous choice. It is meant for
// tests and benchmarks; it must not race with running Sgemm calls.
func SetKernel(name string) (restore func(), err error) {
	for _, k := range kernelList {
		if k.name == name {
			prev := activeKernel.Swap(k)
			return func() { activeKernel.Store(prev) }, nil
		}
	}
	return nil, fmt.Errorf("kernels: SGEMM kernel %q not available on this CPU (have %v)", name, AvailableKernels())
}

// genericKernel is the portable 4x4 register tile.
var genericKernel = &gemmKernel{
	name: "generic", mr: 4, nr: 4, kc: 256, mc: 128, nc: 1024,
	fn: genericMicro,
}

func genericMicro(k int, a []float32, rs, ks int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, mr, nr int, _ []float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		bp := b[bs*p : bs*p+4 : bs*p+4]
		o := p * ks
		a0, a1, a2, a3 := a[o], a[o+rs], a[o+2*rs], a[o+3*rs]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	storeTile(t[:], 4, c, ldc, alpha, beta, mr, nr)
}

// storeTile writes C[0:mr, 0:nr] = alpha*t + beta*C from a tile t with row
// stride tn.
func storeTile(t []float32, tn int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		ti := t[i*tn : i*tn+nr]
		switch {
		case beta == 0 && alpha == 1: // the usual case: a copy
			copy(row, ti)
		case beta == 0:
			for j := range row {
				row[j] = alpha * ti[j]
			}
		case alpha == 1 && beta == 1: // accumulating over depth blocks
			for j, v := range ti {
				row[j] += v
			}
		default:
			for j := range row {
				row[j] = alpha*ti[j] + beta*row[j]
			}
		}
	}
}
