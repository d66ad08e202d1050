package annotate

import (
	"context"
	"math"
	"testing"
)

// Objects against TensorFlow.js running the same CenterNet file with the
// same resize and NMS: the same labels, scores and normalised boxes
// within 0.01 (issue 13's bound).
func TestObjectsMatchTFJS(t *testing.T) {
	d := sharedObjects(t)
	r := readRefs(t)
	for _, name := range photoNames {
		ref := r.Photos[name]
		got, err := d.Detect(context.Background(), sharedPhoto(t, name), ObjectMaxResults, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", name, got)
		if len(got) != len(ref.Objects) {
			t.Errorf("%s: %d objects, TF.js %d", name, len(got), len(ref.Objects))
			continue
		}
		for i, o := range got {
			w := ref.Objects[i]
			if o.Name != COCOClasses[w.Class] || math.Abs(o.Score-w.Score) > 0.01 {
				t.Errorf("%s: object %d is %s %.4f, TF.js %s %.4f", name, i, o.Name, o.Score, COCOClasses[w.Class], w.Score)
			}
			v := o.BoundingPoly.NormalizedVertices
			box := [4]float64{v[0].X, v[0].Y, v[2].X, v[2].Y}
			for k := range 4 {
				// TF.js's boxes are not clamped to the image; ours are.
				if math.Abs(box[k]-clamp01(w.Box[k])) > 0.01 {
					t.Errorf("%s: object %d box %v, TF.js %v", name, i, box, w.Box)
					break
				}
			}
		}
	}
}

// The numbers: cat.bmp gives only a bed (the model misses the
// cat), bird.bmp a bird, grace_hopper.bmp a person and a tie.
func TestObjectsOnSharedPhotos(t *testing.T) {
	d := sharedObjects(t)
	want := map[string][]struct {
		name  string
		score float64
	}{
		"cat":          {{"bed", 0.37}},
		"bird":         {{"bird", 0.55}},
		"grace_hopper": {{"person", 0.71}, {"tie", 0.26}},
	}
	for _, name := range photoNames {
		got, err := d.Detect(context.Background(), sharedPhoto(t, name), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want[name]) {
			t.Fatalf("%s: %+v, want %v", name, got, want[name])
		}
		for i, w := range want[name] {
			if got[i].Name != w.name || math.Abs(got[i].Score-w.score) > 0.01 {
				t.Errorf("%s: object %d is %s %.3f, want %s %.2f", name, i, got[i].Name, got[i].Score, w.name, w.score)
			}
		}
	}
	// A higher minimum score drops the tie; maxResults 1 keeps the person.
	got, _ := d.Detect(context.Background(), sharedPhoto(t, "grace_hopper"), 10, 0.5)
	if len(got) != 1 || got[0].Name != "person" {
		t.Errorf("min score 0.5: %+v, want the person only", got)
	}
	got, _ = d.Detect(context.Background(), sharedPhoto(t, "grace_hopper"), 1, 0)
	if len(got) != 1 || got[0].Name != "person" {
		t.Errorf("k=1: %+v, want the person only", got)
	}
}

func TestNMS(t *testing.T) {
	dets := []detection{
		{box: [4]float64{0, 0, 10, 10}, score: 0.5, class: 1},
		{box: [4]float64{1, 1, 11, 11}, score: 0.9, class: 2}, // overlaps the first: IoU 81/119
		{box: [4]float64{20, 20, 30, 30}, score: 0.7, class: 3},
		{box: [4]float64{5, 5, 5, 9}, score: 0.95, class: 4}, // empty: never suppresses
	}
	got := nms(dets, 0.4, 10)
	var classes []int
	for _, d := range got {
		classes = append(classes, d.class)
	}
	if len(classes) != 3 || classes[0] != 4 || classes[1] != 2 || classes[2] != 3 {
		t.Errorf("kept classes %v, want [4 2 3]", classes)
	}
	if got := nms(dets, 0.4, 1); len(got) != 1 {
		t.Errorf("k=1 kept %d", len(got))
	}
}
