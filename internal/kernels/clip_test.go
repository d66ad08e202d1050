package kernels

import (
	"math/rand/v2"
	"testing"
)

// Clip's assembly and Go versions agree on awkward lengths, special values
// (NaN, infinities, zeros of both signs) and bounds, in place or not.
func TestClipMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, b := range [][2]float32{{0, 6}, {-1, 1}, {0.5, 0.5}, {-2, 0}} {
		for _, n := range awkward {
			src := specialVec(rng, n)
			got, want := make([]float32, n), make([]float32, n)
			Clip(got, src, b[0], b[1])
			clipGo(want, src, b[0], b[1])
			for i := range want {
				if g, w := got[i], want[i]; !(g == w || (g != g && w != w)) {
					t.Fatalf("n=%d Clip(%v, %v, %v) = %v, want %v", n, src[i], b[0], b[1], g, w)
				}
			}
			Clip(src, src, b[0], b[1])
			for i := range want {
				if g, w := src[i], want[i]; !(g == w || (g != g && w != w)) {
					t.Fatalf("n=%d in place: element %d = %v, want %v", n, i, g, w)
				}
			}
		}
	}
}
