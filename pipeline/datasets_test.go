package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/data"
)

// writeIDX writes an MNIST-style dataset into dir (files prefixed with
// prefix): 8x8 images, a bright 4x4 square top-left (class 0), top-right
// (1) or bottom (2), with noise; ntrain and ntest images.
func writeIDX(t *testing.T, dir, prefix string, ntrain, ntest int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	rng := uint32(5)
	for s, n := range []int{ntrain, ntest} {
		pix := make([]byte, n*64)
		lab := make([]byte, n)
		for i := range n {
			c := i % 3
			lab[i] = byte(c)
			for y := range 8 {
				for x := range 8 {
					rng = rng*1664525 + 1013904223
					v := byte(rng >> 27)
					in := (c == 0 && x < 4 && y < 4) || (c == 1 && x >= 4 && y < 4) || (c == 2 && y >= 4)
					if in {
						v += 200
					}
					pix[i*64+y*8+x] = v
				}
			}
		}
		for k, x := range []*data.IDX{{Dims: []int{n, 8, 8}, Data: pix}, {Dims: []int{n}, Data: lab}} {
			b, err := data.EncodeIDX(x)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, prefix+data.IDXNames[2*s+k]), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestIDXFolderDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeIDX(t, dir, "", 60, 30)
	os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("left\nright\nbottom\n"), 0o644)
	l, err := Load(LoadOptions{Dataset: dir, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Train.Len() != 60 || l.Test.Len() != 30 || l.Train.U8 == nil || !slices.Equal(l.Train.Classes, []string{"left", "right", "bottom"}) {
		t.Fatalf("train %d test %d classes %v", l.Train.Len(), l.Test.Len(), l.Train.Classes)
	}
	if p := l.Preprocess; p.Width != 8 || p.Height != 8 || p.Channels != 1 {
		t.Fatalf("preprocess %+v", p)
	}
	// Pooled and re-split; a mean is applied when batches are made.
	l, err = Load(LoadOptions{Dataset: dir, Seed: 1, TestSplit: 0.2, ValSplit: 0.25, Preprocess: data.Preprocess{Mean: []float32{0.5}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Test.Len() != 18 || l.Train.Len()+l.Val.Len() != 72 || !slices.Equal(l.Val.U8.Mean, []float32{0.5}) || !slices.Equal(l.Preprocess.Mean, []float32{0.5}) {
		t.Fatalf("pooled: %d / %d / %d, mean %v", l.Train.Len(), l.Val.Len(), l.Test.Len(), l.Val.U8.Mean)
	}
	if _, err := Load(LoadOptions{Dataset: dir, Preprocess: data.Preprocess{Width: 28, Height: 28}}, nil); err == nil || !strings.Contains(err.Error(), "8x8x1") {
		t.Errorf("wrong size: %v", err)
	}

	// Trains, writes a model file, and evaluate rebuilds the test set.
	out := filepath.Join(t.TempDir(), "run")
	res, err := Train(TrainOptions{Load: LoadOptions{Dataset: dir, Seed: 1}, Arch: "mlp", Epochs: 8, BatchSize: 10, Optimizer: "adam", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.9 || !strings.Contains(res.ReportText, "bottom") {
		t.Fatalf("accuracy %.2f on an easy task:\n%s", res.Report.Accuracy, res.ReportText)
	}
	ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
	if err != nil || ev.ReportText != res.ReportText {
		t.Fatalf("evaluate: %v\n%s", err, ev.ReportText)
	}

	// EMNIST's layout: DIR/PREFIX picks one prefixed set.
	emnist := t.TempDir()
	writeIDX(t, emnist, "emnist-a-", 9, 6)
	writeIDX(t, emnist, "emnist-b-", 12, 3)
	if l, err = Load(LoadOptions{Dataset: filepath.Join(emnist, "emnist-b")}, nil); err != nil || l.Train.Len() != 12 || !slices.Equal(l.Train.Classes, []string{"0", "1", "2"}) {
		t.Fatalf("prefixed set: %v", err)
	}
	if _, err = Load(LoadOptions{Dataset: emnist}, nil); err == nil || !strings.Contains(err.Error(), "2 IDX datasets") {
		t.Errorf("two sets: %v", err)
	}
	// An incomplete folder says what is missing.
	os.Remove(filepath.Join(dir, data.IDXNames[2]))
	if _, err = Load(LoadOptions{Dataset: dir}, nil); err == nil || !strings.Contains(err.Error(), "lacks t10k-images-idx3-ubyte[.gz]") {
		t.Errorf("missing file: %v", err)
	}
}

// writeCIFAR writes a tiny CIFAR binary folder: n records per training
// batch and n in the test batch; class k's images are bright in colour
// plane k%3, dark elsewhere.
func writeCIFAR(t *testing.T, dir string, c *data.CIFAR, n int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	rng := uint32(3)
	batch := func() []byte {
		var b []byte
		for i := range n {
			label := byte(i % 3)
			if c.LabelBytes == 2 {
				b = append(b, label) // coarse
			}
			b = append(b, label)
			for plane := range 3 {
				for range 1024 {
					rng = rng*1664525 + 1013904223
					v := byte(rng >> 26)
					if plane == int(label) {
						v += 180
					}
					b = append(b, v)
				}
			}
		}
		return b
	}
	for _, f := range append(slices.Clone(c.Train), c.Test) {
		if err := os.WriteFile(filepath.Join(dir, f), batch(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNamedDatasets(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir())
	// fashion-mnist:PATH takes a copy of one's own, with the class names.
	fm := t.TempDir()
	writeIDX(t, fm, "", 12, 6)
	l, err := Load(LoadOptions{Dataset: "fashion-mnist:" + fm}, nil)
	if err != nil || l.Train.Classes[9] != "Ankle boot" || l.Test.Len() != 6 {
		t.Fatalf("fashion-mnist:PATH: %v", err)
	}
	// The size is checked against the dataset's before loading.
	if _, err := Load(LoadOptions{Dataset: "fashion-mnist:" + fm, Preprocess: data.Preprocess{Channels: 3}}, nil); err == nil || !strings.Contains(err.Error(), "28x28x1") {
		t.Errorf("channels: %v", err)
	}

	root := t.TempDir()
	c10 := filepath.Join(root, "cifar-10-batches-bin")
	writeCIFAR(t, c10, data.CIFAR10, 6)
	l, err = Load(LoadOptions{Dataset: "cifar10:" + root, ValSplit: 0.2, Seed: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Train.Len()+l.Val.Len() != 30 || l.Test.Len() != 6 || !slices.Equal(l.Train.SampleShape(), []int{32, 32, 3}) || l.Train.Classes[0] != "airplane" || l.Preprocess.Channels != 3 {
		t.Fatalf("cifar10: %d+%d/%d %v %v", l.Train.Len(), l.Val.Len(), l.Test.Len(), l.Train.SampleShape(), l.Preprocess)
	}
	res, err := Train(TrainOptions{Load: LoadOptions{Dataset: "cifar10:" + c10, Seed: 2}, Arch: "softmax", Epochs: 10, BatchSize: 6, Optimizer: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Accuracy < 0.9 || !strings.Contains(res.ReportText, "automobile") {
		t.Errorf("softmax on an easy CIFAR-10 stand-in: %.2f\n%s", res.Report.Accuracy, res.ReportText)
	}
	c100 := t.TempDir()
	writeCIFAR(t, c100, data.CIFAR100, 4)
	if l, err = Load(LoadOptions{Dataset: "cifar100:" + c100}, nil); err != nil || len(l.Train.Classes) != 100 || l.Train.Len() != 4 {
		t.Fatalf("cifar100: %v", err)
	}
	if _, err := Load(LoadOptions{Dataset: "cifar10:" + c100}, nil); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Errorf("wrong folder: %v", err)
	}
	if _, err := Load(LoadOptions{Dataset: "cifar10:"}, nil); err == nil || !strings.Contains(err.Error(), "cifar10:PATH") {
		t.Errorf("empty path: %v", err)
	}
	// Not on this machine and not asked to download: says how to get it.
	_, err = Load(LoadOptions{Dataset: "cifar100"}, nil)
	if err == nil || !strings.Contains(err.Error(), "not found on this machine") || !strings.Contains(err.Error(), "dlcv datasets pull cifar100") {
		t.Errorf("missing: %v", err)
	}
	if DatasetLocation("cifar100") != "" || DatasetLocation("smiles") != "" {
		t.Error("locations for datasets that are not here")
	}
	if _, err := PullDataset(t.Context(), "imagenet", nil); err == nil || !strings.Contains(err.Error(), "unknown dataset") {
		t.Errorf("pull unknown: %v", err)
	}
}
