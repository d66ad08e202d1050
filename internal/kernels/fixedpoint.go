package kernels

import "math"

// TFLite's integer requantization (gemmlowp fixed point), for operators
// whose reference kernels rescale with an int32 multiplier and a shift
// (ADD, QUANTIZE, requantizing MEAN and the like).

// Multiplier is a real multiplier in TFLite's fixed-point form
// M * 2^(Shift-31), M a Q31 value with 2^30 <= |M| < 2^31 (0 for zero).
type Multiplier struct {
	M     int32
	Shift int
}

// QuantizeMultiplier is TFLite's QuantizeMultiplier: x = frac * 2^shift
// with frac rounded to Q31 (half away from zero). Multipliers below
// 2^-32 become zero.
func QuantizeMultiplier(x float64) Multiplier {
	if x == 0 {
		return Multiplier{}
	}
	f, shift := math.Frexp(x)
	qf := int64(math.Round(f * (1 << 31)))
	if qf == 1<<31 {
		qf /= 2
		shift++
	}
	if shift < -31 {
		return Multiplier{}
	}
	return Multiplier{M: int32(qf), Shift: shift}
}

// Apply is TFLite's MultiplyByQuantizedMultiplier: x shifted left by a
// positive Shift, a rounding doubling high multiply by M, then a rounding
// right shift by a negative Shift.
func (mu Multiplier) Apply(x int32) int32 {
	left, right := 0, 0
	if mu.Shift > 0 {
		left = mu.Shift
	} else {
		right = -mu.Shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(int32(int64(x)<<left), mu.M), right)
}

// SaturatingRoundingDoublingHighMul is gemmlowp's: the high 32 bits of
// 2*a*b, that is a*b / 2^31 rounded half up, with the one overflowing
// case (MinInt32 squared) saturated.
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == math.MinInt32 && b == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31)) // truncating division, as in C
}

// RoundingDivideByPOT is gemmlowp's: x / 2^e rounded half away from zero,
// for 0 <= e <= 31 (e <= 0 returns x).
func RoundingDivideByPOT(x int32, e int) int32 {
	if e <= 0 {
		return x
	}
	mask := int32(1)<<e - 1
	rem := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> e
	if rem > threshold {
		r++
	}
	return r
}
