package tflite_test

// classifier.Open on a float TFLite model, here because only this
// package's tests can build one (export_test.go).

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/tflite"
)

func TestOpenFloatTFLite(t *testing.T) {
	w := [2][3]float32{{0.02, -0.01, 0.005}, {-0.015, 0.03, -0.02}}
	b := [2]float32{0.1, -0.2}
	p := filepath.Join(t.TempDir(), "tiny.tflite")
	if err := os.WriteFile(p, tflite.TinyFloatClassifier(w, b), 0o644); err != nil {
		t.Fatal(err)
	}
	// A float model's file does not say how its input is scaled.
	if _, err := classifier.Open(p, classifier.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "float TFLite") || !strings.Contains(err.Error(), "--mean 127.5 --std 127.5 --scale 1") {
		t.Fatalf("no normalisation: got %v", err)
	}
	m, err := classifier.Open(p, classifier.OpenOptions{Mean: []float32{127.5}, Std: []float32{127.5}, Scale: 1, BGR: true})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 6, 5))
	rgb := [3]float64{200, 100, 50}
	for i := 0; i < len(img.Pix); i += 4 {
		img.Set(i/4%6, i/4/6, color.RGBA{uint8(rgb[0]), uint8(rgb[1]), uint8(rgb[2]), 255})
	}
	ps, err := m.PredictImage(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: channel c of the input is (p - 127.5) / 127.5 of the
	// channel 2-c pixel (BGR), the mean over the image is that, then the
	// dense layer and softmax. 1e-5: float32 rounding.
	var l [2]float64
	for k := range 2 {
		l[k] = float64(b[k])
		for c := range 3 {
			l[k] += float64(w[k][c]) * (rgb[2-c] - 127.5) / 127.5
		}
	}
	p0 := 1 / (1 + math.Exp(l[1]-l[0]))
	for _, q := range ps {
		want := p0
		if q.Index == 1 {
			want = 1 - p0
		}
		if math.Abs(q.Probability-want) > 1e-5 {
			t.Fatalf("class %d: %.7f, want %.7f", q.Index, q.Probability, want)
		}
	}
	if m.Logits {
		t.Error("the softmax output is taken for logits")
	}
}
