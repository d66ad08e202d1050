package kernels

import (
	"fmt"
	"math"
)

// CoordMode is ONNX Resize's coordinate_transformation_mode: how output
// coordinate x maps to input coordinate x' along an axis resized from
// length in to length out with scale s (out/in unless given).
// TensorFlow's ResizeBilinear and ResizeNearestNeighbor map onto them:
// align_corners=True is AlignCorners, half_pixel_centers=True is
// HalfPixel (nearest: with RoundPreferCeil, which is TF's
// floor((x+0.5)*in/out)), neither is Asymmetric (nearest: with Floor).
type CoordMode int

const (
	HalfPixel        CoordMode = iota // x' = (x+0.5)/s - 0.5
	PytorchHalfPixel                  // as HalfPixel, but x' = 0 when out == 1
	AlignCorners                      // x' = x*(in-1)/(out-1), 0 when out == 1
	Asymmetric                        // x' = x/s
)

// NearestMode is ONNX Resize's nearest_mode: how ResizeNearest rounds x'.
type NearestMode int

const (
	RoundPreferFloor NearestMode = iota // nearest, ties down
	RoundPreferCeil                     // nearest, ties up
	Floor
	Ceil
)

// ResizeGeom is an NHWC resize of N images of H x W x C to OH x OW.
// Coordinates are computed in float64 from the scales (ONNX's scales
// input; 0 means OH/H and OW/W, as when ONNX is given sizes), so an
// output that lands exactly between two pixels ties exactly. Input
// indices are clamped to the image, as ONNX does without
// extrapolation.
type ResizeGeom struct {
	N, H, W, C     int
	OH, OW         int
	ScaleH, ScaleW float64
	Coord          CoordMode
	Nearest        NearestMode // ResizeNearest only
}

// Validate reports a geometry the resize kernels cannot run.
func (g ResizeGeom) Validate() error {
	switch {
	case g.N < 0 || g.H < 1 || g.W < 1 || g.C < 0 || g.OH < 0 || g.OW < 0:
		return fmt.Errorf("kernels: resize of %dx%dx%dx%d to %dx%d: bad extent", g.N, g.H, g.W, g.C, g.OH, g.OW)
	case !(g.ScaleH >= 0) || !(g.ScaleW >= 0) || math.IsInf(g.ScaleH, 0) || math.IsInf(g.ScaleW, 0):
		return fmt.Errorf("kernels: resize scales %g, %g must be positive and finite", g.ScaleH, g.ScaleW)
	case g.Coord < HalfPixel || g.Coord > Asymmetric:
		return fmt.Errorf("kernels: unknown resize coordinate mode %d", g.Coord)
	case g.Nearest < RoundPreferFloor || g.Nearest > Ceil:
		return fmt.Errorf("kernels: unknown nearest mode %d", g.Nearest)
	}
	return nil
}

// srcCoord is x' for output index x of an axis (scale 0: out/in).
func srcCoord(m CoordMode, x, in, out int, scale float64) float64 {
	if scale == 0 {
		scale = float64(out) / float64(in)
	}
	switch m {
	case PytorchHalfPixel:
		if out <= 1 {
			return 0
		}
		return (float64(x)+0.5)/scale - 0.5
	case AlignCorners:
		if out <= 1 {
			return 0
		}
		return float64(x) * float64(in-1) / float64(out-1)
	case Asymmetric:
		return float64(x) / scale
	}
	return (float64(x)+0.5)/scale - 0.5
}

// nearestIndex rounds x' to an input index of an axis of length in.
func nearestIndex(x float64, m NearestMode, in int) int {
	f := math.Floor(x)
	i := f
	switch frac := x - f; m {
	case RoundPreferFloor:
		if frac > 0.5 {
			i++
		}
	case RoundPreferCeil:
		if frac >= 0.5 {
			i++
		}
	case Ceil:
		if frac > 0 {
			i++
		}
	}
	return int(min(max(i, 0), float64(in-1)))
}

// linearTap is the two input indices around x' and the weight of the
// second (the first gets 1-w).
type linearTap struct {
	i0, i1 int
	w      float32
}

// linearAt is the bilinear tap of output index x.
func linearAt(m CoordMode, in, out int, scale float64, x int) linearTap {
	s := srcCoord(m, x, in, out, scale)
	f := math.Floor(s)
	clamp := func(i float64) int { return int(min(max(i, 0), float64(in-1))) }
	return linearTap{clamp(f), clamp(f + 1), float32(s - f)}
}

// ResizeNearest sets dst (N x OH x OW x C) to the nearest input pixels
// of src (N x H x W x C). It allocates the column and row tables (a
// ResizePlan keeps them between calls).
func ResizeNearest(dst, src []float32, g ResizeGeom) {
	var p ResizePlan
	p.build(g, false)
	p.Rows(dst, src, 0, g.N*g.OH)
}

// ResizeNearestGrad is the adjoint of ResizeNearest: each value of dy
// (N x OH x OW x C) is added to the input pixel it was copied from in dx
// (N x H x W x C). dx is accumulated into, not cleared.
func ResizeNearestGrad(dx, dy []float32, g ResizeGeom) {
	var p ResizePlan
	p.build(g, false)
	p.Grad(dx, dy, 0, g.N)
}

// ResizeBilinear sets dst (N x OH x OW x C) to the bilinear
// interpolation of src (N x H x W x C), ONNX Resize's linear mode on the
// two spatial axes. It allocates the tables (a ResizePlan keeps them).
func ResizeBilinear(dst, src []float32, g ResizeGeom) {
	var p ResizePlan
	p.build(g, true)
	p.Rows(dst, src, 0, g.N*g.OH)
}

// ResizeBilinearU8ToF32 is ResizeBilinear of 8-bit values (a decoded photo's)
// into float32, with the same taps and arithmetic as on their float32
// copies, so that the results are identical; only the rows and pixels
// the taps read are converted (a 640x480 photo's float copy, 3.7 MB, cost
// more than its resize to 128x128).
func ResizeBilinearU8ToF32(dst []float32, src []uint8, g ResizeGeom) {
	var p ResizePlan
	p.build(g, true)
	c, rowLen := g.C, g.W*g.C
	if len(dst) < g.N*g.OH*g.OW*c || len(src) < g.N*g.H*rowLen {
		panic(fmt.Sprintf("kernels.ResizeBilinearU8ToF32: dst %d and src %d values for %dx%dx%dx%d to %dx%d", len(dst), len(src), g.N, g.H, g.W, g.C, g.OH, g.OW))
	}
	// Output rows in parallel: a photo to CenterNet's 512x512 is a few
	// milliseconds, in a request's path before the model. (One closure
	// a call: the resize allocates its plan anyway.)
	ParallelFunc(g.N*g.OH, max(1, 8192/max(1, g.OW*c)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/g.OH, r%g.OH
			img := src[b*g.H*rowLen : (b+1)*g.H*rowLen]
			out := dst[r*g.OW*c : (r+1)*g.OW*c]
			ty := p.ty[oy]
			bilinearRow(out, img[ty.i0*rowLen:(ty.i0+1)*rowLen], img[ty.i1*rowLen:(ty.i1+1)*rowLen], p.tx, ty.w, c)
		}
	})
}

// ResizeBilinearGrad is the adjoint of ResizeBilinear: each value of dy
// is spread over the four input pixels it was interpolated from, with
// the same weights. dx is accumulated into, not cleared.
func ResizeBilinearGrad(dx, dy []float32, g ResizeGeom) {
	var p ResizePlan
	p.build(g, true)
	p.Grad(dx, dy, 0, g.N)
}

// ResizePlan is a resize with its coordinate tables built once (Reset)
// and kept, so that repeated calls on one geometry (a graph op's Forward
// and Backward on every batch) allocate nothing; Rows and Grad take a
// range of the work, so Parallel can split it.
type ResizePlan struct {
	g      ResizeGeom
	linear bool
	ys, xs []int       // nearest: input row and column of each output one
	ty, tx []linearTap // bilinear
}

// Reset validates g and builds the tables of a nearest (linear false) or
// bilinear resize, reusing the plan's storage.
func (p *ResizePlan) Reset(g ResizeGeom, linear bool) error {
	if err := g.Validate(); err != nil {
		return err
	}
	p.build(g, linear)
	return nil
}

func (p *ResizePlan) build(g ResizeGeom, linear bool) {
	p.g, p.linear = g, linear
	if linear {
		p.ty, p.tx = p.ty[:0], p.tx[:0]
		for y := range g.OH {
			p.ty = append(p.ty, linearAt(g.Coord, g.H, g.OH, g.ScaleH, y))
		}
		for x := range g.OW {
			p.tx = append(p.tx, linearAt(g.Coord, g.W, g.OW, g.ScaleW, x))
		}
		return
	}
	p.ys, p.xs = p.ys[:0], p.xs[:0]
	for y := range g.OH {
		p.ys = append(p.ys, nearestIndex(srcCoord(g.Coord, y, g.H, g.OH, g.ScaleH), g.Nearest, g.H))
	}
	for x := range g.OW {
		p.xs = append(p.xs, nearestIndex(srcCoord(g.Coord, x, g.W, g.OW, g.ScaleW), g.Nearest, g.W))
	}
}

// Geom is the geometry the plan was built for.
func (p *ResizePlan) Geom() ResizeGeom { return p.g }

// Rows computes output rows [r0, r1) of the N*OH rows of dst (N x OH x
// OW x C) from src (N x H x W x C).
func (p *ResizePlan) Rows(dst, src []float32, r0, r1 int) {
	g := p.g
	if g.N*g.OH*g.OW*g.C == 0 || r0 >= r1 {
		return
	}
	c, rowLen := g.C, g.W*g.C
	// Lengths, not a read of the last value: other ranges of dst are
	// being written concurrently.
	if len(dst) < g.N*g.OH*g.OW*c || len(src) < g.N*g.H*rowLen || r0 < 0 || r1 > g.N*g.OH {
		panic(fmt.Sprintf("kernels.ResizePlan.Rows: rows [%d, %d) of %d, dst %d and src %d values for %dx%dx%dx%d to %dx%d", r0, r1, g.N*g.OH, len(dst), len(src), g.N, g.H, g.W, g.C, g.OH, g.OW))
	}
	for r := r0; r < r1; r++ {
		b, oy := r/g.OH, r%g.OH
		img := src[b*g.H*rowLen : (b+1)*g.H*rowLen]
		out := dst[r*g.OW*c : (r+1)*g.OW*c]
		if !p.linear {
			row := img[p.ys[oy]*rowLen : (p.ys[oy]+1)*rowLen]
			for ox, ix := range p.xs {
				copyPixel(out[ox*c:(ox+1)*c], row[ix*c:(ix+1)*c])
			}
			continue
		}
		ty := p.ty[oy]
		bilinearRow(out, img[ty.i0*rowLen:(ty.i0+1)*rowLen], img[ty.i1*rowLen:(ty.i1+1)*rowLen], p.tx, ty.w, c)
	}
}

// bilinearRow interpolates one output row of c-channel pixels between
// input rows r0 and r1 (weight wy1 on r1) at the column taps tx. Both
// ResizePlan.Rows and ResizeBilinearU8ToF32 use it, so that 8-bit input
// gives exactly what its float32 copy gives.
func bilinearRow[T uint8 | float32](out []float32, r0, r1 []T, tx []linearTap, wy1 float32, c int) {
	wy0 := 1 - wy1
	for ox, t := range tx {
		w00, w01 := wy0*(1-t.w), wy0*t.w
		w10, w11 := wy1*(1-t.w), wy1*t.w
		a, bb := r0[t.i0*c:(t.i0+1)*c], r0[t.i1*c:(t.i1+1)*c]
		cc, dd := r1[t.i0*c:(t.i0+1)*c], r1[t.i1*c:(t.i1+1)*c]
		o := out[ox*c : (ox+1)*c]
		for i := range o {
			o[i] = w00*float32(a[i]) + w01*float32(bb[i]) + w10*float32(cc[i]) + w11*float32(dd[i])
		}
	}
}

// Grad accumulates the adjoint of images [b0, b1) into dx (N x H x W x
// C) from dy (N x OH x OW x C): each value of dy goes to the pixels it
// was taken from, with the same weights. Images are the unit because the
// output rows of one image add into shared input rows.
func (p *ResizePlan) Grad(dx, dy []float32, b0, b1 int) {
	g := p.g
	if g.N*g.OH*g.OW*g.C == 0 || b0 >= b1 {
		return
	}
	c, rowLen := g.C, g.W*g.C
	if len(dy) < g.N*g.OH*g.OW*c || len(dx) < g.N*g.H*rowLen || b0 < 0 || b1 > g.N {
		panic(fmt.Sprintf("kernels.ResizePlan.Grad: images [%d, %d) of %d, dx %d and dy %d values for %dx%dx%dx%d to %dx%d", b0, b1, g.N, len(dx), len(dy), g.N, g.H, g.W, g.C, g.OH, g.OW))
	}
	for b := b0; b < b1; b++ {
		img := dx[b*g.H*rowLen : (b+1)*g.H*rowLen]
		for oy := range g.OH {
			s := (b*g.OH + oy) * g.OW * c
			if !p.linear {
				row := img[p.ys[oy]*rowLen : (p.ys[oy]+1)*rowLen]
				for ox, ix := range p.xs {
					addTo(row[ix*c:(ix+1)*c], dy[s+ox*c:s+(ox+1)*c])
				}
				continue
			}
			ty := p.ty[oy]
			r0, r1 := img[ty.i0*rowLen:(ty.i0+1)*rowLen], img[ty.i1*rowLen:(ty.i1+1)*rowLen]
			wy1 := ty.w
			wy0 := 1 - wy1
			for ox, tx := range p.tx {
				w00, w01 := wy0*(1-tx.w), wy0*tx.w
				w10, w11 := wy1*(1-tx.w), wy1*tx.w
				a, bb := r0[tx.i0*c:(tx.i0+1)*c], r0[tx.i1*c:(tx.i1+1)*c]
				cc, dd := r1[tx.i0*c:(tx.i0+1)*c], r1[tx.i1*c:(tx.i1+1)*c]
				// Sequential updates: the four pixels may coincide at an
				// edge, where their weights must add up.
				for i, v := range dy[s+ox*c : s+(ox+1)*c] {
					a[i] += w00 * v
					bb[i] += w01 * v
					cc[i] += w10 * v
					dd[i] += w11 * v
				}
			}
		}
	}
}

// copyPixel copies one pixel's channels: short ones without a memmove call.
func copyPixel(dst, src []float32) {
	if len(dst) <= smallSpan {
		copySmall(dst, src)
		return
	}
	copy(dst, src)
}
