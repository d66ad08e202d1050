package data

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// tinyWebP is a 1x1 lossless WebP (no encoder exists in Go's libraries).
const tinyWebP = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

func solid(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func encode(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch filepath.Ext(path) {
	case ".png":
		err = png.Encode(&b, img)
	case ".jpg", ".JPG":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case ".gif":
		err = gif.Encode(&b, img, nil)
	case ".bmp":
		err = bmp.Encode(&b, img)
	case ".tiff":
		err = tiff.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder builds root/{dark,light,gray} with images of every format,
// one corrupt JPEG and some files to ignore.
func makeFolder(t *testing.T) string {
	root := t.TempDir()
	dark, light := color.RGBA{10, 10, 10, 255}, color.RGBA{240, 240, 240, 255}
	encode(t, filepath.Join(root, "light", "a.png"), solid(16, 12, light))
	encode(t, filepath.Join(root, "light", "sub", "b.JPG"), solid(30, 30, light))
	encode(t, filepath.Join(root, "light", "c.gif"), solid(8, 8, light))
	encode(t, filepath.Join(root, "dark", "a.bmp"), solid(9, 7, dark))
	encode(t, filepath.Join(root, "dark", "b.tiff"), image.NewGray(image.Rect(0, 0, 5, 5)))
	encode(t, filepath.Join(root, "dark", ".hidden.png"), solid(5, 5, light))
	webp, _ := base64.StdEncoding.DecodeString(tinyWebP)
	os.MkdirAll(filepath.Join(root, "gray"), 0o755)
	os.WriteFile(filepath.Join(root, "gray", "w.webp"), webp, 0o644)
	os.WriteFile(filepath.Join(root, "gray", "broken.jpg"), []byte("\xff\xd8\xff not really"), 0o644)
	os.WriteFile(filepath.Join(root, "gray", "notes.txt"), []byte("ignored"), 0o644)
	return root
}

func TestLoadImageFolder(t *testing.T) {
	root := makeFolder(t)
	p := Preprocess{Width: 6, Height: 6, Channels: 1}
	if _, _, err := LoadImageFolder(root, LoadOptions{Preprocess: p}); err == nil || !strings.Contains(err.Error(), "broken.jpg") {
		t.Fatalf("corrupt file without SkipBad: %v", err)
	}
	d, skipped, err := LoadImageFolder(root, LoadOptions{Preprocess: p, SkipBad: true, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || !strings.HasSuffix(skipped[0].Path, "broken.jpg") || skipped[0].Reason == "" {
		t.Errorf("skipped %v", skipped)
	}
	if got := strings.Join(d.Classes, ","); got != "dark,gray,light" {
		t.Errorf("classes %s", got)
	}
	if d.Len() != 6 || d.X.Shape[1] != 6 || d.X.Shape[3] != 1 {
		t.Fatalf("%d samples, shape %v", d.Len(), d.X.Shape)
	}
	for i, y := range d.Y {
		v := d.X.Data[i*36+20]
		switch d.Classes[y] {
		case "dark":
			if v > 0.1 {
				t.Errorf("dark sample %d has value %v", i, v)
			}
		case "light":
			if v < 0.9 {
				t.Errorf("light sample %d has value %v", i, v)
			}
		}
	}
	// RGB output of the same folder.
	d3, _, err := LoadImageFolder(root, LoadOptions{Preprocess: Preprocess{Width: 4, Height: 4, Channels: 3}, SkipBad: true})
	if err != nil || d3.X.Shape[3] != 3 {
		t.Fatalf("RGB: %v %v", err, d3.X.Shape)
	}
}

func TestDecodeImagePixelLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.png")
	encode(t, p, solid(100, 50, color.White))
	if _, err := DecodeImage(p, 4999); err == nil || !strings.Contains(err.Error(), "100x50") {
		t.Errorf("limit: %v", err)
	}
	if img, err := DecodeImage(p, 5000); err != nil || img.Bounds().Dx() != 100 {
		t.Errorf("at the limit: %v", err)
	}
}

func TestLoadImagesErrors(t *testing.T) {
	p := Preprocess{Width: 2, Height: 2, Channels: 1}
	if _, _, err := LoadImages([]Sample{{"x.png", 3}}, []string{"a"}, LoadOptions{Preprocess: p}); err == nil {
		t.Error("label 3 of 1 class accepted")
	}
	_, _, err := LoadImages([]Sample{{filepath.Join(t.TempDir(), "nope.png"), 0}}, []string{"a"}, LoadOptions{Preprocess: p})
	if err == nil || !strings.Contains(err.Error(), "nope.png") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := ListImageFolder(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}

func TestLoadSharedAnimals(t *testing.T) {
	root := testutil.SharedFile(t, "data/animals")
	samples, classes, err := ListImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 3 || classes[0] != "cats" || len(samples) != 3000 {
		t.Fatalf("%d samples of %v", len(samples), classes)
	}
	// A few of each class, through the reusable list loader.
	var few []Sample
	for i := 0; i < len(samples); i += 100 {
		few = append(few, samples[i])
	}
	d, skipped, err := LoadImages(few, classes, LoadOptions{Preprocess: Preprocess{Width: 32, Height: 32, Channels: 3, AspectAware: true}})
	if err != nil || len(skipped) != 0 || d.Len() != 30 {
		t.Fatalf("%v, %d skipped, %d loaded", err, len(skipped), d.Len())
	}
	if got := d.ClassCounts(); got[0] != 10 || got[1] != 10 || got[2] != 10 {
		t.Errorf("class counts %v", got)
	}
}

// BenchmarkLoadAnimals decodes and preprocesses the 3,000 animals photos
// (32x32 RGB, aspect-aware, area) on GOMAXPROCS workers.
func BenchmarkLoadAnimals(b *testing.B) {
	root := testutil.SharedFile(b, "data/animals")
	opts := LoadOptions{Preprocess: Preprocess{Width: 32, Height: 32, Channels: 3, AspectAware: true, Interpolation: Area}}
	for b.Loop() {
		if _, _, err := LoadImageFolder(root, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMNIST reads and converts the four gzipped MNIST files.
func BenchmarkLoadMNIST(b *testing.B) {
	var dir string
	for _, d := range mnistModuleDirs() {
		if verifyMNIST(d) == nil {
			dir = d
		}
	}
	if dir == "" {
		b.Skip("GoMNIST module not in the module cache")
	}
	for b.Loop() {
		if _, _, err := LoadMNISTDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeImage feeds arbitrary bytes to the image decoders behind the
// pixel limit, then through preprocessing: errors are fine, panics and
// huge allocations are not.
func FuzzDecodeImage(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, solid(3, 2, color.RGBA{1, 2, 3, 255}))
	f.Add(b.Bytes())
	b.Reset()
	gif.Encode(&b, solid(2, 2, color.White), nil)
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, solid(9, 9, color.Black), nil)
	f.Add(b.Bytes())
	b.Reset()
	bmp.Encode(&b, image.NewGray16(image.Rect(0, 0, 2, 3)))
	f.Add(b.Bytes())
	webp, _ := base64.StdEncoding.DecodeString(tinyWebP)
	f.Add(webp)
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	p := Preprocess{Width: 4, Height: 3, Channels: 3, AspectAware: true, Interpolation: Area}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeImage(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		if _, err := p.Apply(img); err != nil {
			t.Fatalf("decoded %T %v but preprocessing failed: %v", img, img.Bounds(), err)
		}
	})
}
