package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/imagefile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// tinyBackbone saves a random conv backbone taking (16, 16, c), cut at
// "max_pool2d" (8x8x6 features).
func tinyBackbone(t *testing.T, path string, c int) {
	t.Helper()
	bb := nn.NewSequential(nn.NewConv2D(6, 3, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2), nn.NewGlobalAveragePool(), nn.NewDense(4), nn.NewSoftmax())
	if err := bb.Build([]int{16, 16, c}, 5); err != nil {
		t.Fatal(err)
	}
	if err := nn.SaveFile(path, bb, nil); err != nil {
		t.Fatal(err)
	}
}

// Transfer learning on an array dataset (here an IDX folder of 8x8
// grayscale images, MNIST's format) with a backbone that takes 16x16 RGB:
// batches are resized and the channel replicated on the fly. The model
// file records the backbone's input as its preprocessing; evaluate (on
// the dataset, resized the same way) reproduces training's report, and
// predicting from PNG files of the test images gives evaluate's answers.
func TestTransferOnArrayDataset(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "idx")
	writeIDX(t, ds, "", 90, 30)
	bbPath := filepath.Join(dir, "backbone.safetensors")
	tinyBackbone(t, bbPath, 3)
	out := filepath.Join(dir, "out")
	lo := LoadOptions{Dataset: ds, Seed: 3, ValSplit: 0.1}
	var log strings.Builder
	res, err := Train(TrainOptions{Load: lo, Backbone: bbPath, BackboneOutput: "max_pool2d", Epochs: 10, BatchSize: 8, Optimizer: "adam", Out: out, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "8x8x1: resized to 16x16x3 per batch, the channel replicated (bilinear)") {
		t.Errorf("the log does not say the images are resized:\n%s", log.String())
	}
	if res.Report.Accuracy < 0.8 {
		t.Errorf("accuracy %.2f on an easy task from random conv features:\n%s", res.Report.Accuracy, res.ReportText)
	}
	model := filepath.Join(out, "model.safetensors")
	m, err := classifier.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Preprocess; p.Width != 16 || p.Height != 16 || p.Channels != 3 {
		t.Errorf("model preprocessing %+v, want the backbone's 16x16x3", p)
	}
	ev, err := Evaluate(model, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ReportText != res.ReportText {
		t.Errorf("evaluate differs from the report on the features:\n%s\n%s", ev.ReportText, res.ReportText)
	}
	// Every test image as a grayscale PNG, decoded as 'dlcv predict' does.
	test := ev.Test
	for i := range test.Len() {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		copy(img.Pix, test.U8.Pix[i*64:(i+1)*64])
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "digit.png")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := imagefile.Decode(context.Background(), raw, imagefile.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		pred, err := m.PredictImage(dec, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.Classes[ev.Eval.Pred[i]]; pred[0].Label != want {
			t.Errorf("test image %d: predict from PNG says %s, evaluate %s", i, pred[0].Label, want)
		}
		// The same probability too, up to float32 rounding: the file's
		// pixels scale as v*(1/255), the dataset's as v/255.
		nc := len(m.Classes)
		if p, q := pred[0].Probability, float64(ev.Eval.Probs.Data[i*nc+ev.Eval.Pred[i]]); math.Abs(p-q) > 1e-5 {
			t.Errorf("test image %d: %s with %.7f from the PNG, %.7f in evaluate", i, pred[0].Label, p, q)
		}
	}
}

// Fine-tuning on an array dataset caches resized activations (or, when
// every block is fine-tuned, the resized images) and says how large the
// cache is; evaluate reproduces the report.
func TestFineTuneOnArrayDataset(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "idx")
	writeIDX(t, ds, "", 60, 30)
	bbPath := filepath.Join(dir, "backbone.safetensors")
	residualBackbone(t, bbPath)
	for _, blocks := range []int{1, 2} {
		out := filepath.Join(dir, "out", string(rune('0'+blocks)))
		var log strings.Builder
		res, err := Train(TrainOptions{Load: LoadOptions{Dataset: ds, Seed: 3, ValSplit: 0.1}, Backbone: bbPath, BackboneOutput: "bb/pool",
			Epochs: 3, BatchSize: 8, Optimizer: "adam", FineTune: blocks, FineTuneEpochs: 2, Out: out, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if want := "fine-tuning cache: 90 images x (16, 16, "; !strings.Contains(log.String(), want) {
			t.Errorf("--fine-tune %d: no %q in the log:\n%s", blocks, want, log.String())
		}
		ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ev.ReportText != res.ReportText {
			t.Errorf("--fine-tune %d: evaluate differs from the report on the cache:\n%s\n%s", blocks, ev.ReportText, res.ReportText)
		}
	}
}

// writeRGBIDX writes an IDX folder of n train and n test 8x8x3 images.
func writeRGBIDX(t *testing.T, dir string, n int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for s := range 2 {
		pix := make([]byte, n*8*8*3)
		lab := make([]byte, n)
		for i := range n {
			lab[i] = byte(i % 2)
			for j := range 8 * 8 * 3 {
				pix[i*192+j] = byte(i*31 + j*7)
			}
		}
		for k, x := range []*data.IDX{{Dims: []int{n, 8, 8, 3}, Data: pix}, {Dims: []int{n}, Data: lab}} {
			b, err := data.EncodeIDX(x)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, data.IDXNames[2*s+k]), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// What cannot be adapted is refused with both shapes named: RGB images
// for a grayscale backbone, a backbone of 4 channels.
func TestTransferShapeErrors(t *testing.T) {
	dir := t.TempDir()
	rgb := filepath.Join(dir, "rgb")
	writeRGBIDX(t, rgb, 8)
	gray := filepath.Join(dir, "gray.safetensors")
	tinyBackbone(t, gray, 1)
	_, err := Train(TrainOptions{Load: LoadOptions{Dataset: rgb}, Backbone: gray, BackboneOutput: "max_pool2d", Epochs: 1})
	if err == nil || !strings.Contains(err.Error(), "8x8x3 images and backbone "+gray+" takes 16x16x1") {
		t.Errorf("RGB images, grayscale backbone: %v", err)
	}
	four := filepath.Join(dir, "four.safetensors")
	tinyBackbone(t, four, 4)
	_, err = Train(TrainOptions{Load: LoadOptions{Dataset: rgb}, Backbone: four, BackboneOutput: "max_pool2d", Epochs: 1})
	if err == nil || !strings.Contains(err.Error(), "takes [16 16 4]") || !strings.Contains(err.Error(), "1 or 3 channels") {
		t.Errorf("a 4-channel backbone: %v", err)
	}
	for _, c := range []struct {
		from, to []int
		p        data.Preprocess
		want     string
	}{
		{[]int{8, 8, 3}, []int{16, 16, 1}, data.Preprocess{}, "8x8x3 images and model m takes 16x16x1"},
		{[]int{8, 8, 1}, []int{16, 32, 3}, data.Preprocess{AspectAware: true}, "--aspect"},
	} {
		if _, err := newInputAdapter("d", "model m", c.from, c.to, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v -> %v: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

// The adapter resizes each sample as data.Resize does and replicates a
// grayscale channel after it: the same values as resizing the replicated
// image (what Preprocess.ApplyTo does to a grayscale file).
func TestInputAdapterMatchesResize(t *testing.T) {
	a, err := newInputAdapter("d", "m", []int{5, 7, 1}, []int{12, 9, 3}, data.Preprocess{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(3, 5, 7, 1)
	for i := range x.Data {
		x.Data[i] = float32((i*37)%101) / 100
	}
	y, err := a.batch(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape, []int{3, 12, 9, 3}) {
		t.Fatalf("shape %v", y.Shape)
	}
	for i := range 3 {
		rgb := make([]float32, 5*7*3)
		for p := range 5 * 7 {
			v := x.Data[i*35+p]
			rgb[3*p], rgb[3*p+1], rgb[3*p+2] = v, v, v
		}
		want := make([]float32, 12*9*3)
		data.Resize(want, 12, 9, rgb, 5, 7, 3, "")
		if got := y.Data[i*len(want) : (i+1)*len(want)]; !slices.Equal(got, want) {
			t.Fatalf("sample %d: adapter %v\nresize of the RGB image %v", i, got[:6], want[:6])
		}
	}
	if _, err := a.batch(tensor.New(2, 5, 5, 1)); err == nil || !strings.Contains(err.Error(), "(N, 5, 7, 1)") {
		t.Errorf("a batch of the wrong shape: %v", err)
	}
}

// BenchmarkInputAdapterMNIST is the per-batch cost transfer learning on
// MNIST adds: 32 digits from 28x28x1 to MobileNet's 224x224x3.
func BenchmarkInputAdapterMNIST(b *testing.B) {
	a, err := newInputAdapter("mnist", "mobilenet", []int{28, 28, 1}, []int{224, 224, 3}, data.Preprocess{})
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.New(32, 28, 28, 1)
	for i := range x.Data {
		x.Data[i] = float32(i%255) / 255
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.batch(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "img/s")
}

// A mean is subtracted from the stored gray channel and recorded once
// per replicated channel, so that the model file's preprocessing and a
// second load from it (evaluate) agree; means that a replicated channel
// cannot have are refused.
func TestLoadAdaptedMean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	writeIDX(t, dir, "", 9, 6)
	in := []int{16, 16, 3}
	l, a, err := loadAdapted(LoadOptions{Dataset: dir, Preprocess: data.Preprocess{Mean: []float32{0.5}}}, in, "m")
	if err != nil {
		t.Fatal(err)
	}
	if a == nil || !slices.Equal(l.Preprocess.Mean, []float32{0.5, 0.5, 0.5}) || !slices.Equal(l.Test.U8.Mean, []float32{0.5}) {
		t.Fatalf("adapter %v, preprocess %+v, stored mean %v", a, l.Preprocess, l.Test.U8.Mean)
	}
	again, _, err := loadAdapted(LoadOptions{Dataset: dir, Preprocess: l.Preprocess}, in, "m")
	if err != nil || !slices.Equal(again.Test.U8.Mean, []float32{0.5}) || !slices.Equal(again.Preprocess.Mean, l.Preprocess.Mean) {
		t.Fatalf("reloaded from the model's preprocessing: %v, %+v", err, again)
	}
	for _, c := range []struct {
		mean []float32
		want string
	}{{[]float32{0.1, 0.2, 0.3}, "one mean for all channels"}, {[]float32{0.1, 0.2}, "2 mean values for 1 channels"}} {
		if _, _, err := loadAdapted(LoadOptions{Dataset: dir, Preprocess: data.Preprocess{Mean: c.mean}}, in, "m"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mean %v: %v, want %q", c.mean, err, c.want)
		}
	}
}

// A fine-tuning cache over the bound is refused, naming its size.
func TestFineTuneCacheBound(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "idx")
	writeIDX(t, ds, "", 60, 30)
	g := residualBackbone(t, filepath.Join(dir, "backbone.safetensors"))
	cut, err := cutGraph(g, "bb/pool")
	if err != nil {
		t.Fatal(err)
	}
	ft, err := splitForFineTune(cut, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, a, err := loadAdapted(LoadOptions{Dataset: ds}, []int{16, 16, 3}, "backbone b")
	if err != nil {
		t.Fatal(err)
	}
	// 90 images x 16x16x6 float32 = 552,960 bytes.
	var log strings.Builder
	if err := checkCache(l, ft, a, 552960, &log); err != nil || !strings.Contains(log.String(), "90 images x (16, 16, 6) float32") {
		t.Errorf("a cache at the bound: %v, log %q", err, log.String())
	}
	if err := checkCache(l, ft, a, 552959, io.Discard); err == nil || !strings.Contains(err.Error(), "caching 90 images' activations at bb/b1/relu, (16, 16, 6) float32 each, would take 0.0 GB") {
		t.Errorf("a cache over the bound: %v", err)
	}
}
