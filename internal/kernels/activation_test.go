package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulpDiff is how many float32 steps apart got is from the float64 want
// (rounded to float32), counting a result below the smallest normal as
// matching a want that is too.
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	if math.Abs(want) < 1.2e-38 && math.Abs(float64(got)) < 1.2e-38 {
		return 0
	}
	ulp := math.Abs(float64(math.Nextafter32(w, float32(math.Inf(1))) - w))
	return math.Abs(float64(got)-want) / ulp
}

func TestExpNonPos(t *testing.T) {
	worst := 0.0
	for v := float32(0); v > -88; v -= 0.0007 {
		want := math.Exp(float64(v))
		got := expNonPos(v)
		if v < expMin {
			if got != 0 {
				t.Fatalf("exp(%v) = %v, want 0 below the normal range", v, got)
			}
			continue
		}
		worst = max(worst, ulpDiff(got, want))
	}
	if worst > 2 {
		t.Errorf("expNonPos is %v ulp from exp, want <= 2", worst)
	}
	if got := expNonPos(float32(math.NaN())); got == got {
		t.Errorf("exp(NaN) = %v", got)
	}
	if got := expNonPos(float32(math.Inf(-1))); got != 0 {
		t.Errorf("exp(-Inf) = %v", got)
	}
	if got := expNonPos(0); got != 1 {
		t.Errorf("exp(0) = %v", got)
	}
}

// activationInputs mixes a sweep over the interesting range, the kinks of
// HardSwish, zeros and huge values.
func activationInputs(rng *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), -3, 3, 1e-6, -1e-6, 90, -90, 1e4, -1e4, 20, -20}
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(5) == 0 {
			x[i] = specials[rng.IntN(len(specials))]
		} else {
			x[i] = float32(rng.NormFloat64() * 6)
		}
	}
	return x
}

func sigmoid64(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func TestActivationKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type kernel struct {
		name string
		run  func(dst, x, dy []float32)
		ref  func(x, dy float64) float64
		ulps float64
	}
	kernels := []kernel{
		{"Sigmoid", func(d, x, _ []float32) { Sigmoid(d, x) }, func(x, _ float64) float64 { return sigmoid64(x) }, 4},
		{"SiLU", func(d, x, _ []float32) { SiLU(d, x) }, func(x, _ float64) float64 { return x * sigmoid64(x) }, 4},
		{"SiLUGrad", func(d, x, dy []float32) { SiLUGrad(d, dy, x) }, func(x, dy float64) float64 {
			s := sigmoid64(x)
			return dy * (s + x*s*(1-s))
		}, 8},
		{"HardSwish", func(d, x, _ []float32) { HardSwish(d, x) }, func(x, _ float64) float64 { return x * math.Min(math.Max(x+3, 0), 6) / 6 }, 2},
		{"HardSwishGrad", func(d, x, dy []float32) { HardSwishGrad(d, dy, x) }, func(x, dy float64) float64 {
			switch {
			case x < -3:
				return 0
			case x < 3:
				return dy * (x/3 + 0.5)
			}
			return dy
		}, 2},
	}
	for _, k := range kernels {
		for _, n := range append(awkward, 5003) {
			x := activationInputs(rng, n)
			dy := make([]float32, n)
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
			}
			got := make([]float32, n)
			k.run(got, x, dy)
			for i := range x {
				want := k.ref(float64(x[i]), float64(dy[i]))
				// Near a zero of the result the error is absolute: a few
				// ulp of the terms summed.
				if d := ulpDiff(got[i], want); d > k.ulps && math.Abs(float64(got[i])-want) > 1e-7*math.Max(1, math.Abs(float64(x[i]*dy[i]))) {
					t.Fatalf("%s(x=%v, dy=%v) = %v, want %v (%.1f ulp)", k.name, x[i], dy[i], got[i], want, d)
				}
			}
			// In place: dst is the input (for the gradients, dy).
			in := append([]float32(nil), x...)
			if k.name == "SiLUGrad" || k.name == "HardSwishGrad" {
				d2 := append([]float32(nil), dy...)
				k.run(d2, x, d2) // dx written over dy
				sameBits(t, k.name+" in place", d2, got)
				continue
			}
			k.run(in, in, dy)
			sameBits(t, k.name+" in place", in, got)
		}
	}
}

func TestActivationKernelsNaN(t *testing.T) {
	nan := []float32{float32(math.NaN())}
	out := make([]float32, 1)
	for name, f := range map[string]func(d, s []float32){"Sigmoid": Sigmoid, "SiLU": SiLU, "HardSwish": HardSwish} {
		f(out, nan)
		if out[0] == out[0] {
			t.Errorf("%s(NaN) = %v, want NaN", name, out[0])
		}
	}
}

func BenchmarkSiLU(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		SiLU(y, x)
	}
}

func BenchmarkSiLUGrad(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	dy, dx := make([]float32, len(x)), make([]float32, len(x))
	b.SetBytes(int64(12 * len(x)))
	for b.Loop() {
		SiLUGrad(dx, dy, x)
	}
}

func BenchmarkHardSwish(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		HardSwish(y, x)
	}
}

// BenchmarkSiLUMathExp is the float64 math.Exp loop the kernels replace.
func BenchmarkSiLUMathExp(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		for i, v := range x {
			y[i] = float32(float64(v) / (1 + math.Exp(-float64(v))))
		}
	}
}
