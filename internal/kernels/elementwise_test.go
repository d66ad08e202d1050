package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// awkward lengths: empty, below one vector, around the 8 and 32 blocks.
var awkward = []int{0, 1, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 257}

// specialVec returns n values with ties, zeros of both signs, NaNs and
// infinities mixed into random values of both signs.
func specialVec(rng *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()),
		-float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1}
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(4) == 0 {
			v[i] = specials[rng.IntN(len(specials))]
		} else {
			v[i] = float32(rng.IntN(7)-3) * 0.5 // small set: many ties
		}
	}
	return v
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func TestReluMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range awkward {
		src := specialVec(rng, n)
		got, want := make([]float32, n), make([]float32, n)
		Relu(got, src)
		reluGo(want, src)
		for i := range want {
			// The sign of a zero result is unspecified; NaN stays NaN.
			g, w := got[i], want[i]
			if !(g == w || (g != g && w != w)) {
				t.Fatalf("n=%d: Relu(%v) = %v, want %v", n, src[i], g, w)
			}
		}
		// In place.
		Relu(src, src)
		for i := range want {
			if g, w := src[i], want[i]; !(g == w || (g != g && w != w)) {
				t.Fatalf("n=%d in place: element %d = %v, want %v", n, i, g, w)
			}
		}
	}
}

func TestReluGradMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range awkward {
		y, dy := specialVec(rng, n), specialVec(rng, n)
		got, want := make([]float32, n), make([]float32, n)
		ReluGrad(got, dy, y)
		reluGradGo(want, dy, y)
		sameBits(t, "ReluGrad", got, want)
		for i, v := range y {
			if v > 0 && math.Float32bits(want[i]) != math.Float32bits(dy[i]) || v <= 0 && want[i] != 0 {
				t.Fatalf("reluGradGo: y=%v dy=%v gave %v", v, dy[i], want[i])
			}
		}
	}
}

func TestAddMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range awkward {
		src, dst := specialVec(rng, n), specialVec(rng, n)
		want := append([]float32(nil), dst...)
		addGo(want, src)
		Add(dst, src)
		for i := range want {
			if g, w := dst[i], want[i]; !(g == w || (g != g && w != w)) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, g, w)
			}
		}
	}
}

func TestAddReluMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range awkward {
		b, dst := specialVec(rng, n), specialVec(rng, n)
		want := append([]float32(nil), dst...)
		addReluGo(want, b)
		AddRelu(dst, b)
		for i := range want {
			if g, w := dst[i], want[i]; !(g == w || (g != g && w != w)) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, g, w)
			}
		}
	}
}

func TestAddClipMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range awkward {
		for _, lim := range [][2]float32{{0, 6}, {-1, 1}, {-0.5, 0}} {
			b, dst := specialVec(rng, n), specialVec(rng, n)
			want := append([]float32(nil), dst...)
			addClipGo(want, b, lim[0], lim[1])
			AddClip(dst, b, lim[0], lim[1])
			for i := range want {
				// Clip's semantics: the sign of a zero result is not specified.
				if g, w := dst[i], want[i]; !(g == w || (g != g && w != w)) {
					t.Fatalf("n=%d, clip %v: element %d = %v, want %v", n, lim, i, g, w)
				}
			}
		}
	}
}

func TestMaxPool2x2MatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 3, 7, 8, 9, 16, 20, 50, 64} {
		for _, ow := range []int{1, 2, 7} {
			r0, r1 := specialVec(rng, 2*ow*c+3), specialVec(rng, 2*ow*c+5)
			got, want := make([]float32, ow*c), make([]float32, ow*c)
			MaxPool2x2Row(got, r0, r1, ow, c)
			maxPool2x2Go(want, r0, r1, ow, c)
			sameBits(t, "MaxPool2x2Row", got, want)
			// The Go version is the layer's rule: first value, then
			// replaced by each strictly greater one in window order.
			for ox := range ow {
				for ch := range c {
					i := 2*ox*c + ch
					m := r0[i]
					for _, v := range []float32{r0[i+c], r1[i], r1[i+c]} {
						if v > m {
							m = v
						}
					}
					if math.Float32bits(m) != math.Float32bits(want[ox*c+ch]) {
						t.Fatalf("c=%d ow=%d: pixel %d channel %d = %v, want %v", c, ow, ox, ch, want[ox*c+ch], m)
					}
				}
			}

			dy := specialVec(rng, ow*c)
			g0, g1 := make([]float32, 2*ow*c), make([]float32, 2*ow*c)
			w0, w1 := make([]float32, 2*ow*c), make([]float32, 2*ow*c)
			MaxPool2x2GradRow(g0, g1, r0, r1, got, dy, ow, c, false)
			maxPool2x2GradGo(w0, w1, r0, r1, want, dy, ow, c, false)
			sameBits(t, "MaxPool2x2GradRow dx0", g0, w0)
			sameBits(t, "MaxPool2x2GradRow dx1", g1, w1)
			// With the ReLU mask: the same, zeroed where y <= 0.
			m0, m1 := make([]float32, 2*ow*c), make([]float32, 2*ow*c)
			MaxPool2x2GradRow(m0, m1, r0, r1, got, dy, ow, c, true)
			for ox := range ow {
				for ch := range c {
					keep := int32(math.Float32bits(want[ox*c+ch])) > 0
					for _, i := range []int{2*ox*c + ch, 2*ox*c + c + ch} {
						for _, pr := range [][2][]float32{{m0, w0}, {m1, w1}} {
							wv := pr[1][i]
							if !keep {
								wv = 0
							}
							if math.Float32bits(pr[0][i]) != math.Float32bits(wv) {
								t.Fatalf("c=%d ow=%d relu mask: dx = %v, want %v (y %v)", c, ow, pr[0][i], wv, want[ox*c+ch])
							}
						}
					}
				}
			}
			// Exactly one of the four positions gets dy (as bits); the
			// others are +0.
			for ox := range ow {
				for ch := range c {
					i := 2*ox*c + ch
					hits := 0
					for _, v := range []float32{w0[i], w0[i+c], w1[i], w1[i+c]} {
						if math.Float32bits(v) == math.Float32bits(dy[ox*c+ch]) {
							hits++
						} else if math.Float32bits(v) != 0 {
							t.Fatalf("c=%d ow=%d: a losing position got %v", c, ow, v)
						}
					}
					if hits == 0 {
						t.Fatalf("c=%d ow=%d: dy %v of pixel %d channel %d was dropped", c, ow, dy[ox*c+ch], ox, ch)
					}
				}
			}
		}
	}
}

func TestSgemmSerialMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct {
		ta, tb  bool
		m, n, k int
	}{{false, false, 37, 50, 25}, {true, false, 25, 20, 301}, {false, true, 45, 70, 50}, {true, true, 3, 1, 7}, {false, false, 5, 4, 0}} {
		a := make([]float32, s.m*s.k)
		b := make([]float32, s.k*s.n)
		for i := range a {
			a[i] = rng.Float32() - 0.5
		}
		for i := range b {
			b[i] = rng.Float32() - 0.5
		}
		lda, ldb := s.k, s.n
		if s.ta {
			lda = s.m
		}
		if s.tb {
			ldb = s.k
		}
		got, want := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
		for i := range got {
			got[i] = float32(i % 3)
			want[i] = got[i]
		}
		SgemmSerial(s.ta, s.tb, s.m, s.n, s.k, 0.5, a, lda, b, ldb, 2, got, s.n)
		sgemmRef(s.ta, s.tb, s.m, s.n, s.k, 0.5, a, lda, b, ldb, 2, want, s.n)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4 {
				t.Fatalf("%+v: element %d = %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}

// MulIfEqual's assembly and Go loop give the product's bits, with NaNs,
// infinities and signed zeros on either side of the comparison.
func TestMulIfEqual(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 100} {
		src, a, b := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			src[i] = special[(i*3+1)%len(special)]
			a[i] = special[i%len(special)]
			b[i] = special[(i/2)%len(special)]
			if i%3 == 0 {
				b[i] = a[i]
			}
		}
		dst := make([]float32, n)
		MulIfEqual(dst, src, a, b)
		for i := range n {
			k := float32(0)
			if a[i] == b[i] {
				k = 1
			}
			if want := src[i] * k; math.Float32bits(dst[i]) != math.Float32bits(want) && !(dst[i] != dst[i] && want != want) {
				t.Fatalf("n=%d i=%d: src %v a %v b %v: got %v, want %v", n, i, src[i], a[i], b[i], dst[i], want)
			}
		}
	}
}
