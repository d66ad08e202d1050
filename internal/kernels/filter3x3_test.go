package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFilterRow3x3MatchesFloat64 checks FilterRow3x3 (assembly where the
// CPU has it, the Go tail after it) and its Go twin alone against a
// float64 sum on every length 0..70 and a long row, with sources and
// destinations that start at odd offsets.
func TestFilterRow3x3MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	lengths := []int{1000}
	for n := range 71 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		var srcs [9][]float32
		for i := range srcs {
			srcs[i] = randVec(rng, n+i+3)[i%3:] // unaligned, longer than dst
		}
		var w [9]float32
		copy(w[:], randVec(rng, 9))
		w[4] = 0 // a zero weight is a plain tap
		for name, f := range map[string]func([]float32, *[9][]float32, *[9]float32){
			"FilterRow3x3": FilterRow3x3,
			"Go":           func(d []float32, s *[9][]float32, w *[9]float32) { filterRow3x3Go(d, s, w, 0) },
		} {
			got := randVec(rng, n) // every value must be overwritten
			f(got, &srcs, &w)
			for i := range got {
				want, mag := 0.0, 0.0
				for k, s := range srcs {
					p := float64(w[k]) * float64(s[i])
					want += p
					mag += math.Abs(p)
				}
				if d := math.Abs(float64(got[i]) - want); d > 11*0x1p-24*mag {
					t.Fatalf("%s n=%d: [%d] = %v, want %v", name, n, i, got[i], want)
				}
			}
		}
	}
}

// TestFilterRow3x3NonFinite: a NaN or infinity in one source reaches only
// the outputs that read it.
func TestFilterRow3x3NonFinite(t *testing.T) {
	const n = 40
	var srcs [9][]float32
	for i := range srcs {
		srcs[i] = make([]float32, n)
	}
	srcs[2][17] = float32(math.Inf(1))
	srcs[7][30] = float32(math.NaN())
	w := [9]float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	got := make([]float32, n)
	FilterRow3x3(got, &srcs, &w)
	for i, v := range got {
		want := fmt.Sprint(float32(0))
		switch i {
		case 17:
			want = "+Inf"
		case 30:
			want = "NaN"
		}
		if fmt.Sprint(v) != want {
			t.Fatalf("[%d] = %v, want %s", i, v, want)
		}
	}
}

func BenchmarkFilterRow3x3(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var srcs [9][]float32
	for i := range srcs {
		srcs[i] = randVec(rng, 1920)
	}
	var w [9]float32
	copy(w[:], randVec(rng, 9))
	dst := make([]float32, 1918)
	b.SetBytes(4 * 1918)
	for b.Loop() {
		FilterRow3x3(dst, &srcs, &w)
	}
}
