package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The channel counts around the 8- and 16-channel blocks, and row counts.
var (
	chanCounts = []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 67}
	chanRows   = []int{1, 2, 5, 37}
)

func randNormVec(rng *rand.Rand, n int, scale, shift float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64()*scale + shift)
	}
	return v
}

func sameF64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %v, Go loop %v", what, i, got[i], want[i])
		}
	}
}

// The kernels (assembly for the first c&^7 channels) give the bits of the
// Go loops over all channels, and the Go loops compute the formulas.
func TestChanKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range chanCounts {
		for _, rows := range chanRows {
			n := rows * c
			x, dy := randNormVec(rng, n, 2, 3), randNormVec(rng, n, 1, 0)
			mean, a, b, cc := randNormVec(rng, c, 1, 3), randNormVec(rng, c, 1, 0), randNormVec(rng, c, 1, 0), randNormVec(rng, c, 1, 0)
			ref := make([]float64, c)
			for j := range ref {
				ref[j] = float64(x[j])
			}
			// Moments.
			s1, s2 := make([]float64, c), make([]float64, c)
			w1, w2 := make([]float64, c), make([]float64, c)
			ChanMoments(s1, s2, x, ref)
			chanMomentsGo(w1, w2, x, ref, c, 0)
			sameF64(t, "ChanMoments s1", s1, w1)
			sameF64(t, "ChanMoments s2", s2, w2)
			for j := range c {
				var e1, e2 float64
				for r := range rows {
					d := float64(x[r*c+j]) - ref[j]
					e1 += d
					e2 += d * d
				}
				if math.Abs(e1-w1[j]) > 1e-9*(1+math.Abs(e1)) || math.Abs(e2-w2[j]) > 1e-9*(1+e2) {
					t.Fatalf("c=%d rows=%d: moments %v %v, want %v %v", c, rows, w1[j], w2[j], e1, e2)
				}
			}
			// Gradient sums.
			ChanGradSums(s1, s2, dy, x, mean)
			chanGradSumsGo(w1, w2, dy, x, mean, c, 0)
			sameF64(t, "ChanGradSums s1", s1, w1)
			sameF64(t, "ChanGradSums s2", s2, w2)
			// Element-wise passes, also in place.
			got, want := make([]float32, n), make([]float32, n)
			ChanAffine(got, x, mean, a, b)
			chanAffineGo(want, x, mean, a, b, c, 0)
			sameBits(t, "ChanAffine", got, want)
			if v := (x[0]-mean[0])*a[0] + b[0]; want[0] != v {
				t.Fatalf("chanAffineGo: %v, want %v", want[0], v)
			}
			inPlace := append([]float32(nil), x...)
			ChanAffine(inPlace, inPlace, mean, a, b)
			sameBits(t, "ChanAffine in place", inPlace, want)
			ChanScale(got, dy, a)
			chanScaleGo(want, dy, a, c, 0)
			sameBits(t, "ChanScale", got, want)
			ChanGradInput(got, dy, x, mean, a, b, cc)
			chanGradInputGo(want, dy, x, mean, a, b, cc, c, 0)
			sameBits(t, "ChanGradInput", got, want)
			if v := a[c-1]*dy[n-1] + b[c-1]*(x[n-1]-mean[c-1]) + cc[c-1]; want[n-1] != v {
				t.Fatalf("chanGradInputGo: %v, want %v", want[n-1], v)
			}
			inPlace = append([]float32(nil), dy...)
			ChanGradInput(inPlace, inPlace, x, mean, a, b, cc)
			sameBits(t, "ChanGradInput in place", inPlace, want)
			// PReLU, with zeros and negative slopes among the values.
			xs := append([]float32(nil), x...)
			for i := 0; i < n; i += 3 {
				xs[i] = -xs[i]
			}
			xs[0] = 0
			ChanPReLU(got, xs, b)
			chanPReLUGo(want, xs, b, c, 0)
			sameBits(t, "ChanPReLU", got, want)
			if v := xs[n-1] * prPick(prMask(xs[n-1]), 1, b[c-1]); want[n-1] != v || (xs[n-1] < 0 && v != xs[n-1]*b[c-1]) {
				t.Fatalf("chanPReLUGo: %v for x %v", want[n-1], xs[n-1])
			}
			ChanPReLUGrad(s1, got, dy, xs, b)
			chanPReLUGradGo(w1, want, dy, xs, b, c, 0)
			sameF64(t, "ChanPReLUGrad sums", s1, w1)
			sameBits(t, "ChanPReLUGrad dx", got, want)
			ChanPReLUGrad(s2, nil, dy, xs, b)
			sameF64(t, "ChanPReLUGrad sums without dx", s2, w1)
			inPlace = append([]float32(nil), dy...)
			ChanPReLUGrad(s2, inPlace, inPlace, xs, b)
			sameF64(t, "ChanPReLUGrad sums in place", s2, w1)
			sameBits(t, "ChanPReLUGrad in place", inPlace, want)
		}
	}
}

func TestChanKernelsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ChanAffine on 10 values of 3 channels did not panic")
		}
	}()
	x := make([]float32, 10)
	c := make([]float32, 3)
	ChanAffine(x, x, c, c, c)
}

// BenchmarkChanMoments is the statistics pass of a batch norm over a
// (32, 16, 16, 32) batch, one 16K-value chunk at a time.
func BenchmarkChanMoments(b *testing.B) {
	x := randNormVec(rand.New(rand.NewPCG(1, 1)), 32*16*16*32, 1, 0)
	ref := make([]float64, 32)
	s1, s2 := make([]float64, 32), make([]float64, 32)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		for i := 0; i < len(x); i += 1 << 14 {
			ChanMoments(s1, s2, x[i:i+1<<14], ref)
		}
	}
}

// BenchmarkChanAffine is the normalisation pass over the same batch.
func BenchmarkChanAffine(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randNormVec(rng, 32*16*16*32, 1, 0)
	m, a, c := randNormVec(rng, 32, 1, 0), randNormVec(rng, 32, 1, 0), randNormVec(rng, 32, 1, 0)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		ChanAffine(y, x, m, a, c)
	}
}
