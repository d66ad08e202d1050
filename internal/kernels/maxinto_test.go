package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMaxIntoMatchesGo checks the assembly against maxIntoGo bit for bit,
// ties between zeros of both signs and NaNs on either side included.
func TestMaxIntoMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range awkward {
		dst, src := specialVec(rng, n), specialVec(rng, n)
		want := append([]float32(nil), dst...)
		maxIntoGo(want, src)
		MaxInto(dst, src)
		sameBits(t, "MaxInto", dst, want)
	}
}

// TestMaxPoolPixelsMatchesGo checks MaxPoolPixels against MaxInto tap by
// tap in window order, bit for bit, with special values, on channel
// counts on and off the assembly's multiples of 8, windows of 1x1 to 3x4
// and pixel strides of 1 to 3 pixels.
func TestMaxPoolPixelsMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 3, 8, 16, 24, 37, 64} {
		for _, n := range []int{1, 2, 5, 17} {
			for _, k := range [][2]int{{1, 1}, {3, 3}, {2, 3}, {3, 4}} {
				for s := 1; s <= 3; s++ {
					kh, kw, sx := k[0], k[1], s*c
					rowx := ((n-1)*s + kw + 1) * c // an image row with a pixel to spare
					dst, src := specialVec(rng, n*c+5), specialVec(rng, (kh-1)*rowx+(n-1)*sx+kw*c)
					want := append([]float32(nil), dst...)
					for p := range n {
						d := want[p*c : (p+1)*c]
						copy(d, src[p*sx:p*sx+c])
						for ky := range kh {
							for kx := range kw {
								if ky+kx > 0 {
									o := p*sx + ky*rowx + kx*c
									MaxInto(d, src[o:o+c])
								}
							}
						}
					}
					MaxPoolPixels(dst, src, n, c, sx, kh, kw, rowx)
					sameBits(t, fmt.Sprintf("MaxPoolPixels c=%d n=%d %dx%d s=%d", c, n, kh, kw, s), dst, want)
				}
			}
		}
	}
}

func BenchmarkMaxInto(b *testing.B) {
	dst, src := make([]float32, 4096), make([]float32, 4096)
	b.SetBytes(8 * 4096)
	for b.Loop() {
		MaxInto(dst, src)
	}
}

// TestMaxPoolGradStepMatchesGo runs window positions over special values
// (NaNs, zeros of both signs, ties) and compares the assembly's dx and g
// with the Go version's bit for bit.
func TestMaxPoolGradStepMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range awkward {
		y := specialVec(rng, n)
		dy := specialVec(rng, n)
		for i := range dy {
			dy[i] = float32(rng.NormFloat64()) // finite gradients
		}
		dx, dxWant := make([]float32, n), make([]float32, n)
		g, gWant := append([]float32(nil), dy...), append([]float32(nil), dy...)
		for range 4 { // positions: some values equal to y
			x := specialVec(rng, n)
			for i := range x {
				if rng.IntN(3) == 0 {
					x[i] = y[i]
				}
			}
			MaxPoolGradStep(dx, g, x, y)
			maxPoolGradStepGo(dxWant, gWant, x, y)
			sameBits(t, "dx", dx, dxWant)
			sameBits(t, "g", g, gWant)
		}
	}
}
