package detect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func uniformGray(w, h int, v uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = v
	}
	return g
}

func faceCascade(t *testing.T) *Cascade {
	return sharedCascade(t, "haarcascade_frontalface_default.xml")
}

func TestNoFacesInTrivialImages(t *testing.T) {
	c, err := ParseCascade([]byte(tinyCascade))
	if err != nil {
		t.Fatal(err)
	}
	for _, cc := range []*Cascade{c, nil} {
		if cc == nil {
			cc = faceCascade(t)
		}
		for name, img := range map[string]image.Image{
			"empty":         image.NewGray(image.Rect(0, 0, 0, 0)),
			"tiny":          uniformGray(3, 2, 77),
			"one row":       uniformGray(500, 1, 200),
			"uniform":       uniformGray(120, 90, 128),
			"uniform black": image.NewRGBA(image.Rect(0, 0, 64, 64)),
		} {
			for _, mn := range []int{-1, 0} {
				got, err := cc.Detect(img, Options{MinNeighbors: mn})
				if err != nil || len(got) != 0 {
					t.Errorf("%s (neighbours %d): %v, %v", name, mn, got, err)
				}
			}
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	c, _ := ParseCascade([]byte(tinyCascade))
	img := uniformGray(10, 10, 1)
	for _, o := range []Options{{ScaleFactor: 1}, {ScaleFactor: 0.5}, {ScaleFactor: -2}, {MinSize: -1}} {
		if _, err := c.Detect(img, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := c.Detect(nil, Options{}); err == nil {
		t.Error("nil image: no error")
	}
}

func TestScales(t *testing.T) {
	c := &Cascade{Width: 24, Height: 24}
	sc := c.scales(100, 60, Options{ScaleFactor: 1.5})
	// windows 24, 36, 54 fit in 60; 81 does not.
	if want := []float32{1, 1.5, 2.25}; !slices.Equal(sc, want) {
		t.Errorf("scales %v, want %v", sc, want)
	}
	sc = c.scales(100, 60, Options{ScaleFactor: 1.5, MinSize: 30, MaxSize: 50})
	if want := []float32{1.5}; !slices.Equal(sc, want) {
		t.Errorf("min 30 max 50: scales %v, want %v", sc, want)
	}
}

// TestTinyCascadeByHand checks the evaluation of one window against
// values worked out from the definitions.
func TestTinyCascadeByHand(t *testing.T) {
	c, _ := ParseCascade([]byte(tinyCascade))
	// 5x5 image: the left half bright, so feature 0 (whole window -1,
	// left half +2) is positive.
	g := uniformGray(5, 5, 10)
	for y := 0; y < 5; y++ {
		g.Pix[y*5], g.Pix[y*5+1] = 200, 200
	}
	lv := c.prepare(g, 1)
	if lv.workW != 2 || lv.workH != 2 || lv.step != 2 {
		t.Fatalf("work %dx%d step %d", lv.workW, lv.workH, lv.step)
	}
	// Window (0,0): inner 2x2 is [200 10; 200 10]: mean 105, sd 95,
	// nf = sqrt(4*sum(x^2) - sum^2) = 4*95 = 380.
	// feature 0 = -1*(8*200+8*10) + 2*(8*200) = 1520 -> 1520/380 = 4 >= 0.01: +0.5.
	// Tilted feature 1: both rects hold pixels of value 10 only.
	v0 := lv.feats[0].calc(lv.sum, lv.tilt, 0) / 380
	if v0 != 4 {
		t.Errorf("feature 0 = %v, want 4", v0)
	}
	if r := c.runAt(lv, 0, 0); r != 1 {
		t.Errorf("window (0,0): %d, want accepted", r)
	}
}

// treeCascade is tinyCascade with one stage holding a single two-node
// tree over feature 0: value < 0.01 gives -1; else value < thr gives +1,
// else -1. The stage threshold is 0.
func treeCascade(thr float64) string {
	start := strings.Index(tinyCascade, "<stageThreshold>")
	end := strings.Index(tinyCascade, "</weakClassifiers>")
	stage := fmt.Sprintf(`<stageThreshold>0</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 1 0 1.0e-02
            -1 -2 0 %g</internalNodes>
          <leafValues>-1. 1. -1.</leafValues></_>`, thr)
	return tinyCascade[:start] + stage + tinyCascade[end:]
}

func TestTreeCascade(t *testing.T) {
	g := uniformGray(5, 5, 10)
	for y := 0; y < 5; y++ {
		g.Pix[y*5], g.Pix[y*5+1] = 200, 200
	}
	// Feature 0 is 4 in window (0,0) (see TestTinyCascadeByHand).
	for _, tc := range []struct {
		thr  float64
		want int
	}{{5, 1}, {3, 0}} {
		c, err := ParseCascade([]byte(treeCascade(tc.thr)))
		if err != nil {
			t.Fatal(err)
		}
		if c.stumps {
			t.Fatal("parsed as stumps")
		}
		if r := c.runAt(c.prepare(g, 1), 0, 0); r != tc.want {
			t.Errorf("threshold %v: runAt = %d, want %d", tc.thr, r, tc.want)
		}
	}
}

func TestTiltedIntegralByDefinition(t *testing.T) {
	w, h := 7, 6
	pix := make([]uint8, w*h)
	for i := range pix {
		pix[i] = uint8(i*31 + 7)
	}
	got := make([]int32, (w+1)*(h+1))
	tiltedIntegral(pix, w, h, w, got)
	for Y := 0; Y <= h; Y++ {
		for X := 0; X <= w; X++ {
			var want int32
			for y := 0; y < Y; y++ {
				for x := 0; x < w; x++ {
					if d := x - X + 1; d <= Y-1-y && -d <= Y-1-y {
						want += int32(pix[y*w+x])
					}
				}
			}
			if got[Y*(w+1)+X] != want {
				t.Fatalf("tilted(%d,%d) = %d, want %d", X, Y, got[Y*(w+1)+X], want)
			}
		}
	}
}

func TestGrayModels(t *testing.T) {
	// The same picture in several color models must give the same gray.
	rgba := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 13)
		if i%4 == 3 {
			rgba.Pix[i] = 255
		}
	}
	want := Gray(rgba)
	g16 := image.NewGray16(rgba.Rect)
	pal := image.NewPaletted(rgba.Rect, palette.WebSafe)
	r64 := image.NewRGBA64(rgba.Rect)
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			c := rgba.RGBAAt(x, y)
			r64.Set(x, y, c)
			g16.SetGray16(x, y, color.Gray16{Y: uint16(want.GrayAt(x, y).Y) * 0x101})
		}
	}
	if got := Gray(r64); !slices.Equal(got.Pix, want.Pix) {
		t.Errorf("RGBA64 gray differs")
	}
	if got := Gray(g16); !slices.Equal(got.Pix, want.Pix) {
		t.Errorf("Gray16 gray differs")
	}
	// Paletted and CMYK are lossy: just check they convert and stay close.
	for name, img := range map[string]image.Image{"paletted": pal, "cmyk": image.NewCMYK(rgba.Rect)} {
		if g := Gray(img); g.Rect != want.Rect {
			t.Errorf("%s: bounds %v", name, g.Rect)
		}
	}
	// A sub-image keeps its own origin.
	sub := rgba.SubImage(image.Rect(3, 2, 9, 7))
	if g := Gray(sub); g.Rect != image.Rect(0, 0, 6, 5) || g.GrayAt(0, 0) != want.GrayAt(3, 2) {
		t.Errorf("sub-image gray %v %v", g.Rect, g.GrayAt(0, 0))
	}
}

// TestModelsAndOffsets runs the detector on grace_hopper in other color
// models and at an offset origin: the face must be the same.
func TestModelsAndOffsets(t *testing.T) {
	c := faceCascade(t)
	img, err := ReadImage(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Detect(img, Options{MinSize: 100})
	if err != nil || len(want) != 1 {
		t.Fatalf("faces %v err %v", want, err)
	}
	g := Gray(img)
	g16 := image.NewGray16(g.Rect)
	cmyk := image.NewCMYK(g.Rect)
	for i, v := range g.Pix {
		g16.Pix[2*i], g16.Pix[2*i+1] = v, 0x80
		cmyk.Pix[4*i+3] = 255 - v
	}
	shifted := image.NewGray(g.Rect.Add(image.Pt(-40, 25)))
	copy(shifted.Pix, g.Pix)
	for name, tc := range map[string]struct {
		img   image.Image
		shift image.Point
	}{
		"gray": {g, image.Point{}}, "gray16": {g16, image.Point{}}, "cmyk": {cmyk, image.Point{}},
		"offset origin": {shifted, image.Pt(-40, 25)},
	} {
		got, err := c.Detect(tc.img, Options{MinSize: 100, Workers: 2})
		if err != nil || len(got) != 1 || iou(got[0].Sub(tc.shift), want[0]) < 0.8 {
			t.Errorf("%s: %v (want %v) err %v", name, got, want, err)
		}
	}
}

func TestWorkersGiveSameResult(t *testing.T) {
	c := sharedCascade(t, "haarcascade_eye.xml")
	img, err := ReadImage(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{MinNeighbors: -1, MinSize: 24, Workers: 1}
	one, _ := c.Detect(img, opt)
	if len(one) < 5 {
		t.Fatalf("only %d raw windows", len(one))
	}
	for _, w := range []int{2, 3, 8} {
		opt.Workers = w
		got, _ := c.Detect(img, opt)
		if !slices.Equal(got, one) {
			t.Errorf("%d workers: %d windows, 1 worker %d (or different order)", w, len(got), len(one))
		}
	}
}

func TestGroupRectangles(t *testing.T) {
	r := func(x, y, s int) image.Rectangle { return image.Rect(x, y, x+s, y+s) }
	in := []image.Rectangle{
		r(10, 10, 50), r(12, 11, 50), r(9, 10, 52), r(11, 12, 48), // group A, 4 members
		r(200, 200, 30), r(201, 200, 30), // group B, 2 members
		r(20, 20, 20), r(20, 21, 20), r(21, 20, 20), r(20, 20, 21), // inside A, 4 members
	}
	got := GroupRectangles(in, 1, 0.2)
	// A: mean x (10+12+9+11)/4 = 10.5 -> 10 (half to even), y 10.75 -> 11,
	// size 50. B kept with 2 > 1. The small group lies inside A, which
	// has as many members (4 > max(3,4) is false), so it stays too.
	want := []Detection{{r(10, 11, 50), 4}, {image.Rect(200, 200, 230, 230), 2}, {image.Rect(20, 20, 40, 40), 4}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// With a fifth member, A outweighs the inner group, which is dropped.
	got = GroupRectangles(append(in, r(10, 10, 50)), 1, 0.2)
	if len(got) != 2 || got[0].Neighbors != 5 {
		t.Errorf("got %v", got)
	}
	if got := GroupRectangles(in, 4, 0.2); len(got) != 0 {
		t.Errorf("threshold 4: %v", got)
	}
	if got := GroupRectangles(in, 0, 0.2); len(got) != len(in) {
		t.Errorf("threshold 0 must return the input: %v", got)
	}
}

func TestReadImageErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not an image"), 0o644)
	if _, err := ReadImage(text); err == nil || !strings.Contains(err.Error(), "not a readable image") {
		t.Errorf("text file: %v", err)
	}
	if _, err := ReadImage(filepath.Join(dir, "missing.png")); err == nil {
		t.Error("missing file: no error")
	}
	// A PNG header claiming 100000x100000 pixels is refused before decoding.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29])) // IHDR checksum
	huge := filepath.Join(dir, "huge.png")
	os.WriteFile(huge, b, 0o644)
	if _, err := ReadImage(huge); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("huge image: %v", err)
	}
	// Truncated PNG: header fine, pixels missing.
	buf.Reset()
	png.Encode(&buf, uniformGray(50, 50, 3))
	cut := filepath.Join(dir, "cut.png")
	os.WriteFile(cut, buf.Bytes()[:buf.Len()/2], 0o644)
	if _, err := ReadImage(cut); err == nil {
		t.Error("truncated PNG: no error")
	}
}
