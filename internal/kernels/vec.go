package kernels

import "fmt"

// Vector helpers used by the layers and optimizers. On amd64 the bulk of
// the work is done by AVX2 loops (vec_amd64.s); the Go loops below do the
// tails and everything elsewhere. They panic when lengths do not match,
// which is a programming error.

// Axpy computes y += alpha*x. x and y must have the same length.
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels.Axpy: len(x)=%d != len(y)=%d", len(x), len(y)))
	}
	i := axpyVec(alpha, x, y)
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// Scal computes x *= alpha.
func Scal(alpha float32, x []float32) {
	for i := scalVec(alpha, x); i < len(x); i++ {
		x[i] *= alpha
	}
}

// Dot returns the dot product of x and y, which must have the same length.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels.Dot: len(x)=%d != len(y)=%d", len(x), len(y)))
	}
	s0, i := dotVec(x, y)
	var s1, s2, s3 float32
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// AddBias adds bias to every row of c, whose rows have length len(bias)
// (c is a row-major rows x len(bias) matrix, e.g. an NHWC activation).
func AddBias(c, bias []float32) {
	n := len(bias)
	if n == 0 || len(c)%n != 0 {
		panic(fmt.Sprintf("kernels.AddBias: len(c)=%d is not a multiple of len(bias)=%d", len(c), n))
	}
	for i := 0; i < len(c); i += n {
		row := c[i : i+n]
		for j := addAsm(row, bias); j < n; j++ {
			row[j] += bias[j]
		}
	}
}

// SumRows adds the column sums of c, a row-major matrix with rows of
// length n, to dst (len(dst) == n): dst[j] += sum_i c[i*n+j]. This is the
// bias gradient of a layer whose output gradient is c.
func SumRows(dst, c []float32, n int) {
	if n <= 0 || len(dst) != n || len(c)%n != 0 {
		panic(fmt.Sprintf("kernels.SumRows: len(dst)=%d, len(c)=%d, n=%d: want len(dst) == n and len(c) a multiple of n", len(dst), len(c), n))
	}
	for i := 0; i < len(c); i += n {
		row := c[i : i+n]
		for j := addAsm(dst, row); j < n; j++ {
			dst[j] += row[j]
		}
	}
}
