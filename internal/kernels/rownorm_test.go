package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The layer-norm kernels give the bits of the Go loops, and the Go loops
// the float64 formulas within float32 rounding, for row lengths around
// the blocks of 8 (assembly only for multiples of 8).
func TestLayerNormKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, d := range []int{1, 3, 7, 8, 9, 16, 17, 24, 40, 63, 64, 200, 768} {
		for _, rows := range []int{1, 3, 10} {
			n := rows * d
			x, dy := randNormVec(rng, n, 2, 5), randNormVec(rng, n, 1, 0)
			gamma, beta := randNormVec(rng, d, 0.5, 1), randNormVec(rng, d, 1, 0)
			const eps = 1e-5
			mean, inv := make([]float32, rows), make([]float32, rows)
			wm, wi := make([]float32, rows), make([]float32, rows)
			got, want := make([]float32, n), make([]float32, n)
			LayerNormRows(got, x, gamma, beta, mean, inv, eps)
			layerNormRowsGo(want, x, gamma, beta, wm, wi, eps)
			sameBits(t, "LayerNormRows", got, want)
			sameBits(t, "LayerNormRows mean", mean, wm)
			sameBits(t, "LayerNormRows inv", inv, wi)
			for r := range rows {
				var s, q float64
				for _, v := range x[r*d : (r+1)*d] {
					s += float64(v)
				}
				m := s / float64(d)
				for _, v := range x[r*d : (r+1)*d] {
					q += (float64(v) - m) * (float64(v) - m)
				}
				iv := 1 / math.Sqrt(q/float64(d)+eps)
				if math.Abs(float64(wm[r])-m) > 1e-5*(1+math.Abs(m)) || math.Abs(float64(wi[r])-iv) > 1e-4*iv {
					t.Fatalf("d=%d: row %d mean %v inv %v, want %v %v", d, r, wm[r], wi[r], m, iv)
				}
				j := r*d + d/2
				y := (float64(x[j])-m)*iv*float64(gamma[d/2]) + float64(beta[d/2])
				if math.Abs(float64(want[j])-y) > 1e-4*(1+math.Abs(y)) {
					t.Fatalf("d=%d: y %v, want %v", d, want[j], y)
				}
			}
			inPlace := append([]float32(nil), x...)
			LayerNormRows(inPlace, inPlace, gamma, beta, mean, inv, eps)
			sameBits(t, "LayerNormRows in place", inPlace, want)

			LayerNormRowsGrad(got, dy, x, gamma, mean, inv)
			layerNormRowsGradGo(want, dy, x, gamma, mean, inv)
			sameBits(t, "LayerNormRowsGrad", got, want)
			// Rows of the gradient sum to 0 (shifting x does not change y).
			for r := range rows {
				var s float64
				for _, v := range want[r*d : (r+1)*d] {
					s += float64(v)
				}
				var scale float64
				for j := range d {
					scale += math.Abs(float64(dy[r*d+j]*gamma[j])) * float64(inv[r])
				}
				if d > 1 && math.Abs(s) > 1e-5*scale {
					t.Fatalf("d=%d: row %d of dx sums to %v", d, r, s)
				}
			}
			for _, off := range []int{0, 1, d / 3} {
				k := d - off
				sg, sb := make([]float64, k), make([]float64, k)
				wg, wb := make([]float64, k), make([]float64, k)
				LayerNormParamGrads(sg, sb, dy, x, mean, inv, d, off)
				layerNormParamGradsGo(wg, wb, dy, x, mean, inv, d, off)
				sameF64(t, "LayerNormParamGrads sg", sg, wg)
				sameF64(t, "LayerNormParamGrads sb", sb, wb)
			}
		}
	}
}

// BenchmarkLayerNormRows is the forward pass over 2048 rows of 128.
func BenchmarkLayerNormRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, g, be := randNormVec(rng, 2048*128, 1, 0), randNormVec(rng, 128, 1, 1), randNormVec(rng, 128, 1, 0)
	y, m, iv := make([]float32, len(x)), make([]float32, 2048), make([]float32, 2048)
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		LayerNormRows(y, x, g, be, m, iv, 1e-5)
	}
}
