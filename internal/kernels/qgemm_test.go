package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmQRef is the integer product in int64.
func gemmQRef(m, k, n int, a []byte, lda int, b []int8) []int64 {
	c := make([]int64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int64
			for kk := 0; kk < k; kk++ {
				s += int64(a[i*lda+kk]) * int64(b[kk*n+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

func TestGemmQ(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 7))
	for _, m := range []int{1, 5, 12, 13, 25, 49} {
		for _, k := range []int{1, 3, 4, 5, 27, 144, 291} {
			for _, n := range []int{1, 16, 24, 33, 96, 100} {
				lda := k + r.IntN(3)
				// a ends right after its last row's k bytes: the rows
				// the kernel cannot read in whole quads go through the
				// scratch.
				a := make([]byte, (m-1)*lda+k)
				for i := range a {
					a[i] = byte(r.IntN(256))
				}
				if m > 2 { // extremes: saturating pair sums would show
					for kk := 0; kk < k; kk++ {
						a[lda+kk] = 255
					}
				}
				b := make([]int8, k*n)
				for i := range b {
					b[i] = int8(r.IntN(256) - 128)
				}
				for i := 0; i < min(k, 8)*n; i++ {
					b[i] = -128
				}
				want := gemmQRef(m, k, n, a, lda, b)
				pb := PackQ(k, n, b, n)
				ldc := pb.Cols() + r.IntN(2)
				c := make([]int32, (m-1)*ldc+pb.Cols())
				GemmQ(m, a, lda, pb, c, ldc, nil)
				for i := 0; i < m; i++ {
					for j := 0; j < pb.Cols(); j++ {
						var w int64
						if j < n {
							w = want[i*n+j]
						}
						if int64(c[i*ldc+j]) != w {
							t.Fatalf("m=%d k=%d n=%d: c[%d][%d] = %d, want %d", m, k, n, i, j, c[i*ldc+j], w)
						}
					}
				}
				// The Go twin on the same whole blocks.
				mp, kb := (m+qRows-1)/qRows*qRows, 4*pb.quads
				ap := make([]byte, mp*kb)
				for i := 0; i < m; i++ {
					copy(ap[i*kb:], a[i*lda:i*lda+k])
				}
				cg := make([]int32, mp*pb.Cols())
				gemmQRowsGo(mp, ap, kb, pb, cg, pb.Cols())
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						if int64(cg[i*pb.Cols()+j]) != want[i*n+j] {
							t.Fatalf("Go twin m=%d k=%d n=%d: c[%d][%d] = %d, want %d", m, k, n, i, j, cg[i*pb.Cols()+j], want[i*n+j])
						}
					}
				}
			}
		}
	}
}

func TestRowSumsU8(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{0, 1, 63, 64, 65, 200, 1153} {
		const m = 3
		a := make([]byte, m*(k+1))
		for i := range a {
			a[i] = byte(r.IntN(256))
		}
		a[0] = 255
		sums := make([]int32, m)
		RowSumsU8(sums, a, k+1, k, m)
		for i := 0; i < m; i++ {
			var w int32
			for _, v := range a[i*(k+1) : i*(k+1)+k] {
				w += int32(v)
			}
			if sums[i] != w {
				t.Fatalf("k=%d row %d: sum %d, want %d", k, i, sums[i], w)
			}
		}
	}
}

func TestQRequant(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 3))
	for _, n := range append(tapLengths, 1001) {
		acc, bias, scale := make([]int32, n), make([]int32, n), make([]float32, n)
		for i := range acc {
			acc[i] = int32(r.IntN(400001) - 200000)
			bias[i] = int32(r.IntN(4001) - 2000)
			scale[i] = 0.003*r.Float32() + 1e-5
		}
		for i := 0; i < n; i += 5 { // ties: an odd sum times 0.5
			acc[i], bias[i], scale[i] = int32(2*r.IntN(300)-299), 0, 0.5
		}
		if n > 0 {
			acc[n-1], scale[n-1] = math.MaxInt32-5000, 4 // far beyond the range
		}
		const add = 7
		q := QRequant{Bias: bias, Scale: scale, Lo: -100, Hi: 27, ZP: 128}
		u8, f32 := make([]byte, n), make([]float32, n)
		q.RowU8(u8, acc, add)
		q.RowF32(f32, acc, add)
		for i := range acc {
			x := float64(float32(acc[i]+bias[i]+add)) * float64(scale[i])
			want := math.RoundToEven(min(max(float64(float32(x)), -100), 27))
			if float64(f32[i]) != want || int(u8[i]) != int(want)+128 {
				t.Fatalf("n=%d [%d]: (%d+%d+%d)*%v -> %v / byte %d, want %v", n, i, acc[i], bias[i], add, scale[i], f32[i], u8[i], want)
			}
		}
	}
}

func BenchmarkGemmQ(b *testing.B) {
	for _, sz := range [][3]int{{3136, 24, 144}, {196, 384, 64}, {49, 960, 160}, {12544, 16, 96}} {
		m, k, n := sz[0], sz[1], sz[2]
		a := make([]byte, m*k)
		w := make([]int8, k*n)
		for i := range a {
			a[i] = byte(i * 7)
		}
		for i := range w {
			w[i] = int8(i * 3)
		}
		pb := PackQ(k, n, w, n)
		c := make([]int32, m*pb.Cols())
		var s QScratch
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			for range b.N {
				GemmQ(m, a, k, pb, c, pb.Cols(), &s)
			}
			b.ReportMetric(float64(2*m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

func TestDwRowQ(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, c := range []int{16, 32, 96, 7, 40} {
		for _, kw := range []int{1, 3, 5} {
			for _, strides := range [][2]int{{c, c}, {2 * c, c}, {0, 0}, {c, 2 * c}} {
				xs, ts := strides[0], strides[1]
				const n = 9
				x := make([]byte, (n-1)*xs+(kw-1)*ts+c)
				for i := range x {
					x[i] = byte(r.IntN(256))
				}
				w, ws := make([]int32, kw*c), make([]int32, kw*c)
				for i := range w {
					ws[i] = int32(r.IntN(511) - 255)
					w[i] = DwWeightQ(ws[i])
				}
				acc := make([]int32, n*c)
				for i := range acc {
					acc[i] = int32(r.IntN(1000) - 500)
				}
				want := append([]int32(nil), acc...)
				for p := 0; p < n; p++ {
					for tp := 0; tp < kw; tp++ {
						for ch := 0; ch < c; ch++ {
							want[p*c+ch] += int32(x[p*xs+tp*ts+ch]) * ws[tp*c+ch]
						}
					}
				}
				twin := append([]int32(nil), acc...)
				DwRowQ(acc, x, xs, ts, w, n, c, kw)
				dwRowQGo(twin, x, xs, ts, w, n, c, kw)
				for i := range want {
					if acc[i] != want[i] || twin[i] != want[i] {
						t.Fatalf("c=%d kw=%d strides %v: acc[%d] = %d (twin %d), want %d", c, kw, strides, i, acc[i], twin[i], want[i])
					}
				}
			}
		}
	}
}

func TestGemmQBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	for _, m := range []int{1, 11, 12, 30} {
		for _, k := range []int{3, 16, 45} {
			for _, n := range []int{5, 24, 32, 40, 96} {
				lda, ldd := k+r.IntN(2), n+r.IntN(3)
				a := make([]byte, (m-1)*lda+k)
				for i := range a {
					a[i] = byte(r.IntN(256))
				}
				b := make([]int8, k*n)
				for i := range b {
					b[i] = int8(r.IntN(256) - 128)
				}
				pb := PackQ(k, n, b, n)
				q := QRequant{Bias: make([]int32, pb.Cols()), Scale: make([]float32, pb.Cols()), Lo: -60, Hi: 90, ZP: 100}
				for j := 0; j < n; j++ {
					q.Bias[j] = int32(r.IntN(4001) - 2000)
					q.Scale[j] = 0.02 * r.Float32()
				}
				for _, withAdds := range []bool{false, true} {
					var adds []int32
					if withAdds {
						adds = make([]int32, m)
						for i := range adds {
							adds[i] = int32(r.IntN(20001) - 10000)
						}
					}
					dst := make([]byte, (m-1)*ldd+n+5)
					for i := range dst {
						dst[i] = 0xaa
					}
					GemmQBytes(m, a, lda, pb, dst, ldd, &q, adds, nil)
					acc := make([]int32, m*pb.Cols())
					GemmQ(m, a, lda, pb, acc, pb.Cols(), nil)
					want := make([]byte, n)
					for i := 0; i < m; i++ {
						var add int32
						if adds != nil {
							add = adds[i]
						}
						q.RowU8(want, acc[i*pb.Cols():], add)
						for j := 0; j < ldd && i*ldd+j < len(dst); j++ {
							got := dst[i*ldd+j]
							if j < n && got != want[j] || j >= n && got != 0xaa {
								t.Fatalf("m=%d k=%d n=%d adds %v: dst[%d][%d] = %d, want %d (0xaa past n)", m, k, n, withAdds, i, j, got, want[min(j, n-1)])
							}
						}
					}
				}
			}
		}
	}
}

func TestDwQBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2))
	for _, c := range []int{16, 32, 48, 20, 96, 112, 160} {
		for _, taps := range []int{1, 9, 25} {
			const n, xs = 7, 2
			offs := make([]int, taps)
			for i := range offs {
				offs[i] = r.IntN(40) * c
			}
			x := make([]byte, (n-1)*xs*c+40*c+c)
			for i := range x {
				x[i] = byte(r.IntN(256))
			}
			w, ws := make([]int32, taps*c), make([]int32, taps*c)
			for i := range w {
				ws[i] = int32(r.IntN(511) - 255)
				w[i] = DwWeightQ(ws[i])
			}
			q := QRequant{Bias: make([]int32, c), Scale: make([]float32, c), Lo: -30, Hi: 120, ZP: 128}
			for i := range q.Bias {
				q.Bias[i] = int32(r.IntN(40001) - 20000)
				q.Scale[i] = 0.004 * r.Float32()
			}
			dst := make([]byte, n*(c+3))
			DwQBytes(dst, c+3, x, xs*c, offs, w, n, c, &q)
			want := make([]byte, c)
			for p := 0; p < n; p++ {
				acc := make([]int32, c)
				for tp, o := range offs {
					for ch := 0; ch < c; ch++ {
						acc[ch] += int32(x[p*xs*c+o+ch]) * ws[tp*c+ch]
					}
				}
				q.RowU8(want, acc, 0)
				for ch := 0; ch < c; ch++ {
					if dst[p*(c+3)+ch] != want[ch] {
						t.Fatalf("c=%d taps=%d: pixel %d channel %d: %d, want %d", c, taps, p, ch, dst[p*(c+3)+ch], want[ch])
					}
				}
			}
		}
	}
}

func TestQuantizeU8(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 9))
	x := make([]float32, 1003)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	const scale = 0.0125
	for i := 0; i < 200; i++ { // exact halves, both signs, and extremes
		x[i] = (float32(r.IntN(400)-200) + 0.5) * scale
	}
	x[200], x[201], x[202] = 1e30, -1e30, 0.4999999*scale
	for _, tc := range []struct{ zp, qmin, qmax, shift int32 }{{128, 0, 255, 0}, {-5, -128, 127, 128}} {
		dst := make([]byte, len(x))
		QuantizeU8(dst, x, scale, tc.zp, tc.qmin, tc.qmax, tc.shift)
		for i, v := range x {
			q := int32(math.Round(float64(v / scale))) // math.Round: half away from zero
			if f := math.Round(float64(v / scale)); f > 1e9 {
				q = 1e9
			} else if f < -1e9 {
				q = -1e9
			}
			want := byte(min(max(q+tc.zp, tc.qmin), tc.qmax) + tc.shift)
			if dst[i] != want {
				t.Fatalf("%+v: x[%d] = %v (x/scale %v): %d, want %d", tc, i, v, v/scale, dst[i], want)
			}
		}
	}
}

func TestIm2colRowsU8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 8))
	for _, g := range []ConvGeom{
		{N: 2, H: 9, W: 11, C: 3, KH: 3, KW: 3, SH: 2, SW: 2, PadTop: 0, PadLeft: 0, OH: 5, OW: 6},
		{N: 1, H: 7, W: 8, C: 5, KH: 3, KW: 3, SH: 1, SW: 1, PadTop: 1, PadLeft: 1, OH: 7, OW: 8},
		{N: 1, H: 10, W: 9, C: 2, KH: 3, KW: 5, SH: 1, SW: 2, DH: 2, DW: 2, PadTop: 2, PadLeft: 3, OH: 8, OW: 4},
		{N: 1, H: 6, W: 40, C: 16, KH: 1, KW: 7, SH: 1, SW: 3, PadTop: 0, PadLeft: 3, OH: 6, OW: 14},
	} {
		x := make([]byte, g.N*g.H*g.W*g.C)
		for i := range x {
			x[i] = byte(r.IntN(256))
		}
		rowLen := g.KH * g.KW * g.C
		m := g.N * g.OH * g.OW
		want := make([]byte, m*rowLen)
		gn := g.norm()
		for p := 0; p < m; p++ {
			b, oy, ox := p/(g.OH*g.OW), p/g.OW%g.OH, p%g.OW
			for ky := 0; ky < g.KH; ky++ {
				for kx := 0; kx < g.KW; kx++ {
					iy, ix := oy*g.SH-g.PadTop+ky*gn.DH, ox*g.SW-g.PadLeft+kx*gn.DW
					for ch := 0; ch < g.C; ch++ {
						v := byte(201)
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							v = x[((b*g.H+iy)*g.W+ix)*g.C+ch]
						}
						want[p*rowLen+(ky*g.KW+kx)*g.C+ch] = v
					}
				}
			}
		}
		// Whole, and in chunks that start and end mid-row.
		for _, chunk := range []int{m, 7, 1} {
			got := make([]byte, m*rowLen)
			for lo := 0; lo < m; lo += chunk {
				hi := min(lo+chunk, m)
				g.Im2colRowsU8(got[lo*rowLen:hi*rowLen], x, lo, hi, 201)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%+v chunk %d: byte %d (pixel %d) = %d, want %d", g, chunk, i, i/rowLen, got[i], want[i])
				}
			}
		}
	}
}

func TestAddMaxU8(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 5, 16, 33, 100} {
		x := make([]byte, n)
		acc := make([]int32, n)
		for i := range x {
			x[i], acc[i] = byte(r.IntN(256)), int32(r.IntN(600))-100
		}
		sum, mx := append([]int32(nil), acc...), append([]int32(nil), acc...)
		AddU8(sum, x)
		MaxU8(mx, x)
		for i := range x {
			if sum[i] != acc[i]+int32(x[i]) || mx[i] != max(acc[i], int32(x[i])) {
				t.Fatalf("n=%d [%d]: sum %d max %d from %d and %d", n, i, sum[i], mx[i], acc[i], x[i])
			}
		}
	}
}

func TestDwQBytes3(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 3))
	for _, c := range []int{16, 32, 144, 20} {
		for _, n := range []int{1, 4, 7, 13, 8, 21} {
			for _, kh := range []int{1, 3} {
				rowstride := (n + 5) * c
				x := make([]byte, (kh-1)*rowstride+(n+2)*c)
				for i := range x {
					x[i] = byte(r.IntN(256))
				}
				w := make([]int32, 3*kh*c)
				for i := range w {
					w[i] = DwWeightQ(int32(r.IntN(511) - 255))
				}
				q := QRequant{Bias: make([]int32, c), Scale: make([]float32, c), Lo: -30, Hi: 120, ZP: 128}
				for i := range q.Bias {
					q.Bias[i] = int32(r.IntN(40001) - 20000)
					q.Scale[i] = 0.004 * r.Float32()
				}
				offs := []int{}
				for ky := 0; ky < kh; ky++ {
					offs = append(offs, ky*rowstride, ky*rowstride+c, ky*rowstride+2*c)
				}
				got, want := make([]byte, n*c), make([]byte, n*c)
				DwQBytes3(got, x, rowstride, w, n, c, kh, &q)
				DwQBytes(want, c, x, c, offs, w, n, c, &q)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("c=%d n=%d kh=%d: byte %d = %d, want %d", c, n, kh, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkDwQBytes is MobileNetV2's 56x56x144 3x3 depthwise layer on
// bytes, interior pixels only, by DwQBytes and by DwQBytes3.
func BenchmarkDwQBytes(b *testing.B) {
	const h, w, c = 56, 56, 144
	x := make([]byte, (h+2)*(w+2)*c)
	wt := make([]int32, 9*c)
	offs := make([]int, 0, 9)
	for ky := 0; ky < 3; ky++ {
		for kx := 0; kx < 3; kx++ {
			offs = append(offs, (ky*(w+2)+kx)*c)
		}
	}
	q := QRequant{Bias: make([]int32, c), Scale: make([]float32, c), Lo: 0, Hi: 100, ZP: 3}
	dst := make([]byte, h*w*c)
	for _, three := range []bool{false, true} {
		b.Run(map[bool]string{false: "taps", true: "3x3"}[three], func(b *testing.B) {
			for range b.N {
				for r := 0; r < h; r++ {
					if three {
						DwQBytes3(dst[r*w*c:], x[r*(w+2)*c:], (w+2)*c, wt, w, c, 3, &q)
					} else {
						DwQBytes(dst[r*w*c:], c, x[r*(w+2)*c:], c, offs, wt, w, c, &q)
					}
				}
			}
			b.ReportMetric(float64(h*w*c*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
