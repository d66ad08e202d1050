package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// axpyNGoOnly is AxpyN on the Go loops alone (as with purego).
func axpyNGoOnly(dst []float32, ws []float32, srcs [][]float32, set bool) {
	for g := 0; g < len(srcs); g += axpyNGroup {
		e := min(g+axpyNGroup, len(srcs))
		axpyNGo(dst, ws[g:e], srcs[g:e], set && g == 0, 0)
	}
}

func TestAxpyNMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 1000} {
		for _, taps := range []int{1, 2, 3, 4, 5, 15, 16, 17, 40} {
			srcs := make([][]float32, taps)
			for i := range srcs {
				srcs[i] = randVec(rng, n+i) // longer sources are cut to len(dst)
			}
			ws := randVec(rng, taps)
			init := randVec(rng, n)
			for _, set := range []bool{true, false} {
				for name, f := range map[string]func([]float32, []float32, [][]float32, bool){"AxpyN": AxpyN, "Go": axpyNGoOnly} {
					what := fmt.Sprintf("%s n=%d taps=%d set=%v", name, n, taps, set)
					got := append([]float32(nil), init...)
					f(got, ws, srcs, set)
					for i := range got {
						want, mag := 0.0, 0.0
						if !set {
							want, mag = float64(init[i]), math.Abs(float64(init[i]))
						}
						for t, s := range srcs {
							p := float64(ws[t]) * float64(s[i])
							want += p
							mag += math.Abs(p)
						}
						if d := math.Abs(float64(got[i]) - want); d > float64(taps+2)*0x1p-24*mag {
							t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want)
						}
					}
				}
			}
		}
	}
}

func TestAxpyNNoSources(t *testing.T) {
	dst := []float32{1, 2, 3}
	AxpyN(dst, nil, nil, false)
	if dst[0] != 1 || dst[2] != 3 {
		t.Errorf("accumulating nothing changed dst: %v", dst)
	}
	AxpyN(dst, nil, nil, true)
	if dst[0] != 0 || dst[2] != 0 {
		t.Errorf("setting from nothing left %v", dst)
	}
}

// TestAxpyNInfinity: an infinity in one source gives an infinity, not
// NaN, whatever the number of sources (the Go loops must not pad a group
// with zero-weight copies of a source).
func TestAxpyNInfinity(t *testing.T) {
	for taps := 1; taps <= 9; taps++ {
		for name, f := range map[string]func([]float32, []float32, [][]float32, bool){"AxpyN": AxpyN, "Go": axpyNGoOnly} {
			srcs := make([][]float32, taps)
			ws := make([]float32, taps)
			for i := range srcs {
				srcs[i], ws[i] = make([]float32, 11), 1
			}
			srcs[taps-1][10] = float32(math.Inf(1))
			dst := make([]float32, 11)
			f(dst, ws, srcs, true)
			if !math.IsInf(float64(dst[10]), 1) || dst[9] != 0 {
				t.Errorf("%s taps=%d: %v", name, taps, dst)
			}
		}
	}
}
