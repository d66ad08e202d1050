package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// triangleWeights is the antialiasing triangle filter in float64: input
// pixel i's weight for output x is max(0, 1 - |i+0.5 - centre|/support)
// with support max(in/out, 1), normalised to sum 1.
func triangleWeights(in, out, x int) []float64 {
	scale := float64(in) / float64(out)
	support := math.Max(scale, 1)
	centre := (float64(x) + 0.5) * scale
	w := make([]float64, in)
	total := 0.0
	for i := range w {
		w[i] = math.Max(0, 1-math.Abs(float64(i)+0.5-centre)/support)
		total += w[i]
	}
	for i := range w {
		w[i] /= total
	}
	return w
}

// The fixed-point two-pass resize is within one level of the exact
// filter, plus the error of its weights: the 8-bit intermediate and the
// final rounding are each off by at most half a level (both can be, at a
// tie), and each of the k weights of a pass is off by at most 2^-23.
func TestResizeBilinearU8MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, s := range []struct{ sw, sh, dw, dh int }{
		{61, 43, 16, 16}, {20, 13, 50, 30}, {7, 9, 7, 4}, {9, 5, 3, 5}, {1, 1, 4, 3}, {33, 1, 8, 1}, {5, 5, 5, 5},
	} {
		for _, ch := range []int{1, 3, 4} {
			src := make([]uint8, s.sw*s.sh*ch)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
			}
			taps := func(in, out int) float64 { return 2*math.Ceil(math.Max(float64(in)/float64(out), 1)) + 1 }
			tol := 1 + (taps(s.sw, s.dw)+taps(s.sh, s.dh))*255*0x1p-23
			dst := make([]uint8, s.dw*s.dh*ch)
			ResizeBilinearU8(dst, s.dw, s.dh, src, s.sw, s.sh, ch)
			for y := range s.dh {
				wy := triangleWeights(s.sh, s.dh, y)
				for x := range s.dw {
					wx := triangleWeights(s.sw, s.dw, x)
					for c := range ch {
						want := 0.0
						for iy, a := range wy {
							for ix, b := range wx {
								want += a * b * float64(src[(iy*s.sw+ix)*ch+c])
							}
						}
						if got := dst[(y*s.dw+x)*ch+c]; math.Abs(float64(got)-want) > tol {
							t.Fatalf("%+v ch=%d: (%d,%d,%d) = %d, want %.9f", s, ch, x, y, c, got, want)
						}
					}
				}
			}
			// Channels are independent: each equals a one-channel resize.
			if ch > 1 {
				for c := range ch {
					plane := make([]uint8, s.sw*s.sh)
					for i := range plane {
						plane[i] = src[i*ch+c]
					}
					one := make([]uint8, s.dw*s.dh)
					ResizeBilinearU8(one, s.dw, s.dh, plane, s.sw, s.sh, 1)
					for i, v := range one {
						if dst[i*ch+c] != v {
							t.Fatalf("%s: channel %d differs from its own resize", fmt.Sprint(s), c)
						}
					}
				}
			}
		}
	}
}
