package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/imgproc"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testPNG writes a w x h image: a vertical edge (dark left, bright right)
// in red, a gradient in green.
func testPNG(t *testing.T, dir string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r := uint8(20)
			if x >= w/2 {
				r = 220
			}
			img.Set(x, y, color.RGBA{r, uint8(4 * y), 100, 255})
		}
	}
	p := filepath.Join(dir, "edge.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, img)
	f.Close()
	return p
}

func TestConvolveMatrix(t *testing.T) {
	dir := t.TempDir()
	m := writeFile(t, dir, "m.txt", "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15\n16 17 18 19 20\n21 22 23 24 25\n")
	code, out, errOut := runCLI("convolve", "--matrix", m, "--kernel", "laplacian", "--stride", "2", "--padding", "1")
	if code != 0 || out != "  4   2  -6\n-10   0 -16\n-46 -28 -56\n" {
		t.Fatalf("code %d stdout %q stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "floor((5 - 3 + 2*1)/2) + 1 = 3") {
		t.Errorf("stderr lacks the arithmetic: %q", errOut)
	}
	code, out, _ = runCLI("convolve", "--matrix", m, "--kernel", "laplacian", "--stride", "2", "--padding", "1", "--explain")
	if code != 0 || !strings.Contains(out, "output width  = floor((W - F + 2P)/S) + 1 = floor((5 - 3 + 2*1)/2) + 1 = 3") ||
		!strings.Contains(out, "S(0,0) = -4*1 + 1*2 + 1*6 + 0*7 = 4") || !strings.HasSuffix(out, "-46 -28 -56\n") {
		t.Errorf("explain: %q", out)
	}
	// Valid convolution with a custom kernel file and true convolution.
	k := writeFile(t, dir, "k.txt", "# horizontal difference\n1 -1\n")
	code, out, _ = runCLI("convolve", "--matrix", m, "--kernel-file", k)
	if code != 0 || out != "-1 -1 -1 -1\n-1 -1 -1 -1\n-1 -1 -1 -1\n-1 -1 -1 -1\n-1 -1 -1 -1\n" {
		t.Errorf("kernel file: %d %q", code, out)
	}
	code, out, _ = runCLI("convolve", "--matrix", m, "--kernel-values", "1 -1", "--flip")
	if code != 0 || !strings.HasPrefix(out, "1 1 1 1\n") {
		t.Errorf("flip: %d %q", code, out)
	}
}

func TestConvolveMatrixErrors(t *testing.T) {
	dir := t.TempDir()
	m := writeFile(t, dir, "m.txt", "1 2 3\n4 5 6\n7 8 9\n")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--matrix", writeFile(t, dir, "empty.txt", "\n\n")}, 1, "empty matrix"},
		{[]string{"--matrix", writeFile(t, dir, "ragged.txt", "1 2 3\n4 5\n")}, 1, "ragged matrix"},
		{[]string{"--matrix", m, "--stride", "0"}, 1, "stride 0"},
		{[]string{"--matrix", m, "--padding", "-1"}, 1, "padding -1"},
		{[]string{"--matrix", m, "--kernel", "blur-small"}, 1, "larger than the padded input"},
		{[]string{"--matrix", filepath.Join(dir, "missing.txt")}, 1, "missing.txt"},
		{[]string{"--matrix", m, "--kernel", "sharpen", "--kernel", "laplacian"}, 2, "exactly one kernel"},
		{[]string{"--matrix", m, "--kernel", "nope"}, 2, `unknown kernel "nope"`},
		{[]string{"--matrix", m, "--kernel-values", "1 2; 3"}, 2, "ragged"},
		{[]string{"--matrix", m, "--kernel-file", writeFile(t, dir, "bad.txt", "1 x\n")}, 1, `"x" is not a number`},
	} {
		args := append([]string{"convolve"}, c.args...)
		if !strings.Contains(strings.Join(c.args, " "), "kernel") {
			args = append(args, "--kernel", "sharpen")
		}
		code, _, errOut := runCLI(args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestConvolveImage(t *testing.T) {
	dir := t.TempDir()
	src := testPNG(t, dir, 40, 30)
	out := filepath.Join(dir, "out")
	code, stdout, errOut := runCLI("convolve", src, "--kernel", "sobel-x,identity", "--kernel-values", "0 0 0; 0 2 0; 0 0 0", "--out", out)
	if code != 0 {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
	for _, want := range []string{"sobel-x", "3x3", "direct", "edge_sheet.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q: %s", want, stdout)
		}
	}
	load := func(name string) image.Image {
		img, err := imgproc.Load(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	// Gray of (20, 4y, 100) and (220, 4y, 100); identity returns it exactly.
	id := load("edge_identity.png").(*image.Gray)
	if id.Bounds().Dx() != 40 || id.GrayAt(0, 5).Y != imgproc.GrayValue(20, 20, 100) || id.GrayAt(39, 5).Y != imgproc.GrayValue(220, 20, 100) {
		t.Errorf("identity: %v %v", id.Bounds(), id.GrayAt(0, 5))
	}
	// Sobel-x responds only at the edge (x = 19, 20): the step in rows 9, 10, 11 weighted 1, 2, 1.
	sx := load("edge_sobel-x.png").(*image.Gray)
	step := func(y int) int {
		return int(imgproc.GrayValue(220, uint8(4*y), 100)) - int(imgproc.GrayValue(20, uint8(4*y), 100))
	}
	want := step(9) + 2*step(10) + step(11)
	if int(sx.GrayAt(19, 10).Y) != want || int(sx.GrayAt(20, 10).Y) != want || sx.GrayAt(5, 10).Y != 0 || sx.GrayAt(35, 10).Y != 0 {
		t.Errorf("sobel-x: %v %v %v, want %d at the edge", sx.GrayAt(19, 10), sx.GrayAt(5, 10), sx.GrayAt(35, 10), want)
	}
	// Custom 2x identity: 2*gray clipped.
	cu := load("edge_custom.png").(*image.Gray)
	if g := imgproc.GrayValue(20, 20, 100); cu.GrayAt(0, 5).Y != 2*g {
		t.Errorf("custom: %v, want %d", cu.GrayAt(0, 5), 2*g)
	}
	sheet := load("edge_sheet.png")
	if b := sheet.Bounds(); b.Dx() < 4*40 || b.Dy() < 30 {
		t.Errorf("sheet %v", b)
	}
	// Color with rescale: one min..max (0..220) over R, G, B maps to 0..255.
	code, _, errOut = runCLI("convolve", src, "--kernel", "identity", "--color", "--map", "rescale", "--border", "replicate", "--out", out)
	if code != 0 {
		t.Fatalf("color: %d %q", code, errOut)
	}
	c := load("edge_identity.png").(*image.RGBA)
	if got := c.RGBAAt(5, 10); got != (color.RGBA{23, 46, 116, 255}) { // 20, 40, 100 * 255/220
		t.Errorf("color rescale: %v", got)
	}
}

func TestConvolveImageErrors(t *testing.T) {
	dir := t.TempDir()
	src := testPNG(t, dir, 8, 8)
	txt := writeFile(t, dir, "notes.txt", "not an image")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{txt, "--kernel", "sharpen"}, 1, "not an image"},
		{[]string{src}, 2, "no kernel"},
		{[]string{}, 2, "want one IMAGE"},
		{[]string{src, "--kernel", "sharpen", "--border", "wrap"}, 2, `unknown border "wrap"`},
		{[]string{src, "--kernel", "sharpen", "--map", "log"}, 2, `unknown output mapping "log"`},
		{[]string{src, "--kernel", "gaussian:-2"}, 2, "sigma"},
	} {
		code, _, errOut := runCLI(append([]string{"convolve", "--out", filepath.Join(dir, "o")}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if code, _, errOut := runCLI("convolve", "--help"); code != 0 || !strings.Contains(errOut, "Examples:") {
		t.Errorf("help: %d %q", code, errOut)
	}
}
