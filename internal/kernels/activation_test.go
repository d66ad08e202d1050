package kernels

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ulpDiff is how many float32 steps apart got is from the float64 want
// (rounded to float32), counting results below 1e-35 (which the kernels
// may flush to 0) as equal.
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	if math.Abs(want) < 1e-35 && math.Abs(float64(got)) < 1e-35 {
		return 0 // flushed to 0 to avoid subnormals
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
		{"Clip", func(d, x, _ []float32) { Clip(d, x, -0.5, 6) }, func(x, _ float64) float64 { return math.Min(math.Max(x, -0.5), 6) }, 0},
		{"ClipGrad", func(d, x, dy []float32) {
			y := make([]float32, len(x))
			Clip(y, x, -3, 6)
			ClipGrad(d, dy, y, -3, 6)
		}, func(x, dy float64) float64 {
			if x <= -3 || x >= 6 {
				return 0
			}
			return dy
		}, 0},
		{"GELU", func(d, x, _ []float32) { GELU(d, x) }, func(x, _ float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, 8},
		{"GELUGrad", func(d, x, dy []float32) { GELUGrad(d, dy, x) }, func(x, dy float64) float64 {
			return dy * (0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi))
		}, 16},
		{"GELUTanh", func(d, x, _ []float32) { GELUTanh(d, x) }, func(x, _ float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}, 8},
		{"GELUTanhGrad", func(d, x, dy []float32) { GELUTanhGrad(d, dy, x) }, func(x, dy float64) float64 {
			u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
			th := math.Tanh(u)
			return dy * (0.5*(1+th) + 0.5*x*(1-th)*(1+th)*math.Sqrt(2/math.Pi)*(1+3*0.044715*x*x))
		}, 16},
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
			if strings.HasSuffix(k.name, "Grad") {
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
	for name, f := range map[string]func(d, s []float32){"Sigmoid": Sigmoid, "SiLU": SiLU, "HardSwish": HardSwish,
		"GELU": GELU, "GELUTanh": GELUTanh, "Clip": func(d, s []float32) { Clip(d, s, 0, 6) }} {
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

// The exponential kernels never produce subnormals (which cost a
// microcode assist per operation) over the whole range of inputs.
func TestActivationKernelsNoSubnormals(t *testing.T) {
	var x []float32
	for v := float32(-200); v < 200; v += 0.01 {
		x = append(x, v)
	}
	ones := make([]float32, len(x))
	for i := range ones {
		ones[i] = 1
	}
	out := make([]float32, len(x))
	for name, f := range map[string]func(){
		"Sigmoid":      func() { Sigmoid(out, x) },
		"SiLU":         func() { SiLU(out, x) },
		"SiLUGrad":     func() { SiLUGrad(out, ones, x) },
		"GELU":         func() { GELU(out, x) },
		"GELUGrad":     func() { GELUGrad(out, ones, x) },
		"GELUTanh":     func() { GELUTanh(out, x) },
		"GELUTanhGrad": func() { GELUTanhGrad(out, ones, x) },
	} {
		f()
		for i, v := range out {
			if v != 0 && math.Abs(float64(v)) < 1.1754944e-38 {
				t.Errorf("%s(%v) = %v is subnormal", name, x[i], v)
				break
			}
		}
	}
}

func BenchmarkGELU(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		GELU(y, x)
	}
}

func BenchmarkGELUTanh(b *testing.B) {
	x := activationInputs(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		GELUTanh(y, x)
	}
}

// The assembly kernels agree with the Go loops: bit for bit where they use
// the same operations (up to the sign of a zero), within a few ulp where
// the FMAs round once instead of twice; NaNs stay NaNs. The GELUs compute
// the argument a of their exponential (-z^2 + ..., 2u), and a change of
// its last bit moves exp(a) by |a| * 2^-24 relative: up to 2|a| ulp, with
// |a| < 86 before results are flushed to 0, so they get 256 ulp.
func TestActivationAsmMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	type kernel struct {
		name  string
		asm   func(dst, x, dy []float32)
		gold  func(dst, x, dy []float32)
		exact bool
		ulps  float64
	}
	kernels := []kernel{
		{"Sigmoid", func(d, x, _ []float32) { Sigmoid(d, x) }, func(d, x, _ []float32) { sigmoidLoop(d, x, nil, modeSigmoid) }, false, 4},
		{"SiLU", func(d, x, _ []float32) { SiLU(d, x) }, func(d, x, _ []float32) { sigmoidLoop(d, x, nil, modeSiLU) }, false, 4},
		{"SiLUGrad", func(d, x, dy []float32) { SiLUGrad(d, dy, x) }, func(d, x, dy []float32) { sigmoidLoop(d, x, dy, modeSiLUGrad) }, false, 4},
		{"GELU", func(d, x, _ []float32) { GELU(d, x) }, func(d, x, _ []float32) { geluGo(d, x) }, false, 256},
		{"GELUGrad", func(d, x, dy []float32) { GELUGrad(d, dy, x) }, func(d, x, dy []float32) { geluGradGo(d, dy, x) }, false, 256},
		{"GELUTanh", func(d, x, _ []float32) { GELUTanh(d, x) }, func(d, x, _ []float32) { geluTanhGo(d, x) }, false, 256},
		{"GELUTanhGrad", func(d, x, dy []float32) { GELUTanhGrad(d, dy, x) }, func(d, x, dy []float32) { geluTanhGradGo(d, dy, x) }, false, 256},
		{"HardSwish", func(d, x, _ []float32) { HardSwish(d, x) }, func(d, x, _ []float32) { hardSwishGo(d, x) }, true, 0},
		{"HardSwishGrad", func(d, x, dy []float32) { HardSwishGrad(d, dy, x) }, func(d, x, dy []float32) { hardSwishGradGo(d, dy, x) }, true, 0},
		{"Clip", func(d, x, _ []float32) { Clip(d, x, -1.5, 6) }, func(d, x, _ []float32) { clipGo(d, x, -1.5, 6) }, true, 0},
		{"ClipGrad", func(d, x, dy []float32) { ClipGrad(d, dy, x, -1.5, 6) }, func(d, x, dy []float32) { clipGradGo(d, dy, x, -1.5, 6) }, true, 0},
	}
	specials := []float32{float32(math.NaN()), -float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
		float32(math.Copysign(0, -1)), -3, 3, 6, -1.5, 1e-30, -1e-30, 86, -86, 87, -87, 1e20, -1e20}
	for _, k := range kernels {
		for _, n := range append(awkward, 1000) {
			x := activationInputs(rng, n)
			for i := range x {
				if rng.IntN(6) == 0 {
					x[i] = specials[rng.IntN(len(specials))]
				}
			}
			dy := specialVec(rng, n)
			got, want := make([]float32, n), make([]float32, n)
			k.asm(got, x, dy)
			k.gold(want, x, dy)
			for i := range want {
				g, w := got[i], want[i]
				switch {
				case g != g || w != w:
					if (g != g) != (w != w) {
						t.Fatalf("%s(x=%v, dy=%v) = %v, Go loop %v", k.name, x[i], dy[i], g, w)
					}
				case k.exact:
					if g != w {
						t.Fatalf("%s(x=%v, dy=%v) = %v, Go loop %v (want the same bits)", k.name, x[i], dy[i], g, w)
					}
				default:
					if d := ulpDiff(g, float64(w)); d > k.ulps && math.Abs(float64(g-w)) > 1e-6*math.Abs(float64(dy[i]))+1e-30 {
						t.Fatalf("%s(x=%v, dy=%v) = %v, Go loop %v (%.0f ulp)", k.name, x[i], dy[i], g, w, d)
					}
				}
			}
		}
	}
}
