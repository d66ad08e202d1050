package pipeline

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
)

var smilesTestPre = data.Preprocess{Width: 8, Height: 8, Channels: 1}

// miniSmiles writes a SMILEsmileD-shaped checkout with 15 not smiling
// and 5 smiling 64x64 faces.
func miniSmiles(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for label, sub := range []string{"negatives/negatives7", "positives/positives7"} {
		dir := filepath.Join(root, "SMILEs", filepath.FromSlash(sub))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 15 - 10*label {
			img := image.NewGray(image.Rect(0, 0, 64, 64))
			for k := range img.Pix {
				img.Pix[k] = uint8(40 + 150*label)
			}
			f, err := os.Create(filepath.Join(dir, strconv.Itoa(i+1)+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			jpeg.Encode(f, img, nil)
			f.Close()
		}
	}
	return root
}

func TestLoadSmiles(t *testing.T) {
	root := miniSmiles(t)
	t.Setenv(SmilesEnv, root)
	for _, name := range []string{"smiles", "smiles:" + root, "SMILES:" + filepath.Join(root, "SMILEs"), root} {
		l, err := Load(LoadOptions{Dataset: name, Seed: 1}, []int{28, 28, 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// 20% of each class held out: 3 of 15 and 1 of 5.
		if !slices.Equal(l.Test.ClassCounts(), []int{3, 1}) || !slices.Equal(l.Train.ClassCounts(), []int{12, 4}) {
			t.Errorf("%s: train %v test %v", name, l.Train.ClassCounts(), l.Test.ClassCounts())
		}
		if !slices.Equal(l.Train.Classes, []string{"not_smiling", "smiling"}) || !slices.Equal(l.Train.SampleShape(), []int{28, 28, 1}) {
			t.Errorf("%s: classes %v shape %v", name, l.Train.Classes, l.Train.SampleShape())
		}
		if l.Preprocess.Interpolation != data.Area {
			t.Errorf("%s: preprocess %+v, want area resizing", name, l.Preprocess)
		}
	}
	if _, err := Load(LoadOptions{Dataset: "smiles:", Seed: 1}, []int{28, 28, 1}); err == nil || !strings.Contains(err.Error(), "smiles:PATH") {
		t.Errorf("empty path: %v", err)
	}
	t.Setenv(SmilesEnv, "")
	if _, err := Load(LoadOptions{Dataset: "smiles"}, []int{28, 28, 1}); err == nil || !strings.Contains(err.Error(), SmilesEnv) {
		t.Errorf("no path: %v", err)
	}
	if _, err := Load(LoadOptions{Dataset: "smiles:" + t.TempDir()}, []int{28, 28, 1}); err == nil || !strings.Contains(err.Error(), "not a SMILEsmileD checkout") {
		t.Errorf("wrong folder: %v", err)
	}
}

// TestTrainCustomNet trains a network built by TrainOptions.Net, which
// the model file records under Arch.
func TestTrainCustomNet(t *testing.T) {
	root := miniSmiles(t)
	out := t.TempDir()
	build := func(in []int, classes int, seed uint64) (nn.Model, error) {
		m := nn.NewSequential(nn.NewFlatten(), nn.NewDense(classes), nn.NewSoftmax())
		return m, m.Build(in, seed)
	}
	res, err := Train(TrainOptions{
		Load: LoadOptions{Dataset: "smiles:" + root, Preprocess: smilesTestPre},
		Arch: "tiny", Net: build, Epochs: 2, BatchSize: 4, ClassWeights: true, Out: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Arch != "tiny" || len(res.Model.Net.(*nn.Sequential).Layers()) != 3 || !slices.Equal(res.Model.Net.InputShape(), []int{8, 8, 1}) {
		t.Errorf("arch %s, %d layers, input %v", res.Model.Arch, len(res.Model.Net.(*nn.Sequential).Layers()), res.Model.Net.InputShape())
	}
	// Without a size, a name outside the zoo is an error.
	_, err = Train(TrainOptions{Load: LoadOptions{Dataset: "smiles:" + root}, Arch: "tiny", Net: build, Epochs: 1})
	if err == nil || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("no input size: %v", err)
	}
}
