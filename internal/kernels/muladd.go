package kernels

// MulAdd sets acc[i] += x[i]*w[i] for i < len(acc): one tap of a
// depthwise convolution, over the channels of a pixel. x and w must be at
// least as long as acc.
func MulAdd(acc, x, w []float32) {
	// The dispatch is here, not in a helper: taps are short, and a second
	// call level cost 3-7% per tap.
	if n := len(acc) &^ 7; useMulAddAVX2 && n > 0 {
		_, _ = x[n-1], w[n-1]
		mulAddAVX2(&acc[0], &x[0], &w[0], n)
		if n == len(acc) {
			return
		}
		acc, x, w = acc[n:], x[n:], w[n:]
	}
	mulAddGo(acc, x, w)
}

// MulAdd3 sets acc[i] += x0[i]*w0[i] + x1[i]*w1[i] + x2[i]*w2[i]: three
// taps of a depthwise convolution at one load and store of acc. Every
// slice must be at least as long as acc.
func MulAdd3(acc, x0, x1, x2, w0, w1, w2 []float32) {
	if n := len(acc) &^ 7; useMulAddAVX2 && n > 0 {
		_, _, _, _, _, _ = x0[n-1], x1[n-1], x2[n-1], w0[n-1], w1[n-1], w2[n-1]
		mulAdd3AVX2(&acc[0], &x0[0], &x1[0], &x2[0], &w0[0], &w1[0], &w2[0], n)
		if n == len(acc) {
			return
		}
		acc, x0, x1, x2, w0, w1, w2 = acc[n:], x0[n:], x1[n:], x2[n:], w0[n:], w1[n:], w2[n:]
	}
	mulAdd3Go(acc, x0, x1, x2, w0, w1, w2)
}

func mulAddGo(acc, x, w []float32) {
	x, w = x[:len(acc)], w[:len(acc)]
	for k := range acc {
		acc[k] += x[k] * w[k]
	}
}

func mulAdd3Go(acc, x0, x1, x2, w0, w1, w2 []float32) {
	n := len(acc)
	x0, x1, x2 = x0[:n], x1[:n], x2[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	k := 0
	for ; k+4 <= n; k += 4 {
		a0 := acc[k] + x0[k]*w0[k] + x1[k]*w1[k] + x2[k]*w2[k]
		a1 := acc[k+1] + x0[k+1]*w0[k+1] + x1[k+1]*w1[k+1] + x2[k+1]*w2[k+1]
		a2 := acc[k+2] + x0[k+2]*w0[k+2] + x1[k+2]*w1[k+2] + x2[k+2]*w2[k+2]
		a3 := acc[k+3] + x0[k+3]*w0[k+3] + x1[k+3]*w1[k+3] + x2[k+3]*w2[k+3]
		acc[k], acc[k+1], acc[k+2], acc[k+3] = a0, a1, a2, a3
	}
	for ; k < n; k++ {
		acc[k] += x0[k]*w0[k] + x1[k]*w1[k] + x2[k]*w2[k]
	}
}
