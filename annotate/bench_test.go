package annotate

import (
	"context"
	"image"
	"testing"

	"golang.org/x/image/draw"
)

// photo640 is grace_hopper.bmp stretched to 640x480, the issue's
// latency photo.
func photo640(b *testing.B) image.Image {
	src := sharedPhoto(b, "grace_hopper")
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

func BenchmarkObjects640(b *testing.B) {
	d, img := sharedObjects(b), photo640(b)
	for b.Loop() {
		if _, err := d.Detect(context.Background(), img, 10, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSafeSearch640(b *testing.B) {
	s, img := sharedSafeSearch(b), photo640(b)
	for b.Loop() {
		if _, err := s.Detect(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// Faces: BlazeFace and the emotion model on each face found.
func BenchmarkFaces640(b *testing.B) {
	bf, e := sharedFaceModels(b)
	f, img := &Faces{BlazeFace: bf, Emotion: e}, photo640(b)
	for b.Loop() {
		fs, err := f.Detect(context.Background(), img, 10)
		if err != nil || len(fs) != 1 {
			b.Fatal(err, len(fs))
		}
	}
}
