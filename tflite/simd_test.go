package tflite

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The dispatching mac3/requant (AVX2 where available) agree with the Go
// loops, including tails shorter than a vector.
func TestSIMDMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 96, 145} {
		ints := func() []float32 { // centred 8-bit values, as in quantized models
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(r.IntN(511) - 255)
			}
			return v
		}
		acc, x0, x1, x2, w0, w1, w2 := ints(), ints(), ints(), ints(), ints(), ints(), ints()
		want := append([]float32(nil), acc...)
		mac3Go(want, x0, x1, x2, w0, w1, w2)
		mac3(acc, x0, x1, x2, w0, w1, w2)
		for i := range acc {
			if acc[i] != want[i] {
				t.Fatalf("mac3 n=%d [%d]: %v, Go %v", n, i, acc[i], want[i])
			}
		}
		v, b := ints(), ints()
		s := make([]float32, n)
		for i := range s {
			s[i] = 0.37*r.Float32() + 0.01
		}
		if n > 0 {
			v[0] = 6.5 // with b[0] = 0, s[0] = 1: an exact tie
			b[0], s[0] = 0, 1
		}
		got := append([]float32(nil), v...)
		requantGo(v, b, s, -100, 27)
		requant(got, b, s, -100, 27)
		for i := range v {
			if got[i] != v[i] || got[i] != float32(math.Round(float64(got[i]))) {
				t.Fatalf("requant n=%d [%d]: %v, Go %v", n, i, got[i], v[i])
			}
		}
	}
	t.Logf("AVX2 in use: %v", useAVX2)
}
