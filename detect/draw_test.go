package detect

import (
	"image"
	"image/color"
	"testing"
)

func TestDrawBox(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 20))
	red := color.RGBA{255, 0, 0, 255}
	DrawBox(img, image.Rect(2, 3, 12, 15), red, 2)
	for y := 0; y < 20; y++ {
		for x := 0; x < 20; x++ {
			in := x >= 2 && x < 12 && y >= 3 && y < 15
			inner := x >= 4 && x < 10 && y >= 5 && y < 13
			if got := img.RGBAAt(x, y) == red; got != (in && !inner) {
				t.Fatalf("pixel (%d,%d) red=%v", x, y, got)
			}
		}
	}
	// Boxes partly or wholly outside are clipped, not a panic.
	DrawBox(img, image.Rect(-5, -5, 30, 8), red, 3)
	DrawBox(img, image.Rect(100, 100, 130, 130), red, 1)
}

func TestDrawLabel(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 60, 30))
	white, black := color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}
	r := DrawLabel(img, image.Pt(50, 25), "face 1", white, black)
	if !r.In(img.Rect) || r.Dx() < 6*7 || r.Dy() < 13 {
		t.Fatalf("label box %v", r)
	}
	var fg, bg int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			switch img.RGBAAt(x, y) {
			case white:
				fg++
			case black:
				bg++
			}
		}
	}
	if fg < 20 || bg < fg {
		t.Errorf("text pixels %d, background %d", fg, bg)
	}
}
