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
