package detect

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// benchPhoto is grace_hopper.bmp centred on a 640x480 gray canvas (the
// same construction as bench/detect/opencv_detect.py).
func benchPhoto(b *testing.B) image.Image {
	src, err := ReadImage(testutil.SharedFile(b, "models/coral/grace_hopper.bmp"))
	if err != nil {
		b.Fatal(err)
	}
	return pad640(src)
}

// pad640 crops or pads an image, centred, to 640x480 on gray 128.
func pad640(src image.Image) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	sb := src.Bounds()
	dx, dy := (640-sb.Dx())/2, (480-sb.Dy())/2
	r := sb.Add(image.Pt(dx, dy).Sub(sb.Min)).Intersect(dst.Bounds())
	draw.Draw(dst, r, src, r.Min.Sub(image.Pt(dx, dy)).Add(sb.Min), draw.Src)
	return dst
}

func benchDetect(b *testing.B, workers int) {
	c, err := LoadCascade(testutil.SharedFile(b, "models/haarcascades/haarcascade_frontalface_default.xml"))
	if err != nil {
		b.Fatal(err)
	}
	img := benchPhoto(b)
	b.ResetTimer()
	for b.Loop() {
		faces, err := c.Detect(img, Options{Workers: workers})
		if err != nil || len(faces) != 1 {
			b.Fatalf("faces %v err %v", faces, err)
		}
	}
}

// BenchmarkDetect640 runs the frontal face cascade on a 640x480 photo with
// OpenCV's default parameters (scale 1.1, 3 neighbours, no minimum size).
func BenchmarkDetect640(b *testing.B)       { benchDetect(b, 0) }
func BenchmarkDetect640Serial(b *testing.B) { benchDetect(b, 1) }
