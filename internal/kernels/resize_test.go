package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The reference follows the ONNX Resize definition axis by axis, in
// float64: x_original from the coordinate_transformation_mode formulas,
// then, like the ONNX reference implementation, a ratio in (0, 1] from
// the pixel at or left of x_original and neighbours read from the axis
// padded with its edge values.

// onnxCoord is x_original, with scale = length_resized / length_original
// unless one is given.
func onnxCoord(mode CoordMode, x, lenIn, lenOut int, scale float64) float64 {
	if scale == 0 {
		scale = float64(lenOut) / float64(lenIn)
	}
	xr := float64(x)
	switch mode {
	case HalfPixel:
		return (xr+0.5)/scale - 0.5
	case PytorchHalfPixel:
		if lenOut > 1 {
			return (xr+0.5)/scale - 0.5
		}
		return 0
	case AlignCorners:
		if lenOut == 1 {
			return 0 // the spec divides by zero; ONNX's reference uses 0
		}
		return xr * float64(lenIn-1) / float64(lenOut-1)
	default: // Asymmetric
		return xr / scale
	}
}

type tap64 struct {
	i int
	w float64
}

// onnxTaps returns the input indices and weights that output x reads.
func onnxTaps(linear bool, nm NearestMode, mode CoordMode, x, lenIn, lenOut int, scale float64) []tap64 {
	xo := onnxCoord(mode, x, lenIn, lenOut, scale)
	left := math.Floor(xo)
	ratio := xo - left
	if ratio == 0 { // prefer the pixel on the left: ratio 1 from left-1
		left, ratio = left-1, 1
	}
	edge := func(i float64) int { return int(math.Max(0, math.Min(i, float64(lenIn-1)))) }
	l, r := edge(left), edge(left+1)
	if linear {
		return []tap64{{l, 1 - ratio}, {r, ratio}}
	}
	takeRight := false
	switch nm {
	case RoundPreferFloor:
		takeRight = ratio > 0.5
	case RoundPreferCeil:
		takeRight = ratio >= 0.5
	case Floor:
		takeRight = ratio == 1
	case Ceil:
		takeRight = true
	}
	if takeRight {
		return []tap64{{r, 1}}
	}
	return []tap64{{l, 1}}
}

// refResize returns, per output pixel (b, oy, ox), the input pixels and
// weights it combines (the same for every channel).
func refResize(g ResizeGeom, linear bool) [][]tap64 {
	var out [][]tap64
	for b := range g.N {
		for oy := range g.OH {
			ty := onnxTaps(linear, g.Nearest, g.Coord, oy, g.H, g.OH, g.ScaleH)
			for ox := range g.OW {
				tx := onnxTaps(linear, g.Nearest, g.Coord, ox, g.W, g.OW, g.ScaleW)
				var taps []tap64
				for _, y := range ty {
					for _, x := range tx {
						taps = append(taps, tap64{(b*g.H+y.i)*g.W + x.i, y.w * x.w})
					}
				}
				out = append(out, taps)
			}
		}
	}
	return out
}

func resizeGeoms() []ResizeGeom {
	var gs []ResizeGeom
	for _, s := range []struct {
		h, w, oh, ow   int
		scaleH, scaleW float64
	}{
		{4, 4, 8, 8, 0, 0},       // 2x up: asymmetric coordinates tie at .5
		{5, 7, 3, 2, 0, 0},       // down, odd
		{3, 5, 7, 11, 0, 0},      // up, non-integer
		{6, 6, 6, 6, 0, 0},       // identity
		{9, 4, 1, 1, 0, 0},       // to one pixel (the out == 1 cases)
		{1, 1, 3, 4, 0, 0},       // from one pixel
		{5, 5, 8, 8, 1.7, 1.7},   // ONNX scales: out = floor(5*1.7), scale kept
		{8, 10, 3, 3, 0.4, 0.33}, // downscale by given scales
		{7, 3, 16, 5, 0, 0},
	} {
		for _, c := range []int{1, 3, 17} {
			for mode := HalfPixel; mode <= Asymmetric; mode++ {
				for nm := RoundPreferFloor; nm <= Ceil; nm++ {
					gs = append(gs, ResizeGeom{N: 2, H: s.h, W: s.w, C: c, OH: s.oh, OW: s.ow,
						ScaleH: s.scaleH, ScaleW: s.scaleW, Coord: mode, Nearest: nm})
				}
			}
		}
	}
	return gs
}

func TestResizeMatchesONNXReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, g := range resizeGeoms() {
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		src := randVec(rng, g.N*g.H*g.W*g.C)
		for _, linear := range []bool{false, true} {
			if linear && g.Nearest != RoundPreferFloor {
				continue // nearest_mode does not apply
			}
			taps := refResize(g, linear)
			got := make([]float32, g.N*g.OH*g.OW*g.C)
			if linear {
				ResizeBilinear(got, src, g)
			} else {
				ResizeNearest(got, src, g)
			}
			for p, ts := range taps {
				for ch := range g.C {
					want, mag, sum := 0.0, 0.0, 0.0
					for _, tp := range ts {
						x := float64(src[tp.i*g.C+ch])
						want += tp.w * x
						mag += math.Abs(tp.w * x)
						sum += math.Abs(x)
					}
					v := got[p*g.C+ch]
					// Nearest copies exactly. Bilinear's float32 weights
					// (products of w or 1-w per axis) are off by up to
					// 3*2^-24 absolute, and its four products and three sums
					// round by 2^-24 of the terms each.
					tol := (3*sum + 4*mag) * 0x1p-24
					if d := math.Abs(float64(v) - want); d > tol || !linear && d != 0 {
						t.Fatalf("%+v linear=%v: pixel %d channel %d = %v, want %v", g, linear, p, ch, v, want)
					}
				}
			}
		}
	}
}

// The backward kernels are the adjoints of the forward ones:
// <dy, R x> = <R^T dy, x>, summed in float64 from float32 results.
func TestResizeGradIsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, g := range resizeGeoms() {
		for _, linear := range []bool{false, true} {
			if linear && g.Nearest != RoundPreferFloor {
				continue
			}
			x := randVec(rng, g.N*g.H*g.W*g.C)
			dy := randVec(rng, g.N*g.OH*g.OW*g.C)
			y := make([]float32, len(dy))
			dx := make([]float32, len(x))
			for i := range dx {
				dx[i] = 0.25 // accumulated into
			}
			if linear {
				ResizeBilinear(y, x, g)
				ResizeBilinearGrad(dx, dy, g)
			} else {
				ResizeNearest(y, x, g)
				ResizeNearestGrad(dx, dy, g)
			}
			var lhs, rhs float64
			for i := range y {
				lhs += float64(dy[i]) * float64(y[i])
			}
			for i := range x {
				rhs += (float64(dx[i]) - 0.25) * float64(x[i])
			}
			// Both equal sum over (output, tap) of |dy w x| terms; the
			// forward side rounds each output over at most 4 taps (plus the
			// weights), the backward side each input over all the taps that
			// read it (count).
			taps := refResize(g, linear)
			count := make([]int, g.N*g.H*g.W)
			mag := 0.0
			for p, ts := range taps {
				for _, tp := range ts {
					count[tp.i]++
					for ch := range g.C {
						mag += math.Abs(tp.w * float64(dy[p*g.C+ch]) * float64(x[tp.i*g.C+ch]))
					}
				}
			}
			maxCount := 0
			for _, c := range count {
				maxCount = max(maxCount, c)
			}
			tol := float64(maxCount+12) * 0x1p-24 * mag
			if d := math.Abs(lhs - rhs); d > tol {
				t.Fatalf("%+v linear=%v: <dy, Rx> = %v, <R^T dy, x> = %v (tolerance %g)", g, linear, lhs, rhs, tol)
			}
		}
	}
}

func TestResizeGeomValidate(t *testing.T) {
	good := ResizeGeom{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4}
	for i, g := range []ResizeGeom{
		{N: 1, H: 0, W: 2, C: 1, OH: 4, OW: 4},
		{N: 1, H: 2, W: 2, C: 1, OH: -1, OW: 4},
		{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4, ScaleH: math.NaN()},
		{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4, ScaleW: -2},
		{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4, ScaleW: math.Inf(1)},
		{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4, Coord: 9},
		{N: 1, H: 2, W: 2, C: 1, OH: 4, OW: 4, Nearest: -1},
	} {
		if g.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, g)
		}
	}
	if err := good.Validate(); err != nil {
		t.Error(err)
	}
}

func BenchmarkResizeBilinear(b *testing.B) {
	for _, c := range []int{3, 64} {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			g := ResizeGeom{N: 1, H: 56, W: 56, C: c, OH: 112, OW: 112}
			src := make([]float32, 56*56*c)
			dst := make([]float32, 112*112*c)
			b.SetBytes(int64(4 * len(dst)))
			for b.Loop() {
				ResizeBilinear(dst, src, g)
			}
		})
	}
}

// ResizeBilinearU8ToF32 gives exactly ResizeBilinear of the values' float32
// copies, down and up, for every coordinate mode.
func TestResizeBilinearU8ToF32MatchesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []CoordMode{HalfPixel, AlignCorners, Asymmetric, PytorchHalfPixel} {
		for _, sz := range [][4]int{{480, 640, 128, 128}, {7, 5, 16, 9}, {1, 1, 3, 2}, {33, 17, 32, 16}} {
			g := ResizeGeom{N: 2, H: sz[0], W: sz[1], C: 3, OH: sz[2], OW: sz[3], Coord: m}
			src := make([]uint8, g.N*g.H*g.W*g.C)
			f := make([]float32, len(src))
			for i := range src {
				src[i] = uint8(rng.IntN(256))
				f[i] = float32(src[i])
			}
			want := make([]float32, g.N*g.OH*g.OW*g.C)
			got := make([]float32, len(want))
			ResizeBilinear(want, f, g)
			ResizeBilinearU8ToF32(got, src, g)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("mode %v, %v: value %d = %v, want %v", m, sz, i, got[i], want[i])
				}
			}
		}
	}
}
