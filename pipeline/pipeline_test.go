package pipeline

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/train"
)

// writeShapes makes an image folder with two classes: a bright square on
// the left half ("left") or on the right half ("right"), with noise.
func writeShapes(t *testing.T, dir string, perClass int) {
	t.Helper()
	rng := uint32(1)
	next := func() uint8 { rng = rng*1664525 + 1013904223; return uint8(rng >> 27) }
	for ci, class := range []string{"left", "right"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := 0; i < perClass; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 20, 16))
			for y := 0; y < 16; y++ {
				for x := 0; x < 20; x++ {
					v := next()
					if (ci == 0) == (x < 10) && y > 3 && y < 12 && x%10 > 2 && x%10 < 8 {
						v = 200 + next()
					}
					img.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
				}
			}
			f, _ := os.Create(filepath.Join(dir, class, strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('0'+i/26))+".png"))
			png.Encode(f, img)
			f.Close()
		}
	}
}

func TestTrainImageFolderEndToEnd(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 40)
	out := filepath.Join(dir, "out")
	res, err := Train(TrainOptions{
		Load: LoadOptions{Dataset: filepath.Join(dir, "ds"), Preprocess: data.Preprocess{Width: 16, Height: 16, Channels: 3}, Seed: 3},
		Arch: "shallownet", Epochs: 6, BatchSize: 8, Optimizer: "adam", Out: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.9 {
		t.Fatalf("accuracy %.2f on an easy task:\n%s", res.Report.Accuracy, res.ReportText)
	}
	if !strings.Contains(res.ReportText, "left") || !strings.Contains(res.ReportText, "weighted avg") {
		t.Fatalf("report:\n%s", res.ReportText)
	}
	for _, f := range []string{"model.safetensors", "history.json", "history.csv", "report.txt", "report.json", "training.png", "confusion.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoint.safetensors")); err == nil {
		t.Error("checkpoint left behind after a finished run")
	}
	// Evaluate rebuilds the same test split from the model file.
	ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ReportText != res.ReportText {
		t.Fatalf("evaluate differs from training's report:\n%s\n%s", ev.ReportText, res.ReportText)
	}
	m, err := classifier.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Classes[0] != "left" || m.Preprocess.Width != 16 || m.Arch != "shallownet" {
		t.Fatalf("model metadata: %+v", m)
	}
}

func TestTrainMNISTSubsetLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	res, err := Train(TrainOptions{Load: LoadOptions{Limit: 2000, Seed: 1, Offline: true}, Epochs: 2, Optimizer: "adam"})
	if err != nil {
		if strings.Contains(err.Error(), "MNIST not found") {
			t.Skipf("MNIST not available offline: %v", err)
		}
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.8 {
		t.Fatalf("LeNet on 2,000 MNIST digits, 2 epochs: accuracy %.3f\n%s", res.Report.Accuracy, res.ReportText)
	}
}

func TestBadOptions(t *testing.T) {
	cases := []struct {
		o    TrainOptions
		want string
	}{
		{TrainOptions{Arch: "resnet9000"}, "unknown architecture"},
		{TrainOptions{Optimizer: "lbfgs"}, "unknown optimizer"},
		{TrainOptions{LRSchedule: "cosine"}, "unknown lr schedule"},
		{TrainOptions{LRSchedule: "step:x"}, "step:FACTOR:EVERY"},
		{TrainOptions{Load: LoadOptions{Dataset: "/no/such/folder"}}, "neither a known name"},
		{TrainOptions{Load: LoadOptions{TestSplit: 1.5}}, "test split"},
		{TrainOptions{Resume: "/no/such/checkpoint"}, "no such file"},
	}
	for _, c := range cases {
		_, err := Train(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	if _, err := ParseAugment("flip,rotate=x"); err == nil {
		t.Error("bad augment accepted")
	}
	a, err := ParseAugment("flip,shift=0.1,rotate=30,zoom=0.2")
	if err != nil || !a.FlipHorizontal || a.WidthShift != 0.1 || a.Rotation != 30 || a.Zoom != 0.2 {
		t.Fatalf("%+v %v", a, err)
	}
}

// Train, validation and test are disjoint; the validation set is a
// stratified share of the training part; the test set does not depend on
// the validation split; training watches the validation set only.
func TestValidationSplitKeepsTestApart(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 40)
	lo := LoadOptions{Dataset: filepath.Join(dir, "ds"), Preprocess: data.Preprocess{Width: 16, Height: 16, Channels: 3}, Seed: 3}
	plain, err := Load(lo, nil)
	if err != nil {
		t.Fatal(err)
	}
	lo.ValSplit = 0.25
	l, err := Load(lo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Val != nil || l.Val == nil {
		t.Fatalf("validation sets: %v without a split, %v with", plain.Val, l.Val)
	}
	if l.Test.Len() != plain.Test.Len() || !slices.Equal(l.Test.X.Data, plain.Test.X.Data) {
		t.Fatal("the validation split changed the test set")
	}
	// A quarter of each class, rounded per class.
	if want := plain.Train.Len() / 4; l.Train.Len()+l.Val.Len() != plain.Train.Len() || l.Val.Len() < want-2 || l.Val.Len() > want+2 {
		t.Fatalf("%d train + %d val from %d", l.Train.Len(), l.Val.Len(), plain.Train.Len())
	}
	count := func(y []int, c int) (n int) {
		for _, v := range y {
			if v == c {
				n++
			}
		}
		return n
	}
	if a, b := count(l.Val.Y, 0), count(l.Val.Y, 1); a != b {
		t.Errorf("validation set not stratified: %d and %d", a, b)
	}
	// No image is in two of the sets.
	key := func(d *data.Dataset, i int) string {
		n := len(d.X.Data) / d.Len()
		return fmt.Sprint(d.X.Data[i*n : (i+1)*n])
	}
	seen := map[string]string{}
	for name, d := range map[string]*data.Dataset{"train": l.Train, "val": l.Val, "test": l.Test} {
		for i := range d.Len() {
			k := key(d, i)
			if other, dup := seen[k]; dup && other != name {
				t.Fatalf("an image is in both %s and %s", other, name)
			}
			seen[k] = name
		}
	}
	for _, bad := range []float64{-0.1, 1, 1.5} {
		lo.ValSplit = bad
		if _, err := Load(lo, nil); err == nil || !strings.Contains(err.Error(), "validation split") {
			t.Errorf("ValSplit %v: %v", bad, err)
		}
	}
	lo.ValSplit = 0
	if _, err := Train(TrainOptions{Load: lo, Arch: "shallownet", Epochs: 1, EarlyStop: 2}); err == nil || !strings.Contains(err.Error(), "--val-split") {
		t.Errorf("early stopping without a validation set: %v", err)
	}
	// The history's val_ metrics are the validation set's, not the test's.
	lo.ValSplit = 0.25
	res, err := Train(TrainOptions{Load: lo, Arch: "shallownet", Epochs: 2, BatchSize: 8, Optimizer: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	val, err := train.Evaluate(res.Model.Net, l.Val, 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := res.History.Epochs[len(res.History.Epochs)-1]
	if math.Abs(last.ValLoss-val.Loss) > 1e-6 {
		t.Errorf("val_loss %v, the validation set's loss %v (test %v)", last.ValLoss, val.Loss, res.Eval.Loss)
	}
}

// The machine-learning baselines run through the same pipeline: the k-NN
// stores its training set (model file, report, confusion matrix; evaluate
// reproduces it), and softmax regression trains like the networks.
func TestBaselines(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 40)
	lo := LoadOptions{Dataset: filepath.Join(dir, "ds"), Preprocess: data.Preprocess{Width: 16, Height: 16, Channels: 3}, Seed: 3, ValSplit: 0.1}
	for _, features := range []string{"pixels", "histogram"} {
		out := filepath.Join(dir, "knn-"+features)
		res, err := Train(TrainOptions{Load: lo, Arch: "knn", K: 3, Features: features, Out: out})
		if err != nil {
			t.Fatal(err)
		}
		if features == "pixels" && res.Report.Accuracy < 0.9 {
			t.Errorf("k-NN on pixels: accuracy %.2f on an easy task", res.Report.Accuracy)
		}
		if e := res.History.Epochs[0]; math.IsNaN(e.ValAccuracy) {
			t.Error("no validation accuracy")
		}
		ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ev.ReportText != res.ReportText {
			t.Errorf("%s: evaluate differs from training's report", features)
		}
		if _, err := os.Stat(filepath.Join(out, "confusion.png")); err != nil {
			t.Error(err)
		}
	}
	if _, err := Train(TrainOptions{Load: lo, Arch: "knn", Features: "edges"}); err == nil || !strings.Contains(err.Error(), "edges") {
		t.Errorf("unknown features: %v", err)
	}
	res, err := Train(TrainOptions{Load: lo, Arch: "softmax", Epochs: 5, BatchSize: 8, Optimizer: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.8 {
		t.Errorf("softmax regression: accuracy %.2f", res.Report.Accuracy)
	}
}

// Transfer learning by feature extraction: a backbone (here a small dlcv
// model file, cut at a node) turns images into features once; the saved
// model (backbone + trained head) predicts from images what the head
// predicts from the features, loads and evaluates like any model file, and
// keeps the backbone frozen.
func TestTransferLearning(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 40)
	bb := nn.NewSequential(nn.NewConv2D(6, 3, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2), nn.NewGlobalAveragePool(), nn.NewDense(4), nn.NewSoftmax())
	if err := bb.Build([]int{16, 16, 3}, 5); err != nil {
		t.Fatal(err)
	}
	bbPath := filepath.Join(dir, "backbone.safetensors")
	if err := nn.SaveFile(bbPath, bb, nil); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), bb.Params()[0].Value.Data...)
	out := filepath.Join(dir, "out")
	lo := LoadOptions{Dataset: filepath.Join(dir, "ds"), Seed: 3, ValSplit: 0.1}
	o := TrainOptions{Load: lo, Backbone: bbPath, BackboneOutput: "max_pool2d", Epochs: 8, BatchSize: 8, Optimizer: "adam", HeadDropout: 0.1, Out: out}
	res, err := Train(o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.8 {
		t.Errorf("accuracy %.2f on an easy task from random conv features:\n%s", res.Report.Accuracy, res.ReportText)
	}
	m, err := classifier.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Preprocess.Width != 16 || !strings.HasPrefix(m.Arch, "transfer:") {
		t.Errorf("model metadata %+v", m)
	}
	for _, p := range m.Net.Params() {
		if strings.HasPrefix(p.Name, "kernel") && p.Trainable && len(p.Value.Data) == len(before) {
			t.Error("the backbone's kernel is trainable in the saved model")
		}
	}
	// The report was made on features; evaluate runs the images through
	// the whole saved model: the same predictions.
	ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ReportText != res.ReportText {
		t.Errorf("evaluate on images differs from the report on features:\n%s\n%s", ev.ReportText, res.ReportText)
	}
	if _, err := Train(TrainOptions{Load: lo, Backbone: bbPath}); err == nil || !strings.Contains(err.Error(), "--backbone-output") {
		t.Errorf("a model file without a cut: %v", err)
	}
	if _, err := Train(TrainOptions{Load: lo, Backbone: bbPath, BackboneOutput: "nowhere"}); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("a cut at an unknown node: %v", err)
	}
}

// A model trained on a relative folder with --skip-bad evaluates from
// another working directory: the file records the folder's absolute path
// and that unreadable images were skipped.
func TestEvaluateAnyModelTrainWrote(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 20)
	if err := os.WriteFile(filepath.Join(dir, "ds", "left", "broken.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	o := TrainOptions{Load: LoadOptions{Dataset: "ds", Seed: 1, SkipBad: true, Preprocess: data.Preprocess{Width: 8, Height: 8, Channels: 3}},
		Arch: "softmax", Epochs: 1, BatchSize: 8, Out: "out"}
	if _, err := Train(o); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "out", "model.safetensors")
	m, err := classifier.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "ds"); !strings.Contains(string(m.Training), `"dataset":"`+want+`"`) || !strings.Contains(string(m.Training), `"skip_bad":true`) {
		t.Errorf("training metadata %s: want the absolute %s and skip_bad", m.Training, want)
	}
	t.Chdir(t.TempDir())
	if _, err := Evaluate(model, EvalOptions{}); err != nil {
		t.Errorf("evaluate from another folder: %v", err)
	}
}
