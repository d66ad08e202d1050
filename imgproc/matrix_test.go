package imgproc

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustMatrix(t *testing.T, s string) Matrix {
	t.Helper()
	m, err := ReadMatrix(strings.NewReader(s), "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func formatted(t *testing.T, m Matrix) string {
	var b bytes.Buffer
	if err := WriteMatrix(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The worked example of docs/convolution.md: 5x5 input, 3x3 kernel,
// stride 2, padding 1 -> floor((5 - 3 + 2)/2) + 1 = 3.
func TestConvMatrixWorkedExample(t *testing.T) {
	in := mustMatrix(t, "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15\n16 17 18 19 20\n21 22 23 24 25\n")
	k, _ := Named("laplacian")
	out, err := ConvMatrix(in, k, 2, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	// Output (1,1) is centred on input 13: 8+12+14+18-4*13 = 0; output
	// (0,0) on input 1 with zero padding: 2+6-4*1 = 4.
	want := "  4   2  -6\n-10   0 -16\n-46 -28 -56\n"
	if got := formatted(t, out); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	if e := Explain(in, k, 2, 1); !strings.Contains(e, "floor((5 - 3 + 2*1)/2) + 1 = 3") {
		t.Errorf("explain: %s", e)
	}
	// Valid (P=0, S=1) sobel-x on a ramp: every output is 8.
	ramp := mustMatrix(t, "0 1 2 3\n0 1 2 3\n0 1 2 3\n")
	sx, _ := Named("sobel-x")
	out, _ = ConvMatrix(ramp, sx, 1, 0, false)
	if got := formatted(t, out); got != "8 8\n" {
		t.Errorf("sobel-x ramp: %q", got)
	}
	out, _ = ConvMatrix(ramp, sx, 1, 0, true)
	if got := formatted(t, out); got != "-8 -8\n" {
		t.Errorf("flipped sobel-x ramp: %q", got)
	}
	half := mustMatrix(t, "1 2\n")
	out, _ = ConvMatrix(half, Kernel{Name: "h", W: 1, H: 1, Data: []float64{0.25}}, 1, 0, false)
	if got := formatted(t, out); got != "0.25  0.5\n" {
		t.Errorf("fractions: %q", got)
	}
}

func TestMatrixErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty matrix"},
		{"\n  \n# only a comment\n", "empty matrix"},
		{"1 2 3\n4 5\n", "ragged matrix"},
		{"1 2 x\n", `"x" is not a number`},
		{"1 NaN\n", "not a finite number"},
		{"1 2\n3 Inf\n", "not a finite number"},
	} {
		_, err := ReadMatrix(strings.NewReader(c.in), "m.txt")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m.txt") {
			t.Errorf("ReadMatrix(%q): %v, want %q", c.in, err, c.want)
		}
	}
	m := mustMatrix(t, "1 2 3\n4 5 6\n")
	k3, _ := Named("sharpen")
	for _, c := range []struct {
		s, p int
		want string
	}{
		{0, 0, "stride 0"}, {-1, 0, "stride -1"}, {1, -1, "padding -1"}, {1, 0, "larger than the padded input"},
	} {
		_, err := ConvMatrix(m, k3, c.s, c.p, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("stride %d padding %d: %v, want %q", c.s, c.p, err, c.want)
		}
	}
	if _, err := ConvMatrix(m, k3, 1, 1, false); err != nil {
		t.Errorf("padding 1 should fit: %v", err)
	}
}

func TestParseKernel(t *testing.T) {
	k, err := ParseKernel("flag", strings.NewReader("0 -1 0; -1 5 -1; 0,-1,0"))
	if err != nil || k.W != 3 || k.H != 3 || k.At(1, 1) != 5 {
		t.Fatalf("%+v %v", k, err)
	}
	for _, bad := range []string{"", ";", "1 2; 3", "1 2\n3 4 5", "a"} {
		if _, err := ParseKernel("flag", strings.NewReader(bad)); err == nil {
			t.Errorf("ParseKernel(%q): no error", bad)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("hello, not an image\n"), 0o644)
	if _, err := Load(txt); err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Errorf("text file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.png")); err == nil {
		t.Error("missing file: no error")
	}
	// A PNG whose header claims 100000 x 100000 pixels: refused from the
	// header, before decoding anything.
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	data := b.Bytes()
	put := func(off int, v uint32) {
		data[off], data[off+1], data[off+2], data[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, 100000)
	put(20, 100000)
	put(29, crc32.ChecksumIEEE(data[12:29])) // IHDR checksum
	bomb := filepath.Join(dir, "bomb.png")
	os.WriteFile(bomb, data, 0o644)
	if _, err := Load(bomb); err == nil || !strings.Contains(err.Error(), "pixel limit") {
		t.Errorf("bomb: %v", err)
	}
	// Truncated image: error, not panic.
	var full bytes.Buffer
	png.Encode(&full, image.NewRGBA(image.Rect(0, 0, 40, 30)))
	trunc := filepath.Join(dir, "trunc.png")
	os.WriteFile(trunc, full.Bytes()[:full.Len()/2], 0o644)
	if _, err := Load(trunc); err == nil {
		t.Error("truncated png: no error")
	}
}

func TestPixelMatrix(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 14, 23)) // non-zero origin
	for y := 20; y < 23; y++ {
		for x := 10; x < 14; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	m, err := PixelMatrix(img, image.Rect(1, 1, 3, 3), Red)
	if err != nil || formatted(t, m) != "11 12\n11 12\n" {
		t.Fatalf("red: %v %q", err, formatted(t, m))
	}
	m, _ = PixelMatrix(img, image.Rect(0, 0, 1, 1), Gray)
	if want := float64(GrayValue(10, 20, 200)); m.Data[0] != want {
		t.Errorf("gray %v, want %v", m.Data[0], want)
	}
	if _, err := PixelMatrix(img, image.Rect(2, 0, 6, 1), Gray); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("outside region: %v", err)
	}
	if GrayValue(255, 255, 255) != 255 || GrayValue(0, 0, 0) != 0 {
		t.Error("gray of white/black")
	}
	for _, bad := range []string{"1,2,3", "a,b,c,d", "0,0,0,1", "-1,0,2,2", "1,2,3,4,5"} {
		if _, err := ParseRegion(bad); err == nil {
			t.Errorf("ParseRegion(%q): no error", bad)
		}
	}
	if r, err := ParseRegion("3,4,5,6"); err != nil || r != image.Rect(3, 4, 8, 10) {
		t.Errorf("ParseRegion: %v %v", r, err)
	}
}

func TestContactSheet(t *testing.T) {
	a := image.NewGray(image.Rect(0, 0, 600, 300))
	b := image.NewGray(image.Rect(0, 0, 50, 40))
	s := ContactSheet([]Tile{{"original", a}, {"sharpen", b}, {"x", b}}, 2, 200)
	// cell 200 wide (a scaled to 200x100), 2 columns, 2 rows.
	if got := s.Bounds(); got.Dx() != 8+2*208 || got.Dy() != 8+2*(100+18+8) {
		t.Fatalf("sheet %v", got)
	}
	// The label is drawn: some dark pixel in the label strip under tile 1.
	dark := false
	for y := 8 + 100; y < 8+100+18; y++ {
		for x := 8; x < 8+80; x++ {
			if r, _, _, _ := s.At(x, y).RGBA(); r < 0x8000 {
				dark = true
			}
		}
	}
	if !dark {
		t.Error("no label text drawn")
	}
}

func FuzzReadMatrix(f *testing.F) {
	for _, s := range []string{"1 2\n3 4\n", "", "1 2\n3\n", "# c\n1e3 -2.5\n", "0x10 1_0", "1 2 3\r\n4 5 6\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ReadMatrix(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		if m.Rows*m.Cols != len(m.Data) || m.Rows == 0 || m.Cols == 0 {
			t.Fatalf("bad matrix %dx%d with %d values", m.Rows, m.Cols, len(m.Data))
		}
		// Printing and reading back gives the same shape.
		var b bytes.Buffer
		WriteMatrix(&b, m)
		m2, err := ReadMatrix(&b, "again")
		if err != nil || m2.Rows != m.Rows || m2.Cols != m.Cols {
			t.Fatalf("round trip: %v %dx%d", err, m2.Rows, m2.Cols)
		}
		k := Kernel{Name: "k", W: 2, H: 2, Data: []float64{1, 0, 0, -1}}
		ConvMatrix(m, k, 1, 1, false)
	})
}

func FuzzParseKernel(f *testing.F) {
	for _, s := range []string{"0 -1 0; -1 5 -1; 0 -1 0", "1,2\n3,4", ";;", "1 2; 3", "#x\n7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKernel("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("parsed kernel invalid: %v", err)
		}
		if k.W*k.H > 4096 {
			return
		}
		if _, err := Filter2D(NewPlane(5, 4), k, Options{}); err != nil {
			t.Fatalf("filter: %v", err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 2)))
	f.Add(b.Bytes())
	f.Add([]byte("BM\x00\x00"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > MaxPixels || b.Empty() {
			t.Fatalf("decoded %v", b)
		}
	})
}
