package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color/palette"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/testutil"
)

// facesSetup returns the shared frontal face cascade and grace_hopper.bmp
// (one frontal face, which OpenCV finds at x=152 y=103 w=226 h=226).
func facesSetup(t *testing.T) (cascade, photo string) {
	return testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml"),
		testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestFacesText(t *testing.T) {
	cascade, photo := facesSetup(t)
	code, stdout, stderr := runCLI("faces", photo, "--cascade", cascade)
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	want := photo + ": 1 face (512x600)\n  1: x=152 y=103 w=226 h=226 confidence=0.97\n"
	if stdout != want {
		t.Errorf("stdout %q\nwant   %q", stdout, want)
	}
}

func TestFacesJSONAndDirectory(t *testing.T) {
	cascade, photo := facesSetup(t)
	img, err := detect.ReadImage(photo)
	if err != nil {
		t.Fatal(err)
	}
	frames := t.TempDir()
	// Frame 1: the photo as PNG; frame 2: the same as 16-bit gray; frame
	// 3: paletted; frame 4: a blank frame; plus a file that is not an image.
	writeTestPNG(t, filepath.Join(frames, "f1.png"), img)
	g16 := image.NewGray16(img.Bounds())
	draw.Draw(g16, g16.Rect, img, image.Point{}, draw.Src)
	writeTestPNG(t, filepath.Join(frames, "f2.png"), g16)
	pal := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.Draw(pal, pal.Rect, img, image.Point{}, draw.Src)
	writeTestPNG(t, filepath.Join(frames, "f3.png"), pal)
	writeTestPNG(t, filepath.Join(frames, "f4.png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	os.WriteFile(filepath.Join(frames, "notes.txt"), []byte("skipped: not an image extension"), 0o644)
	out := filepath.Join(t.TempDir(), "annotated")

	code, stdout, stderr := runCLI("faces", "--json", frames, "--cascade", cascade, "--out", out, "--threads", "2")
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	var res []facesResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if len(res) != 4 {
		t.Fatalf("%d results: %s", len(res), stdout)
	}
	want := image.Rect(152, 103, 378, 329)
	for i, r := range res[:3] {
		if len(r.Faces) != 1 {
			t.Errorf("frame %d: faces %+v", i+1, r.Faces)
			continue
		}
		v := r.Faces[0].FdBoundingPoly.Vertices
		got := image.Rect(v[0].X, v[0].Y, v[2].X, v[2].Y)
		in := got.Intersect(want)
		iou := float64(in.Dx()*in.Dy()) / float64(got.Dx()*got.Dy()+want.Dx()*want.Dy()-in.Dx()*in.Dy())
		if iou < 0.8 {
			t.Errorf("frame %d: face %v, want about %v", i+1, got, want)
		}
	}
	if len(res[3].Faces) != 0 {
		t.Errorf("blank frame: %+v", res[3].Faces)
	}
	for _, r := range res {
		a, err := os.Open(r.Annotated)
		if err != nil {
			t.Fatalf("annotated copy: %v", err)
		}
		cfg, err := png.DecodeConfig(a)
		a.Close()
		if err != nil || cfg.Width != r.Width || cfg.Height != r.Height {
			t.Errorf("%s: %v %+v", r.Annotated, err, cfg)
		}
	}
}

func TestFacesBadInputs(t *testing.T) {
	cascade, photo := facesSetup(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "fake.jpg")
	os.WriteFile(text, []byte("this is not a JPEG"), 0o644)
	// A PNG whose header claims 100000x100000 pixels.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	huge := filepath.Join(dir, "huge.png")
	os.WriteFile(huge, b, 0o644)

	// Bad photos are reported, the good one is still processed, exit 1.
	code, stdout, stderr := runCLI("faces", text, photo, huge, "--cascade", cascade)
	if code != 1 || !strings.Contains(stdout, "1 face") ||
		!strings.Contains(stderr, "fake.jpg: not a readable image") ||
		!strings.Contains(stderr, "over the limit") || !strings.Contains(stderr, "2 of 3 photos") {
		t.Errorf("code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"faces"}, 2, "at least one PHOTO"},
		{[]string{"faces", photo, "--scale-factor", "1"}, 2, "--scale-factor 1 must be greater than 1"},
		{[]string{"faces", photo, "--min-size", "-3"}, 2, "must not be negative"},
		{[]string{"faces", filepath.Join(dir, "missing.png")}, 1, "missing.png"},
		{[]string{"faces", t.TempDir()}, 1, "holds no images"},
		{[]string{"faces", photo, "--cascade", filepath.Join(dir, "none.xml")}, 1, "apt-get install opencv-data"},
		{[]string{"faces", photo, "--cascade", text}, 1, "fake.jpg"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, _, stderr = runCLI("faces", "--help")
	if code != 0 || !strings.Contains(stderr, "dlcv faces frames/") || !strings.Contains(stderr, "--min-neighbors") {
		t.Errorf("help: code %d %q", code, stderr)
	}
}

func TestFacesRawWindows(t *testing.T) {
	cascade, photo := facesSetup(t)
	// --min-neighbors 0 prints every raw window like OpenCV's minNeighbors=0
	// (38 for this photo with --min-size 0).
	code, stdout, stderr := runCLI("faces", photo, "--cascade", cascade, "--min-neighbors", "0", "--min-size", "0")
	if code != 0 || !strings.Contains(stdout, ": 38 faces") {
		t.Errorf("code %d stdout %s stderr %s", code, stdout, stderr)
	}
}
