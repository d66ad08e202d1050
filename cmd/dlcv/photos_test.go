package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Issue 15, defect 3: a 498 KB 16-bit PNG of 8000x8000 drove classify,
// faces and predict to 1.0-1.7 GB, image/png holding it at 8 bytes a
// pixel. They now decode photos to 8 bits a channel, and refuse from the
// header one whose decoded bytes pass the limit.
func TestPhotosDecodeTo8Bits(t *testing.T) {
	const w, h = 1500, 1000
	img := image.NewRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA64(x, y, color.RGBA64{uint16(x * 40), uint16(y * 60), 0x8000, 0xffff})
		}
	}
	path := filepath.Join(t.TempDir(), "deep.png")
	f, _ := os.Create(path)
	png.Encode(f, img)
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := loadPhoto(path)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*image.RGBA); !ok {
		t.Fatalf("decoded to %T, want *image.RGBA", got)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 5*w*h+4<<20 {
		t.Fatalf("decoding allocated %.1f bytes a pixel, want about 4", float64(n)/(w*h))
	}
	saved := photoLimits
	defer func() { photoLimits = saved }()
	photoLimits.MaxBytes = 4*w*h - 1
	if _, err := loadPhoto(path); err == nil || !strings.Contains(err.Error(), "deep.png") || !strings.Contains(err.Error(), "over the limit of 5999999 bytes") {
		t.Fatalf("over the bytes limit: %v", err)
	}
}

func TestPhotoArgs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.PNG", "a.jpg", "notes.txt", "sub/c.bmp"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := photoArgs([]string{"missing.jpg", dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"missing.jpg", filepath.Join(dir, "a.jpg"), filepath.Join(dir, "b.PNG"), filepath.Join(dir, "sub", "c.bmp")}
	if !slices.Equal(got, want) {
		t.Fatalf("photoArgs = %q, want %q", got, want)
	}
	empty := filepath.Join(dir, "sub2")
	os.Mkdir(empty, 0o755)
	if _, err := photoArgs([]string{empty}); err == nil || !strings.Contains(err.Error(), "no image files") {
		t.Fatalf("empty folder: err = %v", err)
	}
}
