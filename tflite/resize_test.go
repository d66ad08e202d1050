package tflite

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// Fixtures from PIL 9.4 Image.resize(BILINEAR), made by
// testdata/gen_fixtures.py on a formula image.
func TestResizeBilinearMatchesPIL(t *testing.T) {
	for _, c := range []struct{ W, H, w, h int }{{61, 43, 16, 16}, {61, 43, 24, 9}, {20, 13, 50, 30}} {
		src := &RGB{W: c.W, H: c.H, Pix: make([]uint8, c.W*c.H*3)}
		for y := 0; y < c.H; y++ {
			for x := 0; x < c.W; x++ {
				for ch := 0; ch < 3; ch++ {
					src.Pix[(y*c.W+x)*3+ch] = uint8((x*37 + y*91 + ch*53 + ((x*y)%17)*13) % 256)
				}
			}
		}
		want, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("resize_%dx%d_to_%dx%d.rgb", c.W, c.H, c.w, c.h)))
		if err != nil {
			t.Fatal(err)
		}
		got := ResizeBilinear(src, c.w, c.h)
		if got.W != c.w || got.H != c.h || !bytes.Equal(got.Pix, want) {
			diff := 0
			for i := range want {
				if i < len(got.Pix) && got.Pix[i] != want[i] {
					diff++
				}
			}
			t.Errorf("%+v: %d of %d bytes differ from PIL", c, diff, len(want))
		}
	}
}

// The fast conversions agree with the generic color-model path.
func TestToRGBFastPaths(t *testing.T) {
	r := image.Rect(1, 2, 8, 7)
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		// The last rectangle has rows enough to be split over threads.
		for _, rect := range []image.Rectangle{r, image.Rect(-3, -1, 10, 6), image.Rect(3, 1, 40, 70)} {
			ycc := image.NewYCbCr(rect, ratio)
			for i := range ycc.Y {
				ycc.Y[i] = uint8(i * 7)
			}
			for i := range ycc.Cb {
				ycc.Cb[i], ycc.Cr[i] = uint8(i*13), uint8(255-i*11)
			}
			imgs = append(imgs, ycc, ycc.SubImage(image.Rect(rect.Min.X+1, rect.Min.Y+1, rect.Max.X-1, rect.Max.Y)))
		}
	}
	nrgba := image.NewNRGBA(r)
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(i * 3)
	}
	for _, img := range append(imgs, nrgba) {
		got := ToRGB(img)
		want := ToRGB(struct{ image.Image }{img}) // hides the concrete type
		if b := img.Bounds(); !bytes.Equal(got.Pix, want.Pix) || got.W != b.Dx() || got.H != b.Dy() {
			t.Errorf("%T %v: fast path differs from generic", img, b)
		}
	}
}
