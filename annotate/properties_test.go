package annotate

import (
	"fmt"
	"image"
	"math"
	"testing"
)

// twoColors is a w x h image, the left frac red and the rest blue.
func twoColors(w, h int, frac float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			if float64(x) < frac*float64(w) {
				img.Pix[i], img.Pix[i+3] = 255, 255
			} else {
				img.Pix[i+2], img.Pix[i+3] = 255, 255
			}
		}
	}
	return img
}

func TestDominantColorsDeterministic(t *testing.T) {
	// A smooth gradient has many colours: k-means must give k clusters
	// whose fractions sum to 1, the same ones on every call.
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/299), uint8(y*255/199), 128, 255
		}
	}
	a, b := dominantColors(img, 6), dominantColors(img, 6)
	if len(a) != 6 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("not deterministic or wrong count:\n%v\n%v", a, b)
	}
	var sum float64
	for i, c := range a {
		sum += c.PixelFraction
		if i > 0 && c.PixelFraction > a[i-1].PixelFraction || c.Color.Blue < 120 || c.Color.Blue > 136 {
			t.Fatalf("colours %+v", a)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("fractions sum to %v", sum)
	}
	// A one-colour image has one colour, whatever k is.
	if c := dominantColors(twoColors(10, 10, 1), 10); len(c) != 1 || c[0].PixelFraction != 1 {
		t.Fatalf("solid image: %+v", c)
	}
}

func TestLikelihoodThresholds(t *testing.T) {
	for p, want := range map[float64]string{0: "VERY_UNLIKELY", 0.19: "VERY_UNLIKELY", 0.2: "UNLIKELY", 0.39: "UNLIKELY",
		0.4: "POSSIBLE", 0.59: "POSSIBLE", 0.6: "LIKELY", 0.79: "LIKELY", 0.8: "VERY_LIKELY", 1: "VERY_LIKELY"} {
		if got := Likelihood(p); got != want {
			t.Errorf("Likelihood(%v) = %s, want %s", p, got, want)
		}
	}
}
