package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lengths around the 8-float vector and its tails.
var tapLengths = []int{0, 1, 7, 8, 9, 16, 31, 33, 96, 145, 1000}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*rng.Float32() - 1
	}
	return v
}

// Each product and sum rounds once in float32 (or is fused): a few ulps
// of the terms' magnitudes.
func closeTo(got float32, want, mag float64) bool {
	return math.Abs(float64(got)-want) <= 4*mag*0x1p-24
}

func TestMulAddMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range tapLengths {
		acc, x, w := randVec(rng, n), randVec(rng, n+3), randVec(rng, n+1)
		for name, f := range map[string]func(acc, x, w []float32){"MulAdd": MulAdd, "mulAddGo": mulAddGo} {
			got := append([]float32(nil), acc...)
			f(got, x, w)
			for i := range acc {
				want := float64(acc[i]) + float64(x[i])*float64(w[i])
				if !closeTo(got[i], want, math.Abs(float64(acc[i]))+math.Abs(float64(x[i]*w[i]))) {
					t.Fatalf("%s n=%d [%d] = %v, want %v", name, n, i, got[i], want)
				}
			}
		}
	}
}

func TestMulAdd3MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range tapLengths {
		acc := randVec(rng, n)
		var x, w [3][]float32
		for k := range 3 {
			x[k], w[k] = randVec(rng, n+k), randVec(rng, n+2*k)
		}
		for name, f := range map[string]func(acc, x0, x1, x2, w0, w1, w2 []float32){"MulAdd3": MulAdd3, "mulAdd3Go": mulAdd3Go} {
			got := append([]float32(nil), acc...)
			f(got, x[0], x[1], x[2], w[0], w[1], w[2])
			for i := range acc {
				want, mag := float64(acc[i]), math.Abs(float64(acc[i]))
				for k := range 3 {
					p := float64(x[k][i]) * float64(w[k][i])
					want += p
					mag += math.Abs(p)
				}
				if !closeTo(got[i], want, mag) {
					t.Fatalf("%s n=%d [%d] = %v, want %v", name, n, i, got[i], want)
				}
			}
		}
	}
}

// On centred 8-bit values (quantized models) every path is exact, so the
// assembly and Go loops agree bit for bit.
func TestMulAdd3ExactOnIntegers(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ints := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(511) - 255)
		}
		return v
	}
	for _, n := range tapLengths {
		acc, x0, x1, x2, w0, w1, w2 := ints(n), ints(n), ints(n), ints(n), ints(n), ints(n), ints(n)
		got, want := append([]float32(nil), acc...), make([]float32, n)
		MulAdd3(got, x0, x1, x2, w0, w1, w2)
		for i := range want {
			want[i] = float32(int64(acc[i]) + int64(x0[i]*w0[i]) + int64(x1[i]*w1[i]) + int64(x2[i]*w2[i]))
		}
		sameBits(t, "MulAdd3 on integers", got, want)
	}
}
