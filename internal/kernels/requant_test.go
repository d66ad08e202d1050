package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// requantRef is Requantize in float64: the float32 product (v+b)*s is
// the only rounding before the half-even rounding to an integer.
func requantRef(v, b, s, lo, hi float32) float64 {
	x := float64(float32(float64(v+b) * float64(s)))
	return math.RoundToEven(min(max(x, float64(lo)), float64(hi)))
}

func TestRequantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range tapLengths {
		v, b, s := make([]float32, n), make([]float32, n+1), make([]float32, n+2)
		for i := range v {
			v[i] = float32(r.IntN(200001) - 100000) // int32 accumulators
		}
		for i := range b {
			b[i] = float32(r.IntN(2001) - 1000)
		}
		for i := range s {
			s[i] = 0.0037*r.Float32() + 1e-4
		}
		for i := 0; i < n; i += 5 { // exact ties: an odd accumulator times 0.5
			v[i], b[i], s[i] = float32(2*r.IntN(300)-299), 0, 0.5
		}
		for name, f := range map[string]func(v, b, s []float32, lo, hi float32){"Requantize": Requantize, "requantizeGo": requantizeGo} {
			got := append([]float32(nil), v...)
			f(got, b, s, -100, 27)
			for i := range v {
				if want := requantRef(v[i], b[i], s[i], -100, 27); float64(got[i]) != want {
					t.Fatalf("%s n=%d [%d]: (%v+%v)*%v -> %v, want %v", name, n, i, v[i], b[i], s[i], got[i], want)
				}
			}
		}
	}
}

func TestRoundEven(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, x := range []float32{0, 0.5, 1.5, 2.5, -0.5, -2.5, -3.5, 0.49999997, 4194303.5, -4194303.5, 1e-30} {
		if got, want := RoundEven(x), math.RoundToEven(float64(x)); float64(got) != want {
			t.Errorf("RoundEven(%v) = %v, want %v", x, got, want)
		}
	}
	for range 10000 {
		x := float32((r.Float64() - 0.5) * (1 << 23))
		if got, want := RoundEven(x), math.RoundToEven(float64(x)); float64(got) != want {
			t.Fatalf("RoundEven(%v) = %v, want %v", x, got, want)
		}
	}
}
