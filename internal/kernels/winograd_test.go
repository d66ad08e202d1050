package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Float64 forms of the Winograd F(2x2, 3x3) matrices (winograd.go).
var (
	winoBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoG  = [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winoAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// u32 is the unit roundoff of float32.
const u32 = 1.0 / (1 << 24)

// winoTransform returns L X R^T for X (a x b) and L (p x a), R (q x b),
// with abs taking absolute values of every factor (the magnitude that
// bounds the rounding errors of computing it).
func winoTransform(l [][]float64, x [][]float64, r [][]float64, abs bool) [][]float64 {
	f := func(v float64) float64 {
		if abs {
			return math.Abs(v)
		}
		return v
	}
	tmp := make([][]float64, len(l))
	for i := range l {
		tmp[i] = make([]float64, len(x[0]))
		for k := range x {
			for j := range x[0] {
				tmp[i][j] += f(l[i][k]) * f(x[k][j])
			}
		}
	}
	out := make([][]float64, len(l))
	for i := range l {
		out[i] = make([]float64, len(r))
		for j := range r {
			for k := range x[0] {
				out[i][j] += tmp[i][k] * f(r[j][k])
			}
		}
	}
	return out
}

func rows4x4(m [4][4]float64) [][]float64 { return [][]float64{m[0][:], m[1][:], m[2][:], m[3][:]} }
func rows4x3(m [4][3]float64) [][]float64 { return [][]float64{m[0][:], m[1][:], m[2][:], m[3][:]} }
func rows2x4(m [2][4]float64) [][]float64 { return [][]float64{m[0][:], m[1][:]} }

func transpose(m [][]float64) [][]float64 {
	t := make([][]float64, len(m[0]))
	for i := range t {
		t[i] = make([]float64, len(m))
		for j := range m {
			t[i][j] = m[j][i]
		}
	}
	return t
}

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// forEachWinoPath runs f with the assembly kernels (where the CPU has
// them) and with the Go loops alone.
func forEachWinoPath(t *testing.T, f func(t *testing.T)) {
	t.Run("default", f)
	if useWinoAVX2 {
		useWinoAVX2 = false
		defer func() { useWinoAVX2 = true }()
		t.Run("go", f)
	}
}

// Each transform against its matrix definition in float64. The input and
// gradient transforms add at most two values per stage, and the weight
// transform at most three (times an exact 1/2): two stages give errors
// within 2*2u (4*2u) of the magnitudes |L||X||R^T|.
func TestWinoTransforms(t *testing.T) {
	forEachWinoPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, c := range []int{1, 3, 8, 13, 16, 24} {
			for _, n := range []int{1, 2, 5} {
				// Input: n tiles of a row of 2n+2 pixels (+1 of slack), 4 rows.
				ps := (2*n+3)*c + 1
				p := randF32(rng, 4*ps)
				vs := n*c + 3
				v := randF32(rng, 16*vs)
				WinoInput(v, vs, p, ps, c, n)
				for tl := range n {
					for ch := range c {
						d := make([][]float64, 4)
						for r := range 4 {
							d[r] = make([]float64, 4)
							for j := range 4 {
								d[r][j] = float64(p[r*ps+(2*tl+j)*c+ch])
							}
						}
						want := winoTransform(rows4x4(winoBT), d, rows4x4(winoBT), false)
						mag := winoTransform(rows4x4(winoBT), d, rows4x4(winoBT), true)
						for xi := range 16 {
							got := float64(v[xi*vs+tl*c+ch])
							w, m := want[xi/4][xi%4], mag[xi/4][xi%4]
							if math.Abs(got-w) > 4*u32*m {
								t.Fatalf("c=%d n=%d: input tile %d channel %d plane %d = %v, want %v", c, n, tl, ch, xi, got, w)
							}
						}
					}
				}
				// The Go loops give the same bits as the assembly.
				v2 := append([]float32(nil), v...)
				winoInputGo(v2, vs, p, ps, c, n, 0)
				for i := range v {
					if math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
						t.Fatalf("c=%d n=%d: WinoInput and its Go loop differ at %d: %v, %v", c, n, i, v[i], v2[i])
					}
				}
				// Gradient: rows and columns of a ragged last tile.
				for _, rows := range []int{1, 2} {
					for _, cols := range []int{2*n - 1, 2 * n} {
						ys := (2*n+1)*c + 2
						dy := randF32(rng, 2*ys)
						WinoGradOutput(v, vs, dy, ys, c, n, rows, cols)
						for tl := range n {
							for ch := range c {
								d := [][]float64{{0, 0}, {0, 0}}
								for r := range rows {
									for j := range 2 {
										if 2*tl+j < cols {
											d[r][j] = float64(dy[r*ys+(2*tl+j)*c+ch])
										}
									}
								}
								a := transpose(rows2x4(winoAT))
								want := winoTransform(a, d, a, false)
								mag := winoTransform(a, d, a, true)
								for xi := range 16 {
									got := float64(v[xi*vs+tl*c+ch])
									w, m := want[xi/4][xi%4], mag[xi/4][xi%4]
									if math.Abs(got-w) > 4*u32*m {
										t.Fatalf("c=%d n=%d rows=%d cols=%d: gradient tile %d channel %d plane %d = %v, want %v", c, n, rows, cols, tl, ch, xi, got, w)
									}
								}
							}
						}
					}
				}
			}
			// Weights.
			for _, f := range []int{1, 5, 16} {
				w := randF32(rng, 9*c*f)
				u := make([]float32, 16*c*f)
				WinoWeights(u, w, c, f)
				for e := range c * f {
					g := make([][]float64, 3)
					for ky := range 3 {
						g[ky] = make([]float64, 3)
						for kx := range 3 {
							g[ky][kx] = float64(w[(ky*3+kx)*c*f+e])
						}
					}
					want := winoTransform(rows4x3(winoG), g, rows4x3(winoG), false)
					mag := winoTransform(rows4x3(winoG), g, rows4x3(winoG), true)
					for xi := range 16 {
						got := float64(u[xi*c*f+e])
						if w, m := want[xi/4][xi%4], mag[xi/4][xi%4]; math.Abs(got-w) > 8*u32*m {
							t.Fatalf("weights c=%d f=%d: entry %d plane %d = %v, want %v", c, f, e, xi, got, w)
						}
					}
				}
			}
		}
	})
}

// The output transform and the weight gradient's against their
// definitions: A^T M A sums up to 9 values in two stages of two
// additions, G^T M G likewise (the halves are exact).
func TestWinoOutputTransforms(t *testing.T) {
	forEachWinoPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, f := range []int{1, 7, 8, 16, 21} {
			for _, n := range []int{1, 3} {
				ms := n*f + 5
				m := randF32(rng, 16*ms)
				for _, rows := range []int{1, 2} {
					for _, cols := range []int{2*n - 1, 2 * n} {
						ys := (2*n+1)*f + 3
						y := randF32(rng, 2*ys)
						y0 := append([]float32(nil), y...)
						WinoOutput(y, ys, m, ms, f, n, rows, cols)
						for r := range 2 {
							for px := range 2*n + 1 {
								for ch := range f {
									i := r*ys + px*f + ch
									tl := px / 2
									if r >= rows || px >= cols {
										if y[i] != y0[i] {
											t.Fatalf("f=%d n=%d rows=%d cols=%d: pixel (%d, %d) channel %d written", f, n, rows, cols, r, px, ch)
										}
										continue
									}
									mt := make([][]float64, 4)
									for a := range 4 {
										mt[a] = make([]float64, 4)
										for b := range 4 {
											mt[a][b] = float64(m[(4*a+b)*ms+tl*f+ch])
										}
									}
									want := winoTransform(rows2x4(winoAT), mt, rows2x4(winoAT), false)[r][px%2]
									mag := winoTransform(rows2x4(winoAT), mt, rows2x4(winoAT), true)[r][px%2]
									if got := float64(y[i]); math.Abs(got-want) > 4*u32*mag {
										t.Fatalf("f=%d n=%d rows=%d cols=%d: pixel (%d, %d) channel %d = %v, want %v", f, n, rows, cols, r, px, ch, got, want)
									}
								}
							}
						}
					}
				}
			}
			for _, cin := range []int{1, 3, 9} {
				nn := cin * f
				m := randF32(rng, 16*nn)
				dw := randF32(rng, 9*nn)
				dw0 := append([]float32(nil), dw...)
				WinoWeightGrad(dw, m, cin, f)
				gt := transpose(rows4x3(winoG))
				for e := range nn {
					mt := make([][]float64, 4)
					for a := range 4 {
						mt[a] = make([]float64, 4)
						for b := range 4 {
							mt[a][b] = float64(m[(4*a+b)*nn+e])
						}
					}
					want := winoTransform(gt, mt, gt, false)
					mag := winoTransform(gt, mt, gt, true)
					for tap := range 9 {
						w := want[tap/3][tap%3] + float64(dw0[tap*nn+e])
						mg := mag[tap/3][tap%3] + math.Abs(float64(dw0[tap*nn+e]))
						if got := float64(dw[tap*nn+e]); math.Abs(got-w) > 6*u32*mg {
							t.Fatalf("weight gradient cin=%d f=%d: entry %d tap %d = %v, want %v", cin, f, e, tap, got, w)
						}
					}
				}
			}
		}
	})
}

// SgemmPlanes on awkward sizes, with every micro-kernel (the AVX2 tile
// kernel runs only under the AVX2 SGEMM kernel), against float64 with the
// bound of float32 dot products.
func TestSgemmPlanes(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, m := range []int{1, 5, 6, 7, 12, 13, 25, 48} {
			for _, n := range []int{1, 15, 16, 17, 24, 30, 33, 40, 47, 64, 80, 100} {
				for _, k := range []int{1, 3, 16, 37} {
					const planes = 3
					a, b, c, c0, as, bs, cs := planesCase(rng, planes, m, n, k)
					SgemmPlanes(planes, m, n, k, c, cs, a, as, b, bs)
					checkPlanes(t, false, planes, m, n, k, c, c0, cs, a, as, b, bs)
					if n >= 16 { // the same from planes packed in panels
						packed := make([]float32, PackPlanesLen(planes, k, n))
						PackPlanes(packed, planes, k, n, b, bs)
						c = append(c[:0], c0...)
						SgemmPlanesPacked(planes, m, n, k, c, cs, a, as, packed)
						checkPlanes(t, false, planes, m, n, k, c, c0, cs, a, as, b, bs)
					}
				}
			}
		}
	})
}

// planesCase makes random planes of A (m*k values), B (k*n) and C (m*n)
// with strides a few values longer, and a copy c0 of C.
func planesCase(rng *rand.Rand, planes, m, n, k int) (a, b, c, c0 []float32, as, bs, cs int) {
	cs, as, bs = m*n+2, m*k+1, k*n+3
	a = randF32(rng, planes*as)
	b = randF32(rng, planes*bs)
	c = randF32(rng, planes*cs)
	return a, b, c, append([]float32(nil), c...), as, bs, cs
}

// checkPlanes compares C_p = A_p B_p (C written over c0), or with tn
// C_p = c0 + A_p^T B_p (A_p k x m), with float64 sums, and checks that C
// past each plane's m x n values is untouched.
func checkPlanes(t *testing.T, tn bool, planes, m, n, k int, c, c0 []float32, cs int, a []float32, as int, b []float32, bs int) {
	t.Helper()
	for pl := range planes {
		for i := range m {
			for j := range n {
				var s, mag float64
				ai, aq, slack := k, 1, 2 // A(i, q) at i*ai + q*aq
				if tn {
					s = float64(c0[pl*cs+i*n+j])
					mag, ai, aq, slack = math.Abs(s), 1, m, 3
				}
				for q := range k {
					x := float64(a[pl*as+i*ai+q*aq]) * float64(b[pl*bs+q*n+j])
					s += x
					mag += math.Abs(x)
				}
				got := float64(c[pl*cs+i*n+j])
				if math.Abs(got-s) > float64(k+slack)*u32*mag {
					t.Fatalf("%dx%dx%d plane %d: C[%d][%d] = %v, want %v", m, n, k, pl, i, j, got, s)
				}
			}
		}
		for i := m * n; i < cs; i++ {
			if c[pl*cs+i] != c0[pl*cs+i] {
				t.Fatalf("%dx%dx%d plane %d: value %d past C written", m, n, k, pl, i)
			}
		}
	}
}

// SgemmPlanesTN on awkward sizes, with every micro-kernel, against
// float64: C is accumulated (its old value is one more term of the sum),
// and what lies past each C is left alone.
func TestSgemmPlanesTN(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 9))
		for _, m := range []int{1, 5, 6, 7, 8, 9, 10, 16, 48} {
			for _, n := range []int{1, 15, 16, 17, 40, 64} {
				for _, k := range []int{1, 3, 16, 37} {
					const planes = 3
					a, b, c, c0, as, bs, cs := planesCase(rng, planes, m, n, k)
					SgemmPlanesTN(planes, m, n, k, c, cs, a, as, b, bs)
					checkPlanes(t, true, planes, m, n, k, c, c0, cs, a, as, b, bs)
				}
			}
		}
	})
}

// winoConvRef is the convolution of an h x w x c image x, zero padded by
// one pixel all round, with w (3, 3, c, f), in float64; mag is the same
// with absolute values.
func winoConvRef(x []float32, h, wd, c int, k []float32, f int, oy, ox, j int) (s, mag float64) {
	for ky := range 3 {
		for kx := range 3 {
			iy, ix := oy-1+ky, ox-1+kx
			if iy < 0 || iy >= h || ix < 0 || ix >= wd {
				continue
			}
			for ch := range c {
				v := float64(x[(iy*wd+ix)*c+ch]) * float64(k[((ky*3+kx)*c+ch)*f+j])
				s += v
				mag += math.Abs(v)
			}
		}
	}
	return s, mag
}

// winoPad returns x (h x w x c) with one pixel of zeros above and to the
// left and enough below and to the right for th x tw tiles.
func winoPad(x []float32, h, w, c, th, tw int) []float32 {
	ph, pw := 2*th+2, 2*tw+2
	p := make([]float32, ph*pw*c)
	for y := range h {
		copy(p[((y+1)*pw+1)*c:], x[y*w*c:(y+1)*w*c])
	}
	return p
}

// winoMags returns, for the padded image p (rows of pw pixels of c
// channels) and the kernel k (3, 3, c, f), the Winograd computation in
// float64 with every factor and every transform matrix taken in absolute
// value: out[(oy*w + ox)*f + j] for the forward pass, and per tap and
// channel pair, (9, c, f), the same for the weight gradient given dy
// (h x w x f). These are the magnitudes that bound the rounding errors of
// each stage; unlike the direct sums of |x||w| they count the values that
// cancel between the taps that share a transformed product.
func winoMags(p []float32, pw, h, w, c int, k []float32, f int, dy []float32) (fwd, grad []float64) {
	th, tw := (h+1)/2, (w+1)/2
	fwd = make([]float64, h*w*f)
	grad = make([]float64, 9*c*f)
	bt, g, at := rows4x4(winoBT), rows4x3(winoG), rows2x4(winoAT)
	a := transpose(at)
	u := make([][][]float64, c*f) // |G||g||G^T| per (ch, j)
	for e := range c * f {
		gg := make([][]float64, 3)
		for ky := range 3 {
			gg[ky] = make([]float64, 3)
			for kx := range 3 {
				gg[ky][kx] = float64(k[(ky*3+kx)*c*f+e])
			}
		}
		u[e] = winoTransform(g, gg, g, true)
	}
	macc := make([][][]float64, c*f) // sum over tiles of |A||dy||A^T| ⊙ |V|
	for e := range macc {
		macc[e] = [][]float64{make([]float64, 4), make([]float64, 4), make([]float64, 4), make([]float64, 4)}
	}
	for ty := range th {
		for tx := range tw {
			v := make([][][]float64, c)
			for ch := range c {
				d := make([][]float64, 4)
				for r := range 4 {
					d[r] = make([]float64, 4)
					for j := range 4 {
						d[r][j] = float64(p[((2*ty+r)*pw+2*tx+j)*c+ch])
					}
				}
				v[ch] = winoTransform(bt, d, bt, true)
			}
			for j := range f {
				m := [][]float64{make([]float64, 4), make([]float64, 4), make([]float64, 4), make([]float64, 4)}
				for ch := range c {
					for xi := range 16 {
						m[xi/4][xi%4] += u[ch*f+j][xi/4][xi%4] * v[ch][xi/4][xi%4]
					}
				}
				y := winoTransform(at, m, at, true)
				gt := [][]float64{{0, 0}, {0, 0}}
				for r := range 2 {
					for q := range 2 {
						oy, ox := 2*ty+r, 2*tx+q
						if oy < h && ox < w {
							fwd[(oy*w+ox)*f+j] = y[r][q]
							gt[r][q] = float64(dy[(oy*w+ox)*f+j])
						}
					}
				}
				e := winoTransform(a, gt, a, true)
				for ch := range c {
					for xi := range 16 {
						macc[ch*f+j][xi/4][xi%4] += e[xi/4][xi%4] * v[ch][xi/4][xi%4]
					}
				}
			}
		}
	}
	for e := range c * f {
		dw := winoTransform(transpose(g), macc[e], transpose(g), true)
		for tap := range 9 {
			grad[tap*c*f+e] = dw[tap/3][tap%3]
		}
	}
	return fwd, grad
}

// The whole convolution by the kernels, forward and weight gradient, on
// odd and even image sizes, against float64. The bound is the rounding of
// each stage times the magnitude it works on (winoMags): input 2u,
// weights 4u, products and their sum over the c channels (or the tiles)
// (c+1)u, output 4u: (c+11)u in all, first order.
func TestWinoConvolution(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		forEachWinoPath(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			for _, sz := range []struct{ h, w, c, f int }{{4, 4, 16, 16}, {5, 7, 3, 17}, {8, 6, 13, 5}, {3, 9, 32, 24}, {1, 2, 8, 16}} {
				t.Run(fmt.Sprintf("%dx%dx%d_f%d", sz.h, sz.w, sz.c, sz.f), func(t *testing.T) {
					h, w, c, f := sz.h, sz.w, sz.c, sz.f
					th, tw := (h+1)/2, (w+1)/2
					x := randF32(rng, h*w*c)
					k := randF32(rng, 9*c*f)
					p := winoPad(x, h, w, c, th, tw)
					ps := (2*tw + 2) * c
					T := th * tw
					u := make([]float32, 16*c*f)
					WinoWeights(u, k, c, f)
					v := make([]float32, 16*T*c)
					mm := make([]float32, 16*T*f)
					for ty := range th {
						WinoInput(v[ty*tw*c:], T*c, p[2*ty*ps:], ps, c, tw)
					}
					SgemmPlanes(16, T, f, c, mm, T*f, v, T*c, u, c*f)
					y := make([]float32, h*w*f)
					for ty := range th {
						WinoOutput(y[2*ty*w*f:], w*f, mm[ty*tw*f:], T*f, f, tw, min(2, h-2*ty), w)
					}
					dy := randF32(rng, h*w*f)
					fmag, gmag := winoMags(p, 2*tw+2, h, w, c, k, f, dy)
					for oy := range h {
						for ox := range w {
							for j := range f {
								s, _ := winoConvRef(x, h, w, c, k, f, oy, ox, j)
								got := float64(y[(oy*w+ox)*f+j])
								if math.Abs(got-s) > float64(c+11)*u32*fmag[(oy*w+ox)*f+j] {
									t.Fatalf("y[%d, %d, %d] = %v, want %v", oy, ox, j, got, s)
								}
							}
						}
					}
					// The weight gradient for the output gradient dy.
					g := make([]float32, 16*T*f)
					for ty := range th {
						WinoGradOutput(g[ty*tw*f:], T*f, dy[2*ty*w*f:], w*f, f, tw, min(2, h-2*ty), w)
					}
					acc := make([]float32, 16*c*f)
					for xi := range 16 {
						SgemmSerial(true, false, c, f, T, 1, v[xi*T*c:], c, g[xi*T*f:], f, 0, acc[xi*c*f:], f)
					}
					dw := make([]float32, 9*c*f)
					WinoWeightGrad(dw, acc, c, f)
					for ky := range 3 {
						for kx := range 3 {
							for ch := range c {
								for j := range f {
									var s float64
									for oy := range h {
										for ox := range w {
											iy, ix := oy-1+ky, ox-1+kx
											if iy < 0 || iy >= h || ix < 0 || ix >= w {
												continue
											}
											s += float64(x[(iy*w+ix)*c+ch]) * float64(dy[(oy*w+ox)*f+j])
										}
									}
									e := ((ky*3+kx)*c+ch)*f + j
									if got := float64(dw[e]); math.Abs(got-s) > float64(T+11)*u32*gmag[e] {
										t.Fatalf("dW[%d, %d, %d, %d] = %v, want %v", ky, kx, ch, j, got, s)
									}
								}
							}
						}
					}
				})
			}
		})
	})
}

// WinoWeights split over threads gives the serial blocks' bits, the last
// block partial.
func TestWinoWeightsParallel(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	rng := rand.New(rand.NewPCG(5, 6))
	c, f := 70, 65 // 4550 channel pairs: 36 blocks, the last of 70
	w := randF32(rng, 9*c*f)
	got, want := make([]float32, 16*c*f), make([]float32, 16*c*f)
	WinoWeights(got, w, c, f)
	winoWeightBlocks(want, w, c*f, 0, (c*f+winoBlk-1)/winoBlk)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, serial %v", i, got[i], want[i])
		}
	}
}

// TestSgemmBiasClamp: the product with its bias and clamp equals
// SgemmPlanes' product followed by the epilogue (the same sums, then
// the same two steps), on every kernel, for ragged shapes and clamps of
// one, two or no sides, and a NaN in A stays NaN.
func TestSgemmBiasClamp(t *testing.T) {
	inf := float32(math.Inf(1))
	eachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 11))
		for _, m := range []int{1, 5, 6, 7, 12, 13, 25, 48} {
			for _, n := range []int{1, 15, 16, 17, 24, 30, 40, 47, 64, 80, 100} {
				for _, k := range []int{1, 3, 16, 37} {
					for _, cl := range [][2]float32{{-inf, inf}, {0, 6}, {0, inf}, {-0.2, 0.3}} {
						a, b, bias := randF32(rng, m*k), randF32(rng, k*n), randF32(rng, n)
						want := make([]float32, m*n)
						SgemmPlanes(1, m, n, k, want, 0, a, 0, b, 0)
						for i, v := range want {
							want[i] = min(max(v+bias[i%n], cl[0]), cl[1])
						}
						got := randF32(rng, m*n)
						SgemmBiasClamp(m, n, k, got, a, b, bias, cl[0], cl[1])
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("%dx%dx%d clamp %v: C[%d] = %v, want %v", m, n, k, cl, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
		m, n, k := 12, 32, 8
		a, b, bias := randF32(rng, m*k), randF32(rng, k*n), randF32(rng, n)
		a[7*k+2] = float32(math.NaN()) // row 7
		c := make([]float32, m*n)
		SgemmBiasClamp(m, n, k, c, a, b, bias, 0, 6)
		for i, v := range c {
			if nan := math.IsNaN(float64(v)); nan != (i/n == 7) {
				t.Fatalf("C[%d] = %v with a NaN in row 7 of A", i, v)
			}
		}
	})
}

// TestSgemmPlanesEdge8Bits checks that the last 8 columns computed by the
// 12x8 tiles (a width of 16j+8 or less past the last 16) have the bits
// of the 6x16 tiles: the same product, B padded with zero columns to a
// multiple of 16, so that only 6x16 tiles run.
func TestSgemmPlanesEdge8Bits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{12, 25, 48} {
		for _, n := range []int{17, 24, 40} {
			k := 37
			np := (n + 15) / 16 * 16
			a, b := randF32(rng, m*k), randF32(rng, k*n)
			bp := make([]float32, k*np)
			for p := range k {
				copy(bp[p*np:], b[p*n:(p+1)*n])
			}
			got, want := make([]float32, m*n), make([]float32, m*np)
			SgemmPlanes(1, m, n, k, got, 0, a, 0, b, 0)
			SgemmPlanes(1, m, np, k, want, 0, a, 0, bp, 0)
			for i := range m {
				for j := range n {
					if got[i*n+j] != want[i*np+j] {
						t.Fatalf("%dx%dx%d: C[%d][%d] = %v, the 6x16 tiles give %v", m, n, k, i, j, got[i*n+j], want[i*np+j])
					}
				}
			}
		}
	}
}

// BenchmarkSgemmBiasClamp times the all-tiles 1x1 convolution with its
// bias and ReLU6 on MobileNetV2's 56x56 and 14x14 shapes, one thread.
func BenchmarkSgemmBiasClamp(b *testing.B) {
	for _, sh := range [][3]int{{3136, 24, 144}, {3136, 144, 24}, {196, 576, 96}} {
		m, n, k := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a, w, bias, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, n), make([]float32, m*n)
			for b.Loop() {
				SgemmBiasClamp(m, n, k, c, a, w, bias, 0, 6)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
