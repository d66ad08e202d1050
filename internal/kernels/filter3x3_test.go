package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// filterRow3x3GoOnly is FilterRow3x3 on the Go twin alone (as with purego).
func filterRow3x3GoOnly(dst []float32, srcs *[9][]float32, w *[9]float32) {
	var mask uint
	for t, s := range srcs {
		if w[t] != 0 && s != nil {
			mask |= 1 << t
		}
	}
	filterRow3x3Go(dst, srcs, w, mask, 0)
}

// TestFilterRow3x3MatchesFloat64 checks FilterRow3x3 (assembly where the
// CPU has it) and its Go twin alone against a float64 sum on every
// length 0..70 and a long row, with sources and destinations at odd
// offsets, for all nine taps and for taps left out by a zero weight or
// a nil source.
func TestFilterRow3x3MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	lengths := []int{1000}
	for n := range 71 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for _, skip := range []uint{0, 1 << 4, 0b101_000_101, 0b000_111_000, 0x1ff} {
			var srcs [9][]float32
			var w [9]float32
			copy(w[:], randVec(rng, 9))
			for i := range srcs {
				srcs[i] = randVec(rng, n+i+3)[i%3:] // unaligned, longer than dst
				if skip&(1<<i) != 0 {
					if i%2 == 0 {
						w[i] = 0
						srcs[i][n/2] = float32(math.Inf(1)) // must stay out of the sum
					} else {
						srcs[i] = nil
					}
				}
			}
			for name, f := range map[string]func([]float32, *[9][]float32, *[9]float32){
				"FilterRow3x3": FilterRow3x3, "Go": filterRow3x3GoOnly,
			} {
				got := randVec(rng, n+7)[n%8:][:n] // every value must be overwritten
				f(got, &srcs, &w)
				for i := range got {
					want, mag := 0.0, 0.0
					for k, s := range srcs {
						if w[k] != 0 && s != nil {
							p := float64(w[k]) * float64(s[i])
							want += p
							mag += math.Abs(p)
						}
					}
					if d := math.Abs(float64(got[i]) - want); !(d <= 11*0x1p-24*mag) {
						t.Fatalf("%s n=%d skip=%09b: [%d] = %v, want %v", name, n, skip, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestFilterRow3x3NonFinite: a NaN or infinity in one used source reaches
// only the outputs that read it.
func TestFilterRow3x3NonFinite(t *testing.T) {
	const n = 40
	var srcs [9][]float32
	for i := range srcs {
		srcs[i] = make([]float32, n)
	}
	srcs[2][17] = float32(math.Inf(1))
	srcs[7][30] = float32(math.NaN())
	w := [9]float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	for name, f := range map[string]func([]float32, *[9][]float32, *[9]float32){
		"FilterRow3x3": FilterRow3x3, "Go": filterRow3x3GoOnly,
	} {
		got := make([]float32, n)
		f(got, &srcs, &w)
		for i, v := range got {
			want := fmt.Sprint(float32(0))
			switch i {
			case 17:
				want = "+Inf"
			case 30:
				want = "NaN"
			}
			if fmt.Sprint(v) != want {
				t.Fatalf("%s: [%d] = %v, want %s", name, i, v, want)
			}
		}
	}
}

func BenchmarkFilterRow3x3(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := [3][]float32{randVec(rng, 1920), randVec(rng, 1920), randVec(rng, 1920)}
	var srcs [9][]float32
	for i := range srcs {
		srcs[i] = rows[i/3][i%3:]
	}
	dst := make([]float32, 1918)
	for _, k := range []struct {
		name string
		w    [9]float32
	}{{"dense", [9]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"sharpen", [9]float32{0, -1, 0, -1, 5, -1, 0, -1, 0}}} {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(4 * 1918)
			for b.Loop() {
				FilterRow3x3(dst, &srcs, &k.w)
			}
		})
	}
}
