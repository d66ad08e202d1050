package vision

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/imagefile"
	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestLabelDetectionCat(t *testing.T) {
	_, ts := testServer(t, Config{Labeler: sharedLabeler(t)})
	cat := readShared(t, "models/coral/cat.bmp")
	code, br, eb := postJSON(t, ts.URL, jsonRequest([]Feature{{Type: LabelDetection, MaxResults: 3}}, cat))
	if code != 200 {
		t.Fatalf("HTTP %d: %+v", code, eb)
	}
	ls := br.Responses[0].LabelAnnotations
	if len(br.Responses) != 1 || len(ls) != 3 {
		t.Fatalf("responses %+v", br.Responses)
	}
	// The reference TFLite interpreter gives Egyptian cat 0.773.
	if ls[0].Description != "Egyptian cat" || math.Abs(ls[0].Score-0.773) > 0.03 || ls[0].Topicality != ls[0].Score {
		t.Fatalf("top label %+v", ls[0])
	}
	for i, l := range ls {
		if l.Description == "background" || (i > 0 && l.Score > ls[i-1].Score) {
			t.Fatalf("labels %+v", ls)
		}
	}
	// The default is at most 10 labels, none scoring under 0.01 (the
	// cat has 3 over it).
	_, br, _ = postJSON(t, ts.URL, jsonRequest([]Feature{{Type: LabelDetection}}, cat))
	if ls := br.Responses[0].LabelAnnotations; len(ls) != 3 || ls[2].Score < 0.01 {
		t.Fatalf("default maxResults and min score gave %+v", ls)
	}
	// MinScore < 0 keeps every label: then the default is 10.
	_, ts = testServer(t, Config{Labeler: sharedLabeler(t), MinScore: -1})
	_, br, _ = postJSON(t, ts.URL, jsonRequest([]Feature{{Type: LabelDetection}}, cat))
	if n := len(br.Responses[0].LabelAnnotations); n != 10 {
		t.Fatalf("default maxResults gave %d labels", n)
	}
}

func TestMultipartUpload(t *testing.T) {
	_, ts := testServer(t, Config{Labeler: sharedLabeler(t)})
	cat := readShared(t, "models/coral/cat.bmp")
	bird := readShared(t, "models/coral/bird.bmp")
	ct, body := multipartBody(t, [][]byte{cat, bird}, map[string]string{"features": "LABEL_DETECTION:1, IMAGE_PROPERTIES"})
	code, br, eb := post(t, ts.URL, ct, body)
	if code != 200 || len(br.Responses) != 2 {
		t.Fatalf("HTTP %d %+v %+v", code, br, eb)
	}
	if l := br.Responses[0].LabelAnnotations; len(l) != 1 || l[0].Description != "Egyptian cat" {
		t.Fatalf("cat: %+v", l)
	}
	if l := br.Responses[1].LabelAnnotations; len(l) != 1 || l[0].Description != "chickadee" {
		t.Fatalf("bird: %+v", l)
	}
	if p := br.Responses[1].ImagePropertiesAnnotation; p == nil || len(p.DominantColors.Colors) != 10 {
		t.Fatalf("bird colours: %+v", p)
	}
	// Without a features field the upload gets labels.
	ct, body = multipartBody(t, [][]byte{cat}, nil)
	if code, br, _ := post(t, ts.URL, ct, body); code != 200 || len(br.Responses[0].LabelAnnotations) != 3 {
		t.Fatalf("default features: HTTP %d %+v", code, br)
	}
	for _, f := range []map[string]string{{"features": "LABEL_DETECTION:x"}, {"features": "DOCUMENT_TEXT_DETECTION"}, {"maxResults": "-1"}, {"colour": "red"}} {
		ct, body = multipartBody(t, [][]byte{cat}, f)
		if code, _, eb := post(t, ts.URL, ct, body); code != 400 || eb.Error.Status != "INVALID_ARGUMENT" {
			t.Fatalf("%v: HTTP %d %+v", f, code, eb)
		}
	}
	ct, body = multipartBody(t, nil, map[string]string{"features": "LABEL_DETECTION"})
	if code, _, eb := post(t, ts.URL, ct, body); code != 400 || !strings.Contains(eb.Error.Message, "-F image=@") {
		t.Fatalf("no image: HTTP %d %+v", code, eb)
	}
}

func TestImageProperties(t *testing.T) {
	_, ts := testServer(t, Config{})
	img := pngBytes(t, twoColors(200, 120, 0.75))
	code, br, eb := postJSON(t, ts.URL, jsonRequest([]Feature{{Type: ImageProperties}}, img))
	if code != 200 {
		t.Fatalf("HTTP %d %+v", code, eb)
	}
	cs := br.Responses[0].ImagePropertiesAnnotation.DominantColors.Colors
	if len(cs) != 2 {
		t.Fatalf("two-colour image gave %+v", cs)
	}
	if cs[0].Color != (Color{Red: 255}) || cs[1].Color != (Color{Blue: 255}) ||
		math.Abs(cs[0].PixelFraction-0.75) > 0.01 || math.Abs(cs[0].PixelFraction+cs[1].PixelFraction-1) > 1e-9 || cs[0].Score != cs[0].PixelFraction {
		t.Fatalf("colours %+v", cs)
	}
}

func TestFaceDetection(t *testing.T) {
	cascade := sharedCascade(t)
	grace := readShared(t, "models/coral/grace_hopper.bmp")
	_, ts := testServer(t, Config{Cascade: cascade})
	code, br, eb := postJSON(t, ts.URL, jsonRequest([]Feature{{Type: FaceDetection}}, grace))
	if code != 200 {
		t.Fatalf("HTTP %d %+v", code, eb)
	}
	fs := br.Responses[0].FaceAnnotations
	if len(fs) != 1 {
		t.Fatalf("grace_hopper.bmp: %d faces, want 1: %+v", len(fs), fs)
	}
	v := fs[0].BoundingPoly.Vertices
	// The face is in the upper middle of the 517x606 photo.
	if len(v) != 4 || v[0].X != v[3].X || v[1].X != v[2].X || v[0].Y != v[1].Y || v[2].Y != v[3].Y ||
		v[0].X < 100 || v[1].X > 420 || v[0].Y < 50 || v[2].Y > 400 || v[1].X-v[0].X < 120 {
		t.Fatalf("face box %+v", v)
	}
	if fs[0].JoyLikelihood != "UNKNOWN" || fs[0].JoyProbability != nil || !(fs[0].DetectionConfidence > 0.5) {
		t.Fatalf("face without a smile model: %+v", fs[0])
	}
	// The cat has no face; asking for none is fine.
	code, br, _ = postJSON(t, ts.URL, jsonRequest([]Feature{{Type: FaceDetection}}, readShared(t, "models/coral/cat.bmp")))
	if code != 200 || len(br.Responses[0].FaceAnnotations) != 0 {
		t.Fatalf("cat: HTTP %d %+v", code, br)
	}

	// With a smile model, joy comes from its probability of "smiling" on
	// the face crop.
	path := tinyModel(t, "not_smiling", "smiling")
	_, ts = testServer(t, Config{Cascade: cascade, Smiles: loadModel(t, path)})
	_, br, _ = postJSON(t, ts.URL, jsonRequest([]Feature{{Type: FaceDetection}}, grace))
	f := br.Responses[0].FaceAnnotations[0]
	m, _ := classifier.Load(path)
	img, _ := imagefile.Decode(context.Background(), grace, imagefile.Limits{})
	r := image.Rect(v[0].X, v[0].Y, v[2].X, v[2].Y)
	ps, err := m.PredictImage(detect.Crop(img, r), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := ps[0].Probability
	if ps[0].Label != "smiling" {
		want = ps[1].Probability
	}
	if f.JoyProbability == nil || math.Abs(*f.JoyProbability-want) > 1e-6 || f.JoyLikelihood != annotate.Likelihood(want) {
		t.Fatalf("joy %+v, want probability %v", f, want)
	}
	if _, err := New(Config{Smiles: loadModel(t, tinyModel(t, "a", "b"))}); err == nil || !strings.Contains(err.Error(), "smiling") {
		t.Fatalf("a smile model with other classes: %v", err)
	}
}

func TestCustomModel(t *testing.T) {
	classes := []string{"zero", "one", "two"}
	path := tinyModel(t, classes...)
	_, ts := testServer(t, Config{Custom: map[string]*classifier.Model{"digits": loadModel(t, path)}})
	imgs := [][]byte{pngBytes(t, twoColors(40, 30, 0.3)), pngBytes(t, twoColors(20, 20, 0.9))}
	feats := []Feature{{Type: CustomModel, Model: "digits", MaxResults: 2}}
	code, br, eb := postJSON(t, ts.URL, jsonRequest(feats, imgs...))
	if code != 200 {
		t.Fatalf("HTTP %d %+v", code, eb)
	}
	m, _ := classifier.Load(path)
	for i, im := range imgs {
		img, _ := imagefile.Decode(context.Background(), im, imagefile.Limits{})
		want, _ := m.PredictImage(img, 2)
		ca := br.Responses[i].CustomAnnotations
		if len(ca) != 1 || ca[0].Model != "digits" || len(ca[0].Labels) != 2 {
			t.Fatalf("image %d: %+v", i, ca)
		}
		for j, l := range ca[0].Labels {
			if l.Description != want[j].Label || math.Abs(l.Score-want[j].Probability) > 1e-6 {
				t.Fatalf("image %d: got %+v, want %+v", i, ca[0].Labels, want)
			}
		}
	}
	// Concurrent requests share the pool's two copies and get the same
	// answers as one at a time (run with -race to check the pooling).
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			_, got, _ := postJSON(t, ts.URL, jsonRequest(feats, imgs...))
			if fmt.Sprint(got) != fmt.Sprint(br) {
				errs <- fmt.Sprint(got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("concurrent answer differs: %s\nwant %v", e, br)
	}
	for _, f := range []Feature{{Type: CustomModel}, {Type: CustomModel, Model: "faces"}} {
		code, _, eb := postJSON(t, ts.URL, jsonRequest([]Feature{f}, imgs[0]))
		if code != 400 || !strings.Contains(eb.Error.Message, "digits") {
			t.Fatalf("%+v: HTTP %d %+v", f, code, eb)
		}
	}
}

func TestWebDetection(t *testing.T) {
	_, ts := testServer(t, Config{Web: sharedWeb(t, 5, nil)})
	code, br, eb := postJSON(t, ts.URL, jsonRequest([]Feature{{Type: WebDetectionType, MaxResults: 5}}, readShared(t, "data/animals/panda/panda_00900.jpg")))
	if code != 200 || br.Responses[0].Error != nil {
		t.Fatalf("HTTP %d %+v %+v", code, eb, br)
	}
	w := br.Responses[0].WebDetection
	if w == nil || len(w.VisuallySimilarImages) != 5 || w.WebEntities[0].Description != "panda" || w.BestGuessLabels[0].Label != "panda" {
		t.Fatalf("webDetection %+v", w)
	}
	// Without an index: the image's error says how to make one.
	_, ts = testServer(t, Config{})
	_, br, _ = postJSON(t, ts.URL, jsonRequest([]Feature{{Type: WebDetectionType}}, readShared(t, "data/animals/panda/panda_00900.jpg")))
	if e := br.Responses[0].Error; e == nil || !strings.Contains(e.Message, "dlcv index DIR --out INDEX") {
		t.Fatalf("no index: %+v", br.Responses[0])
	}
}

func TestTextDetectionThroughTheService(t *testing.T) {
	tx, err := annotate.LoadText(testutil.SharedFile(t, "models/onnx/paddleocr"))
	if err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, Config{Text: tx})
	// Rendered text (the 7x13 bitmap font, 4x): PP-OCRv4 reads it.
	small := image.NewRGBA(image.Rect(0, 0, 96, 24))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
	detect.DrawLabel(small, image.Pt(4, 4), "OPEN SOURCE", color.Black, color.White)
	big := image.NewRGBA(image.Rect(0, 0, 384, 96))
	for y := range 96 {
		for x := range 384 {
			big.Set(x, y, small.At(x/4, y/4))
		}
	}
	code, br, eb := postJSON(t, ts.URL, jsonRequest([]Feature{{Type: TextDetection}}, pngBytes(t, big)))
	if code != 200 || br.Responses[0].Error != nil {
		t.Fatalf("HTTP %d %+v %+v", code, eb, br)
	}
	r := br.Responses[0]
	t.Logf("text %+v full %+v", r.TextAnnotations, r.FullTextAnnotation)
	if len(r.TextAnnotations) < 2 || r.FullTextAnnotation == nil || r.TextAnnotations[0].Description != r.FullTextAnnotation.Text ||
		strings.ReplaceAll(r.FullTextAnnotation.Text, " ", "") != "OPENSOURCE" {
		t.Fatalf("text %+v", r)
	}
}
