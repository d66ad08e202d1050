package tflite

import (
	"fmt"
	"image"
	"math"
	"os"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/tensor"
)

func loadBMP(t testing.TB, rel string) image.Image {
	t.Helper()
	f, err := os.Open(testutil.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := bmp.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Reference top-1 results of a reference TFLite interpreter (PIL bilinear
// resize, RGB uint8), from the shared data's README.
var references = []struct {
	model string
	want  map[string]struct {
		label string
		p     float32
	}
}{
	{"mobilenet_v2_1.0_224_quant", map[string]struct {
		label string
		p     float32
	}{"cat": {"Egyptian cat", 0.773}, "grace_hopper": {"military uniform", 0.926}, "bird": {"chickadee", 0.984}}},
	{"tf2_mobilenet_v2_1.0_224_ptq", map[string]struct {
		label string
		p     float32
	}{"cat": {"Egyptian cat", 0.613}, "grace_hopper": {"military uniform", 0.730}, "bird": {"chickadee", 0.797}}},
}

func TestClassifyMatchesReference(t *testing.T) {
	labels, err := LoadLabels(testutil.SharedFile(t, "models/coral/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 1001 {
		t.Fatalf("%d labels", len(labels))
	}
	for _, ref := range references {
		m, err := Load(testutil.SharedFile(t, "models/coral/"+ref.model+".tflite"))
		if err != nil {
			t.Fatal(err)
		}
		for photo, want := range ref.want {
			got, err := m.Classify(loadBMP(t, "models/coral/"+photo+".bmp"), 5, labels)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: %v", ref.model, photo, got)
			if got[0].Label != want.label || math.Abs(float64(got[0].Score-want.p)) > 0.02 {
				t.Errorf("%s %s: top-1 %q %.3f, reference %q %.3f", ref.model, photo, got[0].Label, got[0].Score, want.label, want.p)
			}
		}
	}
}

// No reference numbers exist for MobileNet v1 0.25: check that it runs and
// puts the right class in its top 5 for each photo.
func TestClassifyMobileNetV1Plausible(t *testing.T) {
	labels, err := LoadLabels(testutil.SharedFile(t, "models/coral/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(testutil.SharedFile(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := m.InputSize(); w != 128 || h != 128 {
		t.Fatalf("input size %dx%d", w, h)
	}
	for photo, want := range map[string]string{"cat": "Egyptian cat", "grace_hopper": "military uniform", "bird": "chickadee"} {
		got, err := m.Classify(loadBMP(t, "models/coral/"+photo+".bmp"), 5, labels)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", photo, got)
		var sum float32
		found := false
		for _, c := range got {
			sum += c.Score
			found = found || c.Label == want
		}
		if !found || sum > 1.01 {
			t.Errorf("%s: %q not in top 5 %v (sum %.3f)", photo, want, got, sum)
		}
	}
}

// One Model serves concurrent callers; batches give the per-image results.
func TestConcurrentAndBatchRunsAgree(t *testing.T) {
	m, err := Load(testutil.SharedFile(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	var imgs []image.Image
	for _, p := range []string{"cat", "bird", "grace_hopper"} {
		imgs = append(imgs, loadBMP(t, "models/coral/"+p+".bmp"))
	}
	x, err := m.Preprocess(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := m.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	if batch.Shape[0] != 3 || batch.Shape[1] != 1001 {
		t.Fatalf("batch output %v", batch.Shape)
	}
	done := make(chan error, 6)
	for k := 0; k < 6; k++ {
		go func(i int) {
			one, err := m.Preprocess(imgs[i])
			if err == nil {
				var y *tensor.Tensor
				if y, err = m.Run(one); err == nil {
					for j, v := range y.Data {
						if v != batch.Data[i*1001+j] {
							err = fmt.Errorf("image %d class %d: %v alone, %v in the batch", i, j, v, batch.Data[i*1001+j])
							break
						}
					}
				}
			}
			done <- err
		}(k % 3)
	}
	for k := 0; k < 6; k++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
