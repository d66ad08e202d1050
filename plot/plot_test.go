package plot

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPNG decodes path, checks its size and that it has some dark pixels
// (text, lines) and some coloured ones, i.e. that it is not blank.
func checkPNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: size %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	dark, coloured := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0x4000 && g < 0x4000 && bl < 0x4000 {
				dark++
			}
			if max(r, g, bl)-min(r, g, bl) > 0x4000 {
				coloured++
			}
		}
	}
	if dark < 500 || coloured < 500 {
		t.Errorf("%s looks blank: %d dark and %d coloured pixels", path, dark, coloured)
	}
	return img
}

func TestTrainingCurves(t *testing.T) {
	h := History{}
	for e := 1; e <= 20; e++ {
		h.Epochs = append(h.Epochs, e)
		h.Loss = append(h.Loss, 1/float64(e))
		h.ValLoss = append(h.ValLoss, 1.2/float64(e)+0.05)
		h.Acc = append(h.Acc, 1-0.5/float64(e))
		h.ValAcc = append(h.ValAcc, 0.95-0.5/float64(e))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "curves.png")
	if err := TrainingCurves(h, path, ""); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, CurvesWidth, CurvesHeight)
	if out := os.Getenv("DLCV_PLOT_OUT"); out != "" { // to look at the result
		_ = TrainingCurves(h, filepath.Join(out, "curves.png"), "")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestTrainingCurvesErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.png")
	if err := TrainingCurves(History{}, path, "x"); err == nil {
		t.Error("empty history accepted")
	}
	err := TrainingCurves(History{Epochs: []int{1, 2}, Loss: []float64{1}}, path, "x")
	if err == nil || !strings.Contains(err.Error(), "train_loss has 1 values for 2 epochs") {
		t.Errorf("short series: %v", err)
	}
	if err := TrainingCurves(History{Epochs: []int{1}, Loss: []float64{1}}, filepath.Join(t.TempDir(), "no", "dir.png"), ""); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestConfusionHeatmap(t *testing.T) {
	cm := [][]int{{950, 30, 20}, {40, 900, 60}, {5, 15, 980}}
	path := filepath.Join(t.TempDir(), "cm.png")
	if err := ConfusionHeatmap(cm, []string{"cats", "dogs", "panda"}, path); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, HeatmapSize, HeatmapSize)
	// the plot area's centre (the middle cell, 900) is dark blue.
	r, g, b, _ := img.At(HeatmapSize/2+20, HeatmapSize/2-20).RGBA()
	if !(b > r+0x4000 && b > g) {
		t.Errorf("centre cell colour %x %x %x is not blue", r, g, b)
	}
	if out := os.Getenv("DLCV_PLOT_OUT"); out != "" {
		_ = ConfusionHeatmap(cm, []string{"cats", "dogs", "panda"}, filepath.Join(out, "cm.png"))
	}
	if err := ConfusionHeatmap([][]int{{1, 2}, {3}}, []string{"a", "b"}, path); err == nil {
		t.Error("ragged matrix accepted")
	}
	if err := ConfusionHeatmap(cm, []string{"a"}, path); err == nil {
		t.Error("wrong name count accepted")
	}
}

// The axes are labelled at round steps, about ten of them; epochs are
// whole numbers.
func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		integer bool
		want    string
	}{
		{0, 1.25, false, "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 1.1 1.2"},
		{0, 2.3, false, "0.00 0.25 0.50 0.75 1.00 1.25 1.50 1.75 2.00 2.25"},
		{0, 0.8, false, "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8"},
		{1, 20, true, "2 4 6 8 10 12 14 16 18 20"},
		{0, 2, true, "0 1 2"},
		{1, 100, true, "10 20 30 40 50 60 70 80 90 100"},
	} {
		var got []string
		for _, tk := range niceTicks(c.lo, c.hi, c.integer) {
			got = append(got, tk.Label)
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("ticks %v..%v: %s, want %s", c.lo, c.hi, g, c.want)
		}
	}
}

// A one-epoch run still draws its points.
func TestTrainingCurvesOneEpoch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.png")
	h := History{Epochs: []int{1}, Loss: []float64{0.8}, Acc: []float64{0.7}, ValLoss: []float64{0.6}, ValAcc: []float64{0.75}}
	if err := TrainingCurves(h, path, ""); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, CurvesWidth, CurvesHeight)
}
