package annotate

import (
	"cmp"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
)

// Dominant colours: the image is sampled on a grid of at most
// colorSamples x colorSamples pixels and the samples are clustered in RGB
// with k-means (k-means++ seeding from a fixed seed, so the same image
// always gives the same colours).
const (
	colorSamples = 96
	colorSeed    = 1
	kmeansIters  = 30
	maxColors    = 16
)

// dominantColors returns up to k colours, most frequent first.
func dominantColors(img image.Image, k int) []ColorInfo {
	px := samplePixels(img, colorSamples)
	k = min(k, maxColors, len(px))
	if k <= 0 {
		return nil
	}
	centers := kmeansPlusPlus(px, k, nn.NewRNG(colorSeed).Float64)
	assign := make([]int, len(px))
	for it := 0; it < kmeansIters; it++ {
		changed := false
		for i, p := range px {
			if c := nearest(centers, p); c != assign[i] {
				changed = true
				assign[i] = c
			}
		}
		sum := make([][4]float64, len(centers)) // r, g, b, count
		for i, p := range px {
			s := &sum[assign[i]]
			s[0] += p[0]
			s[1] += p[1]
			s[2] += p[2]
			s[3]++
		}
		for c := range centers {
			if n := sum[c][3]; n > 0 {
				centers[c] = [3]float64{sum[c][0] / n, sum[c][1] / n, sum[c][2] / n}
			}
		}
		if !changed && it > 0 {
			break
		}
	}
	counts := make([]int, len(centers))
	for _, a := range assign {
		counts[a]++
	}
	var out []ColorInfo
	for c, n := range counts {
		if n == 0 {
			continue
		}
		f := float64(n) / float64(len(px))
		out = append(out, ColorInfo{
			Color:         Color{math.Round(centers[c][0]), math.Round(centers[c][1]), math.Round(centers[c][2])},
			Score:         f,
			PixelFraction: f,
		})
	}
	slices.SortStableFunc(out, func(a, b ColorInfo) int { return cmp.Compare(b.PixelFraction, a.PixelFraction) })
	return out
}

// samplePixels takes the pixel nearest to each point of an n x n grid
// (fewer when the image is smaller), as un-premultiplied RGB.
func samplePixels(img image.Image, n int) [][3]float64 {
	b := img.Bounds()
	w, h := min(b.Dx(), n), min(b.Dy(), n)
	out := make([][3]float64, 0, w*h)
	for j := range h {
		y := b.Min.Y + (2*j+1)*b.Dy()/(2*h)
		for i := range w {
			x := b.Min.X + (2*i+1)*b.Dx()/(2*w)
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out = append(out, [3]float64{float64(c.R), float64(c.G), float64(c.B)})
		}
	}
	return out
}

// kmeansPlusPlus picks up to k starting centres: the first at random,
// each next one with probability proportional to its squared distance
// from the nearest centre so far. It stops early when every sample
// coincides with a centre (fewer distinct colours than k).
func kmeansPlusPlus(px [][3]float64, k int, rnd func() float64) [][3]float64 {
	centers := [][3]float64{px[int(rnd()*float64(len(px)))%len(px)]}
	d := make([]float64, len(px))
	for len(centers) < k {
		var total float64
		for i, p := range px {
			d[i] = dist2(p, centers[nearest(centers, p)])
			total += d[i]
		}
		if total == 0 {
			break
		}
		r := rnd() * total
		pick := len(px) - 1
		for i, v := range d {
			if r < v {
				pick = i
				break
			}
			r -= v
		}
		centers = append(centers, px[pick])
	}
	return centers
}

func nearest(centers [][3]float64, p [3]float64) int {
	best, bd := 0, math.Inf(1)
	for c, q := range centers {
		if v := dist2(p, q); v < bd {
			best, bd = c, v
		}
	}
	return best
}

func dist2(a, b [3]float64) float64 {
	dr, dg, db := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dr*dr + dg*dg + db*db
}

// Properties is IMAGE_PROPERTIES: up to k dominant colours of img.
func Properties(img image.Image, k int) *ImagePropertiesAnnotation {
	return &ImagePropertiesAnnotation{DominantColors{dominantColors(img, k)}}
}
