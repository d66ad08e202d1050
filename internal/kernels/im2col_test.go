package kernels

import (
	"math/rand/v2"
	"testing"
)

type convGeom struct {
	n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow int
}

// geoms covers stride 1 and 2, asymmetric padding, odd sizes and 1x1 taps.
func geoms() []convGeom {
	out := func(in, k, s, lo, hi int) int { return (in+lo+hi-k)/s + 1 }
	var g []convGeom
	for _, p := range []struct{ n, h, w, c, kh, kw, sh, sw, pt, pb, pl, pr int }{
		{1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 0, 0},
		{2, 7, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1},
		{2, 7, 5, 3, 3, 2, 2, 2, 0, 1, 1, 0},
		{3, 6, 9, 2, 5, 5, 2, 1, 2, 2, 2, 2},
		{1, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0},
		{2, 8, 8, 3, 3, 3, 3, 2, 1, 0, 0, 2},
		{1, 3, 3, 2, 4, 4, 1, 1, 2, 1, 2, 1},
		// Kernel rows longer than smallSpan (the memmove path).
		{2, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1},
		{1, 7, 9, 20, 5, 5, 2, 1, 2, 2, 2, 2},
		// LeNet's first layer: 5x5 "same" on one channel.
		{2, 12, 11, 1, 5, 5, 1, 1, 2, 2, 2, 2},
	} {
		g = append(g, convGeom{p.n, p.h, p.w, p.c, p.kh, p.kw, p.sh, p.sw, p.pt, p.pl,
			out(p.h, p.kh, p.sh, p.pt, p.pb), out(p.w, p.kw, p.sw, p.pl, p.pr)})
	}
	return g
}

// refIndex returns the src index read by col element (row, col), or -1 for padding.
func refIndex(g convGeom, b, oy, ox, ky, kx, ch int) int {
	iy, ix := oy*g.sh-g.pt+ky, ox*g.sw-g.pl+kx
	if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
		return -1
	}
	return ((b*g.h+iy)*g.w+ix)*g.c + ch
}

func forEachCol(g convGeom, f func(d, s int)) {
	d := 0
	for b := 0; b < g.n; b++ {
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				for ky := 0; ky < g.kh; ky++ {
					for kx := 0; kx < g.kw; kx++ {
						for ch := 0; ch < g.c; ch++ {
							f(d, refIndex(g, b, oy, ox, ky, kx, ch))
							d++
						}
					}
				}
			}
		}
	}
}

func TestIm2colMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range geoms() {
		src := make([]float32, g.n*g.h*g.w*g.c)
		for i := range src {
			src[i] = rng.Float32() + 1 // never zero, so padding zeros are visible
		}
		dst := make([]float32, g.n*g.oh*g.ow*g.kh*g.kw*g.c)
		for i := range dst {
			dst[i] = -99 // Im2col must overwrite every value
		}
		Im2col(dst, src, g.n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow)
		forEachCol(g, func(d, s int) {
			want := float32(0)
			if s >= 0 {
				want = src[s]
			}
			if dst[d] != want {
				t.Fatalf("%+v: col[%d] = %v, want %v", g, d, dst[d], want)
			}
		})
	}
}

func TestCol2imMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range geoms() {
		col := make([]float32, g.n*g.oh*g.ow*g.kh*g.kw*g.c)
		for i := range col {
			col[i] = rng.Float32()
		}
		img := make([]float32, g.n*g.h*g.w*g.c)
		want := make([]float64, len(img))
		for i := range img {
			img[i] = 0.5 // accumulates onto existing values
			want[i] = 0.5
		}
		forEachCol(g, func(d, s int) {
			if s >= 0 {
				want[s] += float64(col[d])
			}
		})
		Col2im(img, col, g.n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow)
		for i := range img {
			if d := float64(img[i]) - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%+v: img[%d] = %v, want %v", g, i, img[i], want[i])
			}
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
