package kernels

import "fmt"

// transposeBlock is the tile edge of Transpose: a 16x16 tile of float32
// is 1 KiB read and 1 KiB written, so both sides stay in L1 while the
// writes walk down the destination's columns.
const transposeBlock = 16

// Transpose writes the transpose of the rows x cols matrix src (row
// stride lds) into dst (cols x rows, row stride ldd): dst[j*ldd+i] =
// src[i*lds+j]. It walks the matrices in tiles so that neither side is
// read or written one element per cache line, which is what an NCHW <->
// NHWC conversion ((C, H*W) <-> (H*W, C) per image) needs.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	if lds < cols || ldd < rows || len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic(fmt.Sprintf("kernels.Transpose: %dx%d matrix, strides %d and %d, slices of %d and %d values", rows, cols, lds, ldd, len(src), len(dst)))
	}
	if rows <= 4 { // (C, HW) -> (HW, C) with few channels: one pass down the columns
		transposeFewRows(dst, ldd, src, lds, rows, cols)
		return
	}
	const b = transposeBlock
	for i0 := 0; i0 < rows; i0 += b {
		i1 := min(i0+b, rows)
		// Chunks of columns keep the band's destination lines in cache
		// while both of its 8-row halves write them.
		for j0 := 0; j0 < cols; j0 += 4 * b {
			transposeRegion(dst, ldd, src, lds, i0, i1, j0, min(j0+4*b, cols))
		}
	}
}

// transposeRegion transposes rows [i0, i1) x columns [j0, j1): 8-row
// bands with the assembly where there is one, the rest in Go.
func transposeRegion(dst []float32, ldd int, src []float32, lds int, i0, i1, j0, j1 int) {
	i := i0
	for ; i+8 <= i1; i += 8 {
		done := transposeBand8Asm(dst[j0*ldd+i:], ldd, src[i*lds+j0:], lds, j1-j0)
		if done == 0 {
			break
		}
		transposeScalar(dst, ldd, src, lds, i, i+8, j0+done, j1)
	}
	if i == i0 && i1-i0 == transposeBlock {
		for j := j0; j+transposeBlock <= j1; j += transposeBlock {
			transposeTile(dst[j*ldd+i:], ldd, src[i*lds+j:], lds)
		}
		transposeScalar(dst, ldd, src, lds, i0, i1, j0+(j1-j0)/transposeBlock*transposeBlock, j1)
		return
	}
	transposeScalar(dst, ldd, src, lds, i, i1, j0, j1)
}

// transposeScalar transposes rows [i0, i1) x columns [j0, j1) one value
// at a time.
func transposeScalar(dst []float32, ldd int, src []float32, lds int, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		s := src[i*lds+j0 : i*lds+j1]
		for j, v := range s {
			dst[(j0+j)*ldd+i] = v
		}
	}
}

// transposeTile transposes one full 16x16 tile, two source rows at a
// time so that each destination row gets two adjacent values per pass.
func transposeTile(dst []float32, ldd int, src []float32, lds int) {
	const b = transposeBlock
	for i := 0; i < b; i += 2 {
		r0 := src[i*lds : i*lds+b : i*lds+b]
		r1 := src[(i+1)*lds : (i+1)*lds+b : (i+1)*lds+b]
		for j := range b {
			d := dst[j*ldd+i : j*ldd+i+2 : j*ldd+i+2]
			d[0], d[1] = r0[j], r1[j]
		}
	}
}

// transposeFewRows interleaves a few source rows: each destination row is
// written once, from as many sequential read streams.
func transposeFewRows(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	switch rows {
	case 1:
		for j, v := range src[:cols] {
			dst[j*ldd] = v
		}
	case 2:
		r0, r1 := src[:cols], src[lds:lds+cols]
		for j := range r0 {
			d := dst[j*ldd : j*ldd+2 : j*ldd+2]
			d[0], d[1] = r0[j], r1[j]
		}
	case 3:
		r0, r1, r2 := src[:cols], src[lds:lds+cols], src[2*lds:2*lds+cols]
		j0 := 0
		if ldd == 3 {
			// Dense pixels (an RGB input to NHWC), 8 at a time:
			// BenchmarkTranspose/3x50176 105-117 -> 25 us.
			j0 = interleave3Asm(dst, r0, r1, r2)
		}
		for j := j0; j < cols; j++ {
			d := dst[j*ldd : j*ldd+3 : j*ldd+3]
			d[0], d[1], d[2] = r0[j], r1[j], r2[j]
		}
	default:
		r0, r1, r2, r3 := src[:cols], src[lds:lds+cols], src[2*lds:2*lds+cols], src[3*lds:3*lds+cols]
		for j := range r0 {
			d := dst[j*ldd : j*ldd+4 : j*ldd+4]
			d[0], d[1], d[2], d[3] = r0[j], r1[j], r2[j], r3[j]
		}
	}
}
