package kernels

// Requantize sets v[i] = RoundEven(clamp((v[i]+bias[i])*scale[i], lo, hi)):
// the fp32 requantization XNNPACK (TFLite's default CPU delegate) applies
// to int32 accumulators held exactly in float32, per output channel. lo
// and hi are the output range relative to the zero point and must lie
// within ±2^22 (RoundEven's range); bias and scale must be at least as
// long as v.
func Requantize(v, bias, scale []float32, lo, hi float32) {
	// Dispatch here, not in a helper: rows are one pixel's channels.
	if n := len(v) &^ 7; useMulAddAVX2 && n > 0 {
		_, _ = bias[n-1], scale[n-1]
		requantizeAVX2(&v[0], &bias[0], &scale[0], n, lo, hi)
		if n == len(v) {
			return
		}
		v, bias, scale = v[n:], bias[n:], scale[n:]
	}
	requantizeGo(v, bias, scale, lo, hi)
}

func requantizeGo(v, b, s []float32, lo, hi float32) {
	b, s = b[:len(v)], s[:len(v)]
	for i, a := range v {
		v[i] = RoundEven(min(max((a+b[i])*s[i], lo), hi))
	}
}

// RoundEven rounds to the nearest integer, ties to even, for |x| < 2^22:
// adding and subtracting 1.5*2^23 leaves the float32 rounding to do it
// (cheaper than math.RoundToEven's float64 bit manipulation).
func RoundEven(x float32) float32 {
	const magic = 12582912 // 1.5 * 2^23
	return (x + magic) - magic
}
