package annotate

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/detect"
)

// BlazeFace on the shared photos: grace_hopper.bmp has exactly one face,
// level, with its six landmarks inside the head box and the eyes, nose
// and mouth inside the face box, left eye left of the right one; the
// cat and the bird have none. The emotion model fills the four
// expression likelihoods.
func TestBlazeFaceOnSharedPhotos(t *testing.T) {
	b, e := sharedFaceModels(t)
	f := &Faces{BlazeFace: b, Emotion: e}
	want := map[string]int{"cat": 0, "bird": 0, "grace_hopper": 1}
	for _, name := range photoNames {
		fs, err := f.Detect(context.Background(), sharedPhoto(t, name), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != want[name] {
			t.Errorf("%s: %d faces, want %d: %+v", name, len(fs), want[name], fs)
		}
		for _, fa := range fs {
			t.Logf("%s: %+v", name, fa)
			head, face := polyRect(fa.BoundingPoly), polyRect(fa.FdBoundingPoly)
			if !face.In(head) || fa.DetectionConfidence < BlazeFaceMinScore {
				t.Errorf("%s: face box %v not in head box %v, or confidence %.3f", name, face, head, fa.DetectionConfidence)
			}
			if len(fa.Landmarks) != 6 {
				t.Fatalf("%s: %d landmarks", name, len(fa.Landmarks))
			}
			for i, l := range fa.Landmarks {
				p := image.Pt(int(l.Position.X), int(l.Position.Y))
				if !p.In(head) || (i < 4 && !p.In(face)) {
					t.Errorf("%s: landmark %s at %v outside the box %v (face %v)", name, l.Type, p, head, face)
				}
			}
			if fa.Landmarks[0].Position.X >= fa.Landmarks[1].Position.X || math.Abs(fa.RollAngle) > 5 {
				t.Errorf("%s: left eye %v, right eye %v, roll %.1f", name, fa.Landmarks[0].Position, fa.Landmarks[1].Position, fa.RollAngle)
			}
			if len(fa.Emotions) != 7 || fa.JoyLikelihood == Unknown || fa.AngerLikelihood == Unknown ||
				fa.SorrowLikelihood == Unknown || fa.SurpriseLikelihood == Unknown {
				t.Errorf("%s: expressions missing: %+v", name, fa)
			}
			sum := 0.0
			for _, p := range fa.Emotions {
				sum += p
			}
			if math.Abs(sum-1) > 1e-3 {
				t.Errorf("%s: emotion probabilities sum to %v", name, sum)
			}
		}
	}
}

// The Haar cascade stays available, and BlazeFace is at least as good
// on the shared photos: the cascade also finds Grace Hopper's face (the
// two boxes overlap) and nothing else that BlazeFace misses.
func TestHaarFacesAndComparison(t *testing.T) {
	b, _ := sharedFaceModels(t)
	haar := &Faces{Detector: DetectorHaar, Cascade: sharedCascade(t)}
	bf := &Faces{BlazeFace: b}
	for _, name := range photoNames {
		img := sharedPhoto(t, name)
		h, err := haar.Detect(context.Background(), img, 10)
		if err != nil {
			t.Fatal(err)
		}
		g, err := bf.Detect(context.Background(), img, 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: haar %d faces, blazeface %d", name, len(h), len(g))
		if len(g) < len(h) {
			t.Errorf("%s: BlazeFace finds %d faces, Haar %d", name, len(g), len(h))
		}
		for _, fa := range h {
			if fa.JoyLikelihood != Unknown || fa.Landmarks != nil || fa.FdBoundingPoly.Vertices == nil {
				t.Errorf("%s: Haar face %+v", name, fa)
			}
		}
		if name == "grace_hopper" && len(h) > 0 && len(g) > 0 {
			var a, c [4]float64
			hr, gr := polyRect(h[0].FdBoundingPoly), polyRect(g[0].FdBoundingPoly)
			a = [4]float64{float64(hr.Min.X), float64(hr.Min.Y), float64(hr.Max.X), float64(hr.Max.Y)}
			c = [4]float64{float64(gr.Min.X), float64(gr.Min.Y), float64(gr.Max.X), float64(gr.Max.Y)}
			if boxIoU(a, c) < 0.5 {
				t.Errorf("Haar box %v and BlazeFace box %v disagree", hr, gr)
			}
		}
	}
}

func TestFacesMissingModel(t *testing.T) {
	_, err := (&Faces{}).Detect(context.Background(), image.NewRGBA(image.Rect(0, 0, 8, 8)), 1)
	if err == nil {
		t.Fatal("no error without a detector")
	}
	var mm *MissingModelError
	if _, err := (&Faces{Detector: DetectorBlazeFace}).Detect(context.Background(), image.NewRGBA(image.Rect(0, 0, 8, 8)), 1); !errors.As(err, &mm) || mm.Model != BlazeFaceModel {
		t.Errorf("BlazeFace without its model: %v", err)
	}
	if _, err := (&Faces{Detector: "dlib"}).Detect(context.Background(), image.NewRGBA(image.Rect(0, 0, 8, 8)), 1); err == nil {
		t.Error("unknown detector accepted")
	}
}

func TestFaceDetectionLargeImageIsDownscaled(t *testing.T) {
	cascade := sharedCascade(t)
	grace := sharedPhoto(t, "grace_hopper")
	// Blow the photo up 3x (1551x1818): boxes must come back in its
	// coordinates, about 3x the ones found on the original.
	b := grace.Bounds()
	big := image.NewRGBA(image.Rect(0, 0, 3*b.Dx(), 3*b.Dy()))
	for y := range big.Bounds().Dy() {
		for x := range big.Bounds().Dx() {
			big.Set(x, y, grace.At(x/3, y/3))
		}
	}
	small, err := haarFaces(grace, cascade, detect.Options{}, 10)
	if err != nil || len(small) != 1 {
		t.Fatalf("original: %v %+v", err, small)
	}
	large, err := haarFaces(big, cascade, detect.Options{}, 10)
	if err != nil || len(large) == 0 {
		t.Fatalf("3x: %v %+v", err, large)
	}
	for i, v := range large[0].BoundingPoly.Vertices {
		w := small[0].BoundingPoly.Vertices[i]
		if math.Abs(float64(v.X-3*w.X)) > 30 || math.Abs(float64(v.Y-3*w.Y)) > 30 {
			t.Fatalf("3x box %+v, original %+v", large[0].BoundingPoly.Vertices, small[0].BoundingPoly.Vertices)
		}
	}
}

// The models serve concurrent callers (a session each from the pool):
// the same answers as one at a time.
func TestConcurrentDetect(t *testing.T) {
	b, e := sharedFaceModels(t)
	f := &Faces{BlazeFace: b, Emotion: e}
	s := sharedSafeSearch(t)
	img := sharedPhoto(t, "grace_hopper")
	want, err := f.Detect(context.Background(), img, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantSafe, _ := s.Detect(context.Background(), img)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := f.Detect(context.Background(), img, 10)
			if err == nil && (len(got) != len(want) || got[0].DetectionConfidence != want[0].DetectionConfidence || got[0].Emotions["fear"] != want[0].Emotions["fear"]) {
				err = fmt.Errorf("concurrent faces %+v, alone %+v", got, want)
			}
			if err == nil {
				var ss *SafeSearchAnnotation
				if ss, err = s.Detect(context.Background(), img); err == nil && ss.ClassScores["Neutral"] != wantSafe.ClassScores["Neutral"] {
					err = fmt.Errorf("concurrent safe search %v, alone %v", ss.ClassScores, wantSafe.ClassScores)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
