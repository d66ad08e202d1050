package kernels

import (
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
