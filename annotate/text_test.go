package annotate

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

var (
	textOnce sync.Once
	textDet  *Text
	textErr  error
)

func sharedText(t testing.TB) *Text {
	dir := testutil.SharedFile(t, "models/onnx/paddleocr")
	textOnce.Do(func() { textDet, textErr = LoadText(dir) })
	if textErr != nil {
		t.Fatal(textErr)
	}
	return textDet
}

// textImage draws lines of black text on white, the 7x13 bitmap font
// scaled up `scale` times (nearest), with margins.
func textImage(lines []string, scale int) *image.RGBA {
	w := 0
	for _, l := range lines {
		w = max(w, font.MeasureString(basicfont.Face7x13, l).Ceil())
	}
	small := image.NewRGBA(image.Rect(0, 0, w+16, 20*len(lines)+12))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
	for i, l := range lines {
		d := font.Drawer{Dst: small, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(8, 18+20*i)}
		d.DrawString(l)
	}
	b := small.Bounds()
	big := image.NewRGBA(image.Rect(0, 0, b.Dx()*scale, b.Dy()*scale))
	for y := range big.Bounds().Dy() {
		for x := range big.Bounds().Dx() {
			big.Set(x, y, small.At(x/scale, y/scale))
		}
	}
	return big
}

// PP-OCRv4 reads rendered text: two lines, in order, each with a box
// inside the image, and the whole text first.
func TestTextDetection(t *testing.T) {
	tx := sharedText(t)
	img := textImage([]string{"OPEN SOURCE", "dlcv 2026"}, 4)
	anns, text, err := tx.Detect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%q %+v", text, anns)
	norm := strings.ToUpper(strings.ReplaceAll(text, " ", ""))
	if norm != "OPENSOURCE\nDLCV2026" {
		t.Fatalf("read %q", text)
	}
	if len(anns) < 3 || anns[0].Description != text {
		t.Fatalf("annotations %+v", anns)
	}
	for _, a := range anns {
		if r := polyRect(a.BoundingPoly); !r.In(img.Bounds()) || r.Dx() < 10 {
			t.Errorf("box %v of %q", r, a.Description)
		}
	}
	// No text: nothing.
	blank := image.NewRGBA(image.Rect(0, 0, 200, 100))
	draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
	if anns, text, err := tx.Detect(context.Background(), blank); err != nil || text != "" || anns != nil {
		t.Errorf("blank: %v %q %+v", err, text, anns)
	}
}
