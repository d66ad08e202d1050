package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// geoms covers stride 1 and 2, dilation 2 and 3, asymmetric padding, odd
// sizes and 1x1 taps.
func geoms() []ConvGeom {
	out := func(in, k, s, d, lo, hi int) int { return (in+lo+hi-(k-1)*d-1)/s + 1 }
	var g []ConvGeom
	for _, p := range []struct{ n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr int }{
		{1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},
		{2, 7, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{2, 7, 5, 3, 3, 2, 2, 2, 1, 1, 0, 1, 1, 0},
		{3, 6, 9, 2, 5, 5, 2, 1, 1, 1, 2, 2, 2, 2},
		{1, 4, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
		{2, 8, 8, 3, 3, 3, 3, 2, 1, 1, 1, 0, 0, 2},
		{1, 3, 3, 2, 4, 4, 1, 1, 1, 1, 2, 1, 2, 1},
		// Kernel rows longer than smallSpan (the memmove path).
		{2, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{1, 7, 9, 20, 5, 5, 2, 1, 1, 1, 2, 2, 2, 2},
		// LeNet's first layer: 5x5 "same" on one channel.
		{2, 12, 11, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
		// Dilation: narrow rows, wide rows, per axis, with stride 2 and
		// asymmetric padding.
		{2, 9, 11, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
		{1, 11, 9, 3, 3, 3, 2, 2, 2, 2, 1, 2, 2, 1},
		{2, 10, 13, 20, 3, 3, 1, 2, 2, 3, 0, 3, 3, 0},
		{1, 9, 9, 5, 3, 2, 1, 1, 3, 1, 3, 3, 0, 1},
		{1, 9, 9, 4, 2, 3, 2, 1, 1, 2, 0, 0, 2, 2},
		{1, 5, 5, 2, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3}, // taps straddle the whole image
	} {
		g = append(g, ConvGeom{N: p.n, H: p.h, W: p.w, C: p.c, KH: p.kh, KW: p.kw, SH: p.sh, SW: p.sw, DH: p.dh, DW: p.dw,
			PadTop: p.pt, PadLeft: p.pl, OH: out(p.h, p.kh, p.sh, p.dh, p.pt, p.pb), OW: out(p.w, p.kw, p.sw, p.dw, p.pl, p.pr)})
	}
	return g
}

// refIndex returns the src index read by col element (row, col), or -1 for padding.
func refIndex(g ConvGeom, b, oy, ox, ky, kx, ch int) int {
	iy, ix := oy*g.SH-g.PadTop+ky*g.DH, ox*g.SW-g.PadLeft+kx*g.DW
	if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
		return -1
	}
	return ((b*g.H+iy)*g.W+ix)*g.C + ch
}

func forEachCol(g ConvGeom, f func(d, s int)) {
	d := 0
	for b := 0; b < g.N; b++ {
		for oy := 0; oy < g.OH; oy++ {
			for ox := 0; ox < g.OW; ox++ {
				for ky := 0; ky < g.KH; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						for ch := 0; ch < g.C; ch++ {
							f(d, refIndex(g, b, oy, ox, ky, kx, ch))
							d++
						}
					}
				}
			}
		}
	}
}

func colLen(g ConvGeom) int { return g.N * g.OH * g.OW * g.KH * g.KW * g.C }

func TestIm2colMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range geoms() {
		src := make([]float32, g.N*g.H*g.W*g.C)
		for i := range src {
			src[i] = rng.Float32() + 1 // never zero, so padding zeros are visible
		}
		want := make([]float32, colLen(g))
		forEachCol(g, func(d, s int) {
			if s >= 0 {
				want[d] = src[s]
			}
		})
		fresh := func() []float32 {
			dst := make([]float32, len(want))
			for i := range dst {
				dst[i] = -99 // every value must be overwritten
			}
			return dst
		}
		check := func(what string, got, want []float32) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %+v: col[%d] = %v, want %v", what, g, i, got[i], want[i])
				}
			}
		}
		dst := fresh()
		g.Im2col(dst, src)
		check("Im2col", dst, want)
		if g.DH == 1 && g.DW == 1 {
			dst = fresh()
			Im2col(dst, src, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OH, g.OW)
			check("positional Im2col", dst, want)
		}
		// In chunks of pixels that straddle rows and images.
		k := g.KH * g.KW * g.C
		pixels := g.N * g.OH * g.OW
		for _, chunk := range []int{1, 7, pixels} {
			dst = fresh()
			for lo := 0; lo < pixels; lo += chunk {
				hi := min(lo+chunk, pixels)
				g.Im2colRows(dst[lo*k:hi*k], src, lo, hi)
			}
			check(fmt.Sprintf("Im2colRows chunk %d", chunk), dst, want)
		}
	}
}

func TestCol2imMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range geoms() {
		col := make([]float32, colLen(g))
		for i := range col {
			col[i] = rng.Float32()
		}
		want := make([]float64, g.N*g.H*g.W*g.C)
		for i := range want {
			want[i] = 0.5 // accumulates onto existing values
		}
		forEachCol(g, func(d, s int) {
			if s >= 0 {
				want[s] += float64(col[d])
			}
		})
		run := func(what string, f func(img []float32)) {
			img := make([]float32, len(want))
			for i := range img {
				img[i] = 0.5
			}
			f(img)
			for i := range img {
				if d := float64(img[i]) - want[i]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%s %+v: img[%d] = %v, want %v", what, g, i, img[i], want[i])
				}
			}
		}
		run("Col2im", func(img []float32) { g.Col2im(img, col) })
		if g.DH == 1 && g.DW == 1 {
			run("positional Col2im", func(img []float32) {
				Col2im(img, col, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OH, g.OW)
			})
		}
	}
}

func BenchmarkIm2colLeNetConv2(b *testing.B) {
	// 14x14x20 input, 5x5 kernel, same padding, batch 32.
	n, h, w, c := 32, 14, 14, 20
	src := make([]float32, n*h*w*c)
	dst := make([]float32, n*h*w*25*c)
	b.SetBytes(int64(len(dst) * 4))
	for b.Loop() {
		Im2col(dst, src, n, h, w, c, 5, 5, 1, 1, 2, 2, h, w)
	}
}

// BenchmarkIm2colNarrow is LeNet's first layer (5x5 on one channel).
func BenchmarkIm2colNarrow(b *testing.B) {
	n, h, w := 32, 28, 28
	src := make([]float32, n*h*w)
	dst := make([]float32, n*h*w*25)
	b.SetBytes(int64(len(dst) * 4))
	for b.Loop() {
		Im2col(dst, src, n, h, w, 1, 5, 5, 1, 1, 2, 2, h, w)
	}
}

// TestCopySmall covers every length copySmall's overlapping moves split
// differently, and checks that nothing past dst is written.
func TestCopySmall(t *testing.T) {
	for n := 0; n <= 40; n++ {
		src := make([]float32, n+1)
		for i := range src {
			src[i] = float32(i + 1)
		}
		buf := make([]float32, n+1)
		buf[n] = -1
		copySmall(buf[:n], src)
		for i := range n {
			if buf[i] != src[i] {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, buf[i], src[i])
			}
		}
		if buf[n] != -1 {
			t.Fatalf("n=%d: wrote past dst", n)
		}
	}
}

// CopyRows against copy, every tail length, strided both ways, and
// nothing written between the rows.
func TestCopyRows(t *testing.T) {
	for span := 1; span <= 40; span++ {
		for _, n := range []int{1, 2, 5} {
			ss, ds := 1+span%3, span+span%5 // overlapping source rows
			src := make([]float32, (n-1)*ss+span)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, (n-1)*ds+span+1)
			for i := range dst {
				dst[i] = -1
			}
			CopyRows(dst, ds, src, ss, n, span)
			for i := range dst {
				r, k := i/ds, i%ds
				want := float32(-1)
				if r < n && k < span {
					want = src[r*ss+k]
				}
				if dst[i] != want {
					t.Fatalf("span %d n %d: dst[%d] = %v, want %v", span, n, i, dst[i], want)
				}
			}
		}
	}
}
