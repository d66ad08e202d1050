package annotate

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/dlcv-go/dlcv/internal/imagefile"
	"golang.org/x/image/draw"
)

// The match thresholds on real edits of a photo: a re-encoded or resized
// copy is a full match, a crop a partial one, another photo neither.
func TestMatchThresholds(t *testing.T) {
	e := sharedEmbedder(t)
	grace := sharedPhoto(t, "grace_hopper")
	ref, err := e.Embed(grace)
	if err != nil {
		t.Fatal(err)
	}
	sim := func(img image.Image) float64 {
		v, err := e.Embed(img)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i := range v {
			s += float64(v[i] * ref[i])
		}
		return s
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, grace, &jpeg.Options{Quality: 60})
	reencoded, _ := imagefile.Decode(context.Background(), buf.Bytes(), imagefile.Limits{})
	small := image.NewRGBA(image.Rect(0, 0, 256, 300))
	draw.ApproxBiLinear.Scale(small, small.Bounds(), grace, grace.Bounds(), draw.Src, nil)
	crop := image.NewRGBA(image.Rect(0, 0, 400, 420))
	draw.Draw(crop, crop.Bounds(), grace, image.Pt(60, 60), draw.Src)
	for _, c := range []struct {
		name string
		img  image.Image
		lo   float64
		hi   float64
	}{
		{"JPEG quality 60", reencoded, FullMatchSimilarity, 1.0001},
		{"resized to half", small, FullMatchSimilarity, 1.0001},
		{"cropped (400x420 of 512x600)", crop, PartialMatchSimilarity, FullMatchSimilarity},
		{"cat.bmp", sharedPhoto(t, "cat"), -1, PartialMatchSimilarity},
	} {
		s := sim(c.img)
		t.Logf("%s: similarity %.3f", c.name, s)
		if s < c.lo || s >= c.hi {
			t.Errorf("%s: similarity %.3f, want in [%.2f, %.2f)", c.name, s, c.lo, c.hi)
		}
	}
}
