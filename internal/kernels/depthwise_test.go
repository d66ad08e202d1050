package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// depthwiseRef is the depthwise convolution in float64, straight from
// the definition; it also returns the sum of |terms| of each output, which
// bounds the float32 rounding error.
func depthwiseRef(src, w, bias []float32, g ConvGeom, mult int) (out, mag []float64) {
	oc := g.C * mult
	out = make([]float64, g.N*g.OH*g.OW*oc)
	mag = make([]float64, len(out))
	for b := range g.N {
		for oy := range g.OH {
			for ox := range g.OW {
				for ci := range g.C {
					for m := range mult {
						o := ((b*g.OH+oy)*g.OW+ox)*oc + ci*mult + m
						if bias != nil {
							out[o], mag[o] = float64(bias[ci*mult+m]), math.Abs(float64(bias[ci*mult+m]))
						}
						for ky := range g.KH {
							for kx := range g.KW {
								iy, ix := oy*g.SH-g.PadTop+ky*g.DH, ox*g.SW-g.PadLeft+kx*g.DW
								if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
									continue
								}
								p := float64(src[((b*g.H+iy)*g.W+ix)*g.C+ci]) * float64(w[(ky*g.KW+kx)*oc+ci*mult+m])
								out[o] += p
								mag[o] += math.Abs(p)
							}
						}
					}
				}
			}
		}
	}
	return out, mag
}

func TestDepthwiseConvRowsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	type tc struct {
		g    ConvGeom
		mult int
	}
	var cases []tc
	// Output size from SAME-like or VALID-like padding on each side.
	out := func(in, k, s, d, lo, hi int) int { return max((in+lo+hi-(k-1)*d-1)/s+1, 0) }
	for _, p := range []struct{ h, w, c, kh, kw, s, d, mult, pt, pb, pl, pr int }{
		{7, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // MobileNet 3x3 stride 1
		{9, 8, 33, 3, 3, 2, 1, 1, 0, 1, 0, 1},   // stride 2, TFLite SAME (pad after)
		{5, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // one channel
		{6, 7, 9, 5, 5, 1, 1, 1, 2, 2, 2, 2},    // 5x5: a group of 3 plus 2 taps
		{8, 8, 7, 3, 3, 1, 2, 1, 2, 2, 2, 2},    // dilation 2
		{11, 10, 16, 3, 3, 2, 3, 1, 3, 1, 2, 3}, // dilation 3, stride 2, asymmetric
		{6, 5, 3, 3, 3, 1, 1, 2, 1, 1, 1, 1},    // multiplier 2
		{7, 7, 5, 2, 4, 2, 2, 3, 0, 2, 1, 2},    // multiplier 3, even kernel
		{4, 4, 31, 1, 1, 1, 1, 1, 0, 0, 0, 0},   // 1x1
		{3, 4, 12, 7, 7, 1, 1, 1, 3, 3, 3, 3},   // kernel wider than the image
		{10, 3, 40, 3, 1, 1, 1, 1, 1, 1, 0, 0},  // 3x1
		{5, 9, 64, 3, 3, 1, 1, 1, 0, 0, 0, 0},   // VALID
		{8, 12, 24, 3, 6, 1, 2, 1, 2, 2, 5, 5},  // 6 taps: two groups, dilated
		{6, 6, 10, 3, 3, 3, 1, 1, 4, 4, 4, 4},   // padding wider than the kernel
		{9, 9, 1000, 3, 3, 2, 1, 1, 1, 1, 1, 1}, // long channel vectors
		{5, 21, 300, 3, 3, 1, 1, 1, 1, 1, 1, 1}, // interior rows in several blocks of pixels (dwBlock)
		{5, 31, 200, 5, 5, 2, 1, 1, 2, 2, 2, 2}, // the same at stride 2, 5x5
	} {
		g := ConvGeom{N: 2, H: p.h, W: p.w, C: p.c, KH: p.kh, KW: p.kw, SH: p.s, SW: p.s, DH: p.d, DW: p.d, PadTop: p.pt, PadLeft: p.pl}
		g.OH, g.OW = out(p.h, p.kh, p.s, p.d, p.pt, p.pb), out(p.w, p.kw, p.s, p.d, p.pl, p.pr)
		cases = append(cases, tc{g, p.mult})
	}
	for _, c := range cases {
		g, oc := c.g, c.g.C*c.mult
		src := randVec(rng, g.N*g.H*g.W*g.C)
		w := randVec(rng, g.KH*g.KW*oc)
		for _, bias := range [][]float32{nil, randVec(rng, oc)} {
			want, mag := depthwiseRef(src, w, bias, g, c.mult)
			rows := g.N * g.OH
			// All rows at once, and a middle range that must leave the
			// other rows alone.
			for _, r := range [][2]int{{0, rows}, {1, rows - 1}} {
				// No clamp, then clamps as fused ReLU6, ReLU and a clip
				// on both sides (clamping cannot widen an error).
				for _, cl := range [][2]float64{{math.Inf(-1), math.Inf(1)}, {0, 6}, {0, math.Inf(1)}, {-0.5, 0.5}} {
					name := fmt.Sprintf("%+v mult=%d bias=%v rows=%v clamp=%v", g, c.mult, bias != nil, r, cl)
					got := make([]float32, len(want))
					for i := range got {
						got[i] = -7
					}
					if math.IsInf(cl[0], -1) {
						DepthwiseConvRows(got, src, w, bias, g, c.mult, r[0], r[1])
					} else {
						DepthwiseConvRowsClamp(got, src, w, bias, g, c.mult, r[0], r[1], float32(cl[0]), float32(cl[1]))
					}
					for i, v := range got {
						if row := i / (g.OW * oc); row < r[0] || row >= r[1] {
							if v != -7 {
								t.Fatalf("%s: wrote [%d] outside the rows", name, i)
							}
							continue
						}
						tol := float64(g.KH*g.KW+2) * 0x1p-24 * mag[i]
						if d := math.Abs(float64(v) - min(max(want[i], cl[0]), cl[1])); d > tol {
							t.Fatalf("%s: [%d] = %v, want %v clamped (tolerance %g)", name, i, v, want[i], tol)
						}
					}
				}
			}
		}
	}
}

// A NaN input stays NaN through a fused clamp, on the interior kernel
// and at the borders, and the pixels it does not reach are clamped.
func TestDepthwiseClampNaN(t *testing.T) {
	g := ConvGeom{N: 1, H: 6, W: 9, C: 24, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 6, OW: 9}
	rng := rand.New(rand.NewPCG(25, 26))
	src, w := randVec(rng, g.H*g.W*g.C), randVec(rng, 9*g.C)
	for i := range src {
		src[i] *= 50 // sums well outside [0, 6]
	}
	for _, px := range []int{0, 4, 2*9 + 4} { // a corner, a top border pixel, the interior
		x := append([]float32(nil), src...)
		x[px*g.C+5] = float32(math.NaN())
		got := make([]float32, g.OH*g.OW*g.C)
		DepthwiseConvRowsClamp(got, x, w, nil, g, 1, 0, g.OH, 0, 6)
		py, pxx := px/g.W, px%g.W
		for oy := range g.OH {
			for ox := range g.OW {
				for ch := range g.C {
					v := got[(oy*g.OW+ox)*g.C+ch]
					reached := ch == 5 && oy >= py-1 && oy <= py+1 && ox >= pxx-1 && ox <= pxx+1
					switch {
					case reached && !math.IsNaN(float64(v)):
						t.Fatalf("NaN at pixel %d: output (%d, %d, %d) = %v, want NaN", px, oy, ox, ch, v)
					case !reached && !(v >= 0 && v <= 6):
						t.Fatalf("NaN at pixel %d: output (%d, %d, %d) = %v, outside [0, 6]", px, oy, ox, ch, v)
					}
				}
			}
		}
	}
}

// Kernels wider than 3 (MobileNetV3's 5x5) take dwTaps for the pixels
// whose taps lie inside the image: every width from 1 to 17 (no interior,
// one pixel, blocks of 4 and the rest), channel counts around the blocks
// of 16 and 8, padding on each side, strides 1 and 2.
func TestDepthwiseWideMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	out := func(in, k, s, lo, hi int) int { return max((in+lo+hi-k)/s+1, 0) }
	type pad struct{ t, b, l, r int }
	for _, k := range [][2]int{{5, 5}, {3, 7}, {4, 4}} {
		for _, s := range []int{1, 2} {
			for _, pd := range []pad{{k[0] / 2, k[0] / 2, k[1] / 2, k[1] / 2}, {0, 0, 0, 0}, {1, 3, 0, 4}, {3, 0, 4, 1}} {
				for w := 1; w <= 17; w++ {
					for _, c := range []int{1, 3, 8, 13, 16, 24, 41, 48, 64} {
						g := ConvGeom{N: 1, H: 6, W: w, C: c, KH: k[0], KW: k[1], SH: s, SW: s, DH: 1, DW: 1, PadTop: pd.t, PadLeft: pd.l}
						g.OH, g.OW = out(g.H, g.KH, s, pd.t, pd.b), out(w, g.KW, s, pd.l, pd.r)
						if g.OH == 0 || g.OW == 0 {
							continue
						}
						src, wt, bias := randVec(rng, g.H*g.W*c), randVec(rng, g.KH*g.KW*c), randVec(rng, c)
						want, mag := depthwiseRef(src, wt, bias, g, 1)
						got := make([]float32, len(want))
						DepthwiseConvRows(got, src, wt, bias, g, 1, 0, g.OH)
						for i, v := range got {
							tol := float64(g.KH*g.KW+2) * 0x1p-24 * mag[i]
							if d := math.Abs(float64(v) - want[i]); d > tol {
								t.Fatalf("%+v: [%d] = %v, want %v (tolerance %g)", g, i, v, want[i], tol)
							}
						}
					}
				}
			}
		}
	}
}

func BenchmarkDepthwiseConvRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := ConvGeom{N: 1, H: 56, W: 56, C: 144, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 56, OW: 56}
	src, w := randVec(rng, 56*56*144), randVec(rng, 9*144)
	dst := make([]float32, len(src))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		DepthwiseConvRows(dst, src, w, nil, g, 1, 0, g.OH)
	}
}

// MobileNetV3's 5x5 layers (CenterNet's expanded_conv_4 and _3 shapes).
func BenchmarkDepthwiseConvRows5x5(b *testing.B) {
	for _, s := range []int{1, 2} {
		b.Run(fmt.Sprintf("stride%d", s), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			h, c := 64, 96
			o := (h-1)/s + 1
			g := ConvGeom{N: 1, H: h, W: h, C: c, KH: 5, KW: 5, SH: s, SW: s, DH: 1, DW: 1, PadTop: 2, PadLeft: 2, OH: o, OW: o}
			src, w := randVec(rng, h*h*c), randVec(rng, 25*c)
			dst := make([]float32, o*o*c)
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				DepthwiseConvRows(dst, src, w, nil, g, 1, 0, g.OH)
			}
		})
	}
}

// TestDepthwiseSiLU: DepthwiseConvRowsSiLU gives the bits of
// DepthwiseConvRows followed by SiLU, on shapes whose interior the
// AVX-512 kernels fuse (multiples of 16 channels: 32 and 16 a call,
// 3x3 and 5x5, strides 1 and 2, rows without valid taps) and on ones
// they do not (48+8 channels, a multiplier of 2, dilation), and its
// sums agree with the float64 reference before the SiLU.
func TestDepthwiseSiLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, p := range []struct{ h, w, c, k, s, pad, d, mult int }{
		{9, 11, 48, 3, 1, 1, 1, 1},
		{10, 9, 16, 3, 2, 0, 1, 1},
		{7, 7, 96, 5, 1, 2, 1, 1},
		{6, 13, 32, 5, 2, 2, 1, 1},
		{3, 3, 32, 3, 1, 3, 1, 1}, // padding wider than the image: rows without taps
		{8, 8, 56, 3, 1, 1, 1, 1},
		{8, 8, 16, 3, 1, 1, 1, 2},
		{9, 9, 32, 3, 1, 2, 2, 1},
	} {
		oh := (p.h+2*p.pad-(p.k-1)*p.d-1)/p.s + 1
		ow := (p.w+2*p.pad-(p.k-1)*p.d-1)/p.s + 1
		g := ConvGeom{N: 2, H: p.h, W: p.w, C: p.c, KH: p.k, KW: p.k, SH: p.s, SW: p.s, DH: p.d, DW: p.d, PadTop: p.pad, PadLeft: p.pad, OH: oh, OW: ow}
		oc := p.c * p.mult
		src, w, bias := randVec(rng, g.N*p.h*p.w*p.c), randVec(rng, p.k*p.k*oc), randVec(rng, oc)
		for i := range src {
			src[i] *= 4 // sums well into both tails of SiLU
		}
		want := make([]float32, g.N*oh*ow*oc)
		DepthwiseConvRows(want, src, w, bias, g, p.mult, 0, g.N*oh)
		ref, mag := depthwiseRef(src, w, bias, g, p.mult)
		for i, v := range want {
			if math.Abs(float64(v)-ref[i]) > 1e-5*mag[i]+1e-6 {
				t.Fatalf("%+v: sum %d = %v, reference %v", p, i, v, ref[i])
			}
		}
		SiLU(want, want)
		got := make([]float32, len(want))
		// Two calls over a split of the rows, as the parts of a
		// parallel pass run.
		half := g.N * oh / 2
		DepthwiseConvRowsSiLU(got, src, w, bias, g, p.mult, 0, half)
		DepthwiseConvRowsSiLU(got, src, w, bias, g, p.mult, half, g.N*oh)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: output %d = %v, DepthwiseConvRows then SiLU %v", p, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkDepthwiseConvRowsSiLU: EfficientNet-B0's 3x3 depthwise layers
// with their SiLU, fused (DepthwiseConvRowsSiLU) and as a pass over each
// row after DepthwiseConvRows, one thread.
func BenchmarkDepthwiseConvRowsSiLU(b *testing.B) {
	for _, s := range []struct{ h, c int }{{112, 32}, {56, 144}} {
		rng := rand.New(rand.NewPCG(1, 1))
		g := ConvGeom{N: 1, H: s.h, W: s.h, C: s.c, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: s.h, OW: s.h}
		src, w, bias := randVec(rng, s.h*s.h*s.c), randVec(rng, 9*s.c), randVec(rng, s.c)
		dst := make([]float32, len(src))
		b.Run(fmt.Sprintf("%dx%dx%d/fused", s.h, s.h, s.c), func(b *testing.B) {
			for b.Loop() {
				DepthwiseConvRowsSiLU(dst, src, w, bias, g, 1, 0, g.OH)
			}
		})
		b.Run(fmt.Sprintf("%dx%dx%d/pass", s.h, s.h, s.c), func(b *testing.B) {
			row := s.h * s.c
			for b.Loop() {
				for r := range g.OH {
					DepthwiseConvRows(dst, src, w, bias, g, 1, r, r+1)
					SiLU(dst[r*row:(r+1)*row], dst[r*row:(r+1)*row])
				}
			}
		})
	}
}
