package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// floorDiv is floor(x / 2^e) in exact arithmetic.
func floorDiv(x *big.Int, e uint) *big.Int {
	return new(big.Int).Div(x, new(big.Int).Lsh(big.NewInt(1), e)) // Euclidean: floor for a positive divisor
}

// srdhmRef is round-half-up(a*b / 2^31) = floor((2ab + 2^31) / 2^32),
// saturated to int32.
func srdhmRef(a, b int32) int64 {
	ab := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b)))
	ab.Lsh(ab, 1).Add(ab, big.NewInt(1<<31))
	return min(floorDiv(ab, 32).Int64(), math.MaxInt32)
}

// interesting int32 values: extremes, small values, powers of two and
// their neighbours, and random ones.
func fixedPointInputs(r *rand.Rand) []int32 {
	v := []int32{0, 1, -1, 2, -2, 3, -3, math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1}
	for e := 1; e < 31; e += 3 {
		p := int32(1) << e
		v = append(v, p, -p, p-1, -p+1, p+1, -p-1)
	}
	for range 300 {
		v = append(v, int32(r.Uint32()))
	}
	return v
}

func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 31))
	in := fixedPointInputs(r)
	for _, a := range in {
		for _, b := range in[:60] {
			if got, want := SaturatingRoundingDoublingHighMul(a, b), srdhmRef(a, b); int64(got) != want {
				t.Fatalf("srdhm(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 31))
	for _, x := range fixedPointInputs(r) {
		for e := 0; e <= 31; e++ {
			// x / 2^e is exact in float64; math.Round rounds half away from zero.
			want := math.Round(float64(x) / math.Ldexp(1, e))
			if got := RoundingDivideByPOT(x, e); float64(got) != want {
				t.Fatalf("RoundingDivideByPOT(%d, %d) = %d, want %v", x, e, got, want)
			}
		}
	}
	if RoundingDivideByPOT(5, 1) != 3 || RoundingDivideByPOT(-5, 1) != -3 {
		t.Error("ties must go away from zero")
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	for _, x := range []float64{0.5, 0.75, 0.0012345, 1, 1.5, 3.999, 1e-6, 0.9999999999, 1 - 0x1p-33, 123.456, 0x1p-31, 0x1p-33} {
		mu := QuantizeMultiplier(x)
		if x < 0x1p-32 {
			if mu != (Multiplier{}) {
				t.Errorf("QuantizeMultiplier(%g) = %+v, want zero", x, mu)
			}
			continue
		}
		if mu.M < 1<<30 {
			t.Errorf("QuantizeMultiplier(%g) = %+v: M not normalised", x, mu)
		}
		// Q31 rounding: off by at most half a unit in the last place.
		got := math.Ldexp(float64(mu.M), mu.Shift-31)
		if d := math.Abs(got - x); d > math.Ldexp(0.5, mu.Shift-31) {
			t.Errorf("QuantizeMultiplier(%g) = %+v = %g", x, mu, got)
		}
	}
	if mu := QuantizeMultiplier(0); mu != (Multiplier{}) {
		t.Errorf("QuantizeMultiplier(0) = %+v", mu)
	}
}

// applyRef is MultiplyByQuantizedMultiplier in exact arithmetic: the
// high multiply rounds half up, the shift rounds half away from zero.
func applyRef(mu Multiplier, x int32) int64 {
	left, right := max(mu.Shift, 0), max(-mu.Shift, 0)
	hi := srdhmRef(int32(int64(x)<<left), mu.M)
	return int64(math.Round(float64(hi) / math.Ldexp(1, right)))
}

func TestMultiplierApply(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 31))
	for _, m := range []float64{0.5, 0.75, 0.0012345, 1, 1.5, 3.999, 1e-6, 0.3} {
		mu := QuantizeMultiplier(m)
		for _, x := range []int32{0, 1, -1, 7, -7, 1000, -1000, 123456, -654321, 1 << 20, -(1 << 20)} {
			if got, want := mu.Apply(x), applyRef(mu, x); int64(got) != want {
				t.Fatalf("%+v.Apply(%d) = %d, want %d", mu, x, got, want)
			}
		}
		for range 2000 {
			x := int32(r.IntN(1<<24) - 1<<23)
			if got, want := mu.Apply(x), applyRef(mu, x); int64(got) != want {
				t.Fatalf("%+v.Apply(%d) = %d, want %d", mu, x, got, want)
			}
		}
	}
}

// TFLite's fixed-point multiplier and rounding against their real-number
// meaning: within half a unit (plus the multiplier's Q31 error) here.
func TestMultiplierMatchesReal(t *testing.T) {
	for _, m := range []float64{0.5, 0.75, 0.0012345, 1, 1.5, 3.999, 1e-6} {
		mu := QuantizeMultiplier(m)
		for _, x := range []int32{0, 1, -1, 7, -7, 1000, -1000, 123456, -654321} {
			got := mu.Apply(x)
			want := float64(x) * m
			if d := float64(got) - want; d > 0.5+1e-6 || d < -0.5-1e-6 {
				t.Errorf("%g * %d = %d, want %.3f", m, x, got, want)
			}
		}
	}
}
