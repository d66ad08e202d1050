package kernels

import (
	"fmt"
	"math"
)

// Layer-normalisation kernels: x holds rows of d values, each normalised
// by its own mean and variance. Row sums are float32 in 8 lanes (element
// i of a row goes to lane i mod 8; the elements after the last whole
// block of 8 are added to the total one by one), the lanes added
// pairwise; the assembly versions (AVX2, for d a multiple of 8) follow
// the same order, so they give the same bits as the Go loops.

// laneSum adds v into 8 lanes and returns the pairwise total plus the
// tail, the order the assembly uses.
func laneSum(acc *[8]float32) float32 {
	return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

// LayerNormRows normalises each row of d = len(gamma) values of x:
// y = (x - m)*inv*gamma + beta with m the row's mean and inv =
// 1/sqrt(var + eps) (var biased, from the centred values), and stores m
// and inv in mean[r] and inv[r]. y may be x.
func LayerNormRows(y, x, gamma, beta, mean, inv []float32, eps float32) {
	d := len(gamma)
	checkRows("LayerNormRows", len(x), d)
	rows := len(x) / d
	if len(y) != len(x) || len(beta) != d || len(mean) != rows || len(inv) != rows {
		panic(fmt.Sprintf("kernels.LayerNormRows: lengths y %d, x %d, gamma %d, beta %d, mean %d, inv %d", len(y), len(x), d, len(beta), len(mean), len(inv)))
	}
	if layerNormRowsAsm(y, x, gamma, beta, mean, inv, eps) {
		return
	}
	layerNormRowsGo(y, x, gamma, beta, mean, inv, eps)
}

func layerNormRowsGo(y, x, gamma, beta, mean, inv []float32, eps float32) {
	d := len(gamma)
	beta = beta[:d]
	fd := float32(d)
	for r := range mean {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		var acc [8]float32
		full := d &^ 7
		for i := 0; i < full; i += 8 {
			for l, v := range xr[i : i+8] {
				acc[l] += v
			}
		}
		s := laneSum(&acc)
		for _, v := range xr[full:] {
			s += v
		}
		m := s / fd
		acc = [8]float32{}
		for i := 0; i < full; i += 8 {
			for l, v := range xr[i : i+8] {
				e := v - m
				acc[l] += e * e
			}
		}
		q := laneSum(&acc)
		for _, v := range xr[full:] {
			e := v - m
			q += e * e
		}
		iv := 1 / float32(math.Sqrt(float64(q/fd+eps)))
		mean[r], inv[r] = m, iv
		for j, v := range xr {
			yr[j] = (v-m)*iv*gamma[j] + beta[j]
		}
	}
}

// LayerNormRowsGrad writes the input gradient of LayerNormRows for each
// row: with g = dy*gamma and xhat = (x - mean)*inv,
// dx = inv*((g - mean(g)) - xhat*mean(g*xhat)). dx may be dy.
func LayerNormRowsGrad(dx, dy, x, gamma, mean, inv []float32) {
	d := len(gamma)
	checkRows("LayerNormRowsGrad", len(x), d)
	rows := len(x) / d
	if len(dx) != len(x) || len(dy) != len(x) || len(mean) != rows || len(inv) != rows {
		panic(fmt.Sprintf("kernels.LayerNormRowsGrad: lengths dx %d, dy %d, x %d, gamma %d, mean %d, inv %d", len(dx), len(dy), len(x), d, len(mean), len(inv)))
	}
	if layerNormRowsGradAsm(dx, dy, x, gamma, mean, inv) {
		return
	}
	layerNormRowsGradGo(dx, dy, x, gamma, mean, inv)
}

func layerNormRowsGradGo(dx, dy, x, gamma, mean, inv []float32) {
	d := len(gamma)
	fd := float32(d)
	full := d &^ 7
	for r := range mean {
		xr, gr, yr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		m, iv := mean[r], inv[r]
		var a1, a2 [8]float32
		for i := 0; i < full; i += 8 {
			for l := range 8 {
				g := gr[i+l] * gamma[i+l]
				a1[l] += g
				a2[l] += g * ((xr[i+l] - m) * iv)
			}
		}
		s1, s2 := laneSum(&a1), laneSum(&a2)
		for j := full; j < d; j++ {
			g := gr[j] * gamma[j]
			s1 += g
			s2 += g * ((xr[j] - m) * iv)
		}
		a, b := s1/fd, s2/fd
		for j, v := range gr {
			h := (xr[j] - m) * iv
			yr[j] = iv * ((v*gamma[j] - a) - h*b)
		}
	}
}

// LayerNormParamGrads sets sg[k] = sum over rows of dy*xhat and sb[k] =
// sum of dy (float64 sums of float32 products, row by row) for the columns
// j = off+k of rows of d values: the gradients of gamma and beta, for a
// range of columns so that the cores can split them.
func LayerNormParamGrads(sg, sb []float64, dy, x, mean, inv []float32, d, off int) {
	checkRows("LayerNormParamGrads", len(x), d)
	if len(dy) != len(x) || len(mean) != len(x)/d || len(inv) != len(mean) || len(sb) != len(sg) || off < 0 || off+len(sg) > d {
		panic(fmt.Sprintf("kernels.LayerNormParamGrads: lengths dy %d, x %d, mean %d, inv %d, sums %d, %d; columns %d+%d of %d", len(dy), len(x), len(mean), len(inv), len(sg), len(sb), off, len(sg), d))
	}
	done := layerNormParamGradsAsm(sg, sb, dy, x, mean, inv, d, off)
	layerNormParamGradsGo(sg[done:], sb[done:], dy, x, mean, inv, d, off+done)
}

func layerNormParamGradsGo(sg, sb []float64, dy, x, mean, inv []float32, d, off int) {
	clear(sg)
	clear(sb)
	sb = sb[:len(sg)]
	for r, m := range mean {
		iv := inv[r]
		xr, gr := x[r*d+off:r*d+off+len(sg)], dy[r*d+off:r*d+off+len(sg)]
		for j, v := range gr {
			sg[j] += float64(v * ((xr[j] - m) * iv))
			sb[j] += float64(v)
		}
	}
}
