package data

import (
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// writeSmilesFace writes a 64x64 grayscale JPEG of constant value v.
func writeSmilesFace(t *testing.T, path string, v uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
}

// fakeSmiles builds a miniature SMILEsmileD checkout with the upstream
// layout, index files and stray files included.
func fakeSmiles(t *testing.T) string {
	root := t.TempDir()
	s := filepath.Join(root, "SMILEs")
	for _, n := range []string{"10.jpg", "2.jpg", "1.jpg"} {
		writeSmilesFace(t, filepath.Join(s, "negatives", "negatives7", n), 40)
	}
	for _, n := range []string{"7.jpg", "300.jpg"} {
		writeSmilesFace(t, filepath.Join(s, "positives", "positives7", n), 200)
	}
	os.WriteFile(filepath.Join(s, "negatives", "smiles_01_neg.idx"), []byte("negatives7/1.jpg\n"), 0o644)
	os.WriteFile(filepath.Join(s, "positives", "positives7", ".DS_Store"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(s, "positives", "positives7", "README.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "README.md"), []byte("SMILEsmileD"), 0o644)
	return root
}

func TestListSmilesLayout(t *testing.T) {
	root := fakeSmiles(t)
	for _, dir := range []string{root, filepath.Join(root, "SMILEs")} {
		if got := SmilesRoot(dir); got != filepath.Join(root, "SMILEs") {
			t.Errorf("SmilesRoot(%s) = %q", dir, got)
		}
		samples, classes, err := ListSmiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(classes, []string{"not_smiling", "smiling"}) {
			t.Errorf("classes %v", classes)
		}
		var got []string
		for _, s := range samples {
			got = append(got, filepath.Base(s.Path)+":"+SmilesClasses[s.Label])
		}
		want := []string{"1.jpg:not_smiling", "2.jpg:not_smiling", "10.jpg:not_smiling", "7.jpg:smiling", "300.jpg:smiling"}
		if !slices.Equal(got, want) {
			t.Errorf("samples %v, want %v", got, want)
		}
	}
	d, skipped, err := LoadSmiles(root, LoadOptions{})
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	if !slices.Equal(d.X.Shape, []int{5, 28, 28, 1}) || !slices.Equal(d.Y, []int{0, 0, 0, 1, 1}) {
		t.Fatalf("shape %v labels %v", d.X.Shape, d.Y)
	}
	// Pixel values survive JPEG and resizing: 40/255 and 200/255.
	if v := d.X.Data[0]; math.Abs(float64(v)-40.0/255) > 0.01 {
		t.Errorf("negative pixel %v", v)
	}
	if v := d.X.Data[4*28*28+100]; math.Abs(float64(v)-200.0/255) > 0.01 {
		t.Errorf("positive pixel %v", v)
	}
	d, _, err = LoadSmiles(root, LoadOptions{Preprocess: Preprocess{Width: 32, Height: 32, Channels: 3}})
	if err != nil || !slices.Equal(d.X.Shape, []int{5, 32, 32, 3}) {
		t.Fatalf("32x32x3: %v %v", err, d.X.Shape)
	}
}

func TestListSmilesErrors(t *testing.T) {
	// A class folder that is missing, or holds no images, is named.
	root := t.TempDir()
	writeSmilesFace(t, filepath.Join(root, "SMILEs", "negatives", "negatives7", "1.jpg"), 0)
	if IsSmilesDir(root) {
		t.Error("a checkout without positives is accepted")
	}
	_, _, err := ListSmiles(root)
	if err == nil || !strings.Contains(err.Error(), "not a SMILEsmileD checkout") || !strings.Contains(err.Error(), "git clone") {
		t.Errorf("missing positives: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "SMILEs", "positives", "positives7"), 0o755)
	_, _, err = ListSmiles(root)
	if err == nil || !strings.Contains(err.Error(), "positives7 holds no images") {
		t.Errorf("empty positives: %v", err)
	}
	// A corrupt JPEG fails the load with its name, or is skipped.
	bad := filepath.Join(root, "SMILEs", "positives", "positives7", "5.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	if _, _, err = LoadSmiles(root, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "5.jpg") {
		t.Errorf("corrupt image: %v", err)
	}
	writeSmilesFace(t, filepath.Join(root, "SMILEs", "positives", "positives7", "6.jpg"), 0)
	d, skipped, err := LoadSmiles(root, LoadOptions{SkipBad: true})
	if err != nil || d.Len() != 2 || len(skipped) != 1 || skipped[0].Path != bad {
		t.Errorf("skip bad: %v %v", err, skipped)
	}
}

// TestSmilesShared loads the real SMILEsmileD checkout: counts, the 80/20
// stratified split and the class weights of the case study.
func TestSmilesShared(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "data", "SMILEsmileD")
	if !IsSmilesDir(dir) {
		t.Skipf("%s is not a SMILEsmileD checkout", dir)
	}
	d, skipped, err := LoadSmiles(dir, LoadOptions{})
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	if got := d.ClassCounts(); !slices.Equal(got, []int{9475, 3690}) {
		t.Fatalf("class counts %v, want [9475 3690]", got)
	}
	tr, te, err := Split(d, 0.2, 42)
	if err != nil {
		t.Fatal(err)
	}
	if got := te.ClassCounts(); !slices.Equal(got, []int{1895, 738}) {
		t.Errorf("test counts %v", got)
	}
	w := ClassWeights(tr.Y, 2)
	// 10532 / (2 * 7580) and 10532 / (2 * 2952).
	if math.Abs(float64(w[0])-0.6947) > 1e-3 || math.Abs(float64(w[1])-1.7839) > 1e-3 {
		t.Errorf("class weights %v", w)
	}
	var lo, hi float32 = 1, 0
	for _, v := range d.X.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < 0 || hi > 1 || hi-lo < 0.5 {
		t.Errorf("pixel range [%v, %v]", lo, hi)
	}
}
