package tflite

import "testing"

// TFLite's fixed-point multiplier and rounding against their real-number
// meaning.
func TestQuantizedMultiplier(t *testing.T) {
	for _, m := range []float64{0.5, 0.75, 0.0012345, 1, 1.5, 3.999, 1e-6} {
		mu := quantizeMultiplier(m)
		for _, x := range []int32{0, 1, -1, 7, -7, 1000, -1000, 123456, -654321} {
			got := mu.apply(x)
			want := float64(x) * m
			if d := float64(got) - want; d > 0.5+1e-6 || d < -0.5-1e-6 {
				t.Errorf("%g * %d = %d, want %.3f", m, x, got, want)
			}
		}
	}
	// Rounding ties go away from zero.
	if r := roundingDivideByPOT(5, 1); r != 3 {
		t.Errorf("5/2 -> %d", r)
	}
	if r := roundingDivideByPOT(-5, 1); r != -3 {
		t.Errorf("-5/2 -> %d", r)
	}
	if r := roundEven(2.5); r != 2 {
		t.Errorf("roundEven(2.5) = %v", r)
	}
	if r := roundEven(-3.5); r != -4 {
		t.Errorf("roundEven(-3.5) = %v", r)
	}
}
