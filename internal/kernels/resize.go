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

// nearestTable maps each output index of an axis to its input index.
func nearestTable(g ResizeGeom, in, out int, scale float64) []int {
	t := make([]int, out)
	for x := range t {
		t[x] = nearestIndex(srcCoord(g.Coord, x, in, out, scale), g.Nearest, in)
	}
	return t
}

// linearTap is the two input indices around x' and the weight of the
// second (the first gets 1-w).
type linearTap struct {
	i0, i1 int
	w      float32
}

func linearTable(g ResizeGeom, in, out int, scale float64) []linearTap {
	t := make([]linearTap, out)
	for x := range t {
		t[x] = linearAt(g.Coord, in, out, scale, x)
	}
	return t
}

// linearAt is entry x of linearTable.
func linearAt(m CoordMode, in, out int, scale float64, x int) linearTap {
	s := srcCoord(m, x, in, out, scale)
	f := math.Floor(s)
	clamp := func(i float64) int { return int(min(max(i, 0), float64(in-1))) }
	return linearTap{clamp(f), clamp(f + 1), float32(s - f)}
}

// ResizeNearest sets dst (N x OH x OW x C) to the nearest input pixels
// of src (N x H x W x C). It allocates the column and row tables.
func ResizeNearest(dst, src []float32, g ResizeGeom) {
	if g.N*g.OH*g.OW*g.C == 0 {
		return
	}
	ys, xs := nearestTable(g, g.H, g.OH, g.ScaleH), nearestTable(g, g.W, g.OW, g.ScaleW)
	c := g.C
	_ = dst[g.N*g.OH*g.OW*c-1]
	_ = src[g.N*g.H*g.W*c-1]
	d := 0
	for b := range g.N {
		for _, iy := range ys {
			row := src[(b*g.H+iy)*g.W*c : (b*g.H+iy+1)*g.W*c]
			for _, ix := range xs {
				copyPixel(dst[d:d+c], row[ix*c:(ix+1)*c])
				d += c
			}
		}
	}
}

// ResizeNearestGrad is the adjoint of ResizeNearest: each value of dy
// (N x OH x OW x C) is added to the input pixel it was copied from in dx
// (N x H x W x C). dx is accumulated into, not cleared.
func ResizeNearestGrad(dx, dy []float32, g ResizeGeom) {
	if g.N*g.OH*g.OW*g.C == 0 {
		return
	}
	ys, xs := nearestTable(g, g.H, g.OH, g.ScaleH), nearestTable(g, g.W, g.OW, g.ScaleW)
	c := g.C
	_ = dy[g.N*g.OH*g.OW*c-1]
	_ = dx[g.N*g.H*g.W*c-1]
	s := 0
	for b := range g.N {
		for _, iy := range ys {
			row := dx[(b*g.H+iy)*g.W*c : (b*g.H+iy+1)*g.W*c]
			for _, ix := range xs {
				addTo(row[ix*c:(ix+1)*c], dy[s:s+c])
				s += c
			}
		}
	}
}

// ResizeBilinear sets dst (N x OH x OW x C) to the bilinear
// interpolation of src (N x H x W x C), ONNX Resize's linear mode on the
// two spatial axes. It allocates the column table.
func ResizeBilinear(dst, src []float32, g ResizeGeom) {
	if g.N*g.OH*g.OW*g.C == 0 {
		return
	}
	xs := linearTable(g, g.W, g.OW, g.ScaleW)
	c, rowLen := g.C, g.W*g.C
	_ = dst[g.N*g.OH*g.OW*c-1]
	_ = src[g.N*g.H*rowLen-1]
	d := 0
	for b := range g.N {
		img := src[b*g.H*rowLen : (b+1)*g.H*rowLen]
		for oy := range g.OH {
			ty := linearAt(g.Coord, g.H, g.OH, g.ScaleH, oy) // once per row: no table
			r0, r1 := img[ty.i0*rowLen:(ty.i0+1)*rowLen], img[ty.i1*rowLen:(ty.i1+1)*rowLen]
			wy1 := ty.w
			wy0 := 1 - wy1
			for _, tx := range xs {
				w00, w01 := wy0*(1-tx.w), wy0*tx.w
				w10, w11 := wy1*(1-tx.w), wy1*tx.w
				a, bb := r0[tx.i0*c:(tx.i0+1)*c], r0[tx.i1*c:(tx.i1+1)*c]
				cc, dd := r1[tx.i0*c:(tx.i0+1)*c], r1[tx.i1*c:(tx.i1+1)*c]
				out := dst[d : d+c]
				for i := range out {
					out[i] = w00*a[i] + w01*bb[i] + w10*cc[i] + w11*dd[i]
				}
				d += c
			}
		}
	}
}

// ResizeBilinearGrad is the adjoint of ResizeBilinear: each value of dy
// is spread over the four input pixels it was interpolated from, with
// the same weights. dx is accumulated into, not cleared.
func ResizeBilinearGrad(dx, dy []float32, g ResizeGeom) {
	if g.N*g.OH*g.OW*g.C == 0 {
		return
	}
	xs := linearTable(g, g.W, g.OW, g.ScaleW)
	c, rowLen := g.C, g.W*g.C
	_ = dy[g.N*g.OH*g.OW*c-1]
	_ = dx[g.N*g.H*rowLen-1]
	s := 0
	for b := range g.N {
		img := dx[b*g.H*rowLen : (b+1)*g.H*rowLen]
		for oy := range g.OH {
			ty := linearAt(g.Coord, g.H, g.OH, g.ScaleH, oy) // once per row: no table
			r0, r1 := img[ty.i0*rowLen:(ty.i0+1)*rowLen], img[ty.i1*rowLen:(ty.i1+1)*rowLen]
			wy1 := ty.w
			wy0 := 1 - wy1
			for _, tx := range xs {
				w00, w01 := wy0*(1-tx.w), wy0*tx.w
				w10, w11 := wy1*(1-tx.w), wy1*tx.w
				a, bb := r0[tx.i0*c:(tx.i0+1)*c], r0[tx.i1*c:(tx.i1+1)*c]
				cc, dd := r1[tx.i0*c:(tx.i0+1)*c], r1[tx.i1*c:(tx.i1+1)*c]
				// Sequential updates: the four pixels may coincide at an
				// edge, where their weights must add up.
				for i, v := range dy[s : s+c] {
					a[i] += w00 * v
					bb[i] += w01 * v
					cc[i] += w10 * v
					dd[i] += w11 * v
				}
				s += c
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
