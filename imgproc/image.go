package imgproc

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register decoders for Load
	_ "image/jpeg"
	"image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// MaxPixels bounds the images Load decodes (guard against decompression
// bombs: a tiny file that claims a huge size).
const MaxPixels = 1 << 26

// Load decodes a JPEG, PNG, GIF, BMP, TIFF or WebP file. The header is
// checked first: a file that is not an image, or claims more than
// MaxPixels pixels, is refused before any pixel is decoded.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode is Load for an already opened file; name is used in errors.
func Decode(r io.ReadSeeker, name string) (img image.Image, err error) {
	// A decoder bug on a corrupt file must not take the program down.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%s: corrupt image (decoder failed: %v)", name, p)
		}
	}()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, fmt.Errorf("%s: not an image in a known format (JPEG, PNG, GIF, BMP, TIFF, WebP)", name)
		}
		return nil, fmt.Errorf("%s: bad image header: %v", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: %s image has size %dx%d", name, format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%s: %s image is %dx%d, more than the %d-pixel limit", name, format, cfg.Width, cfg.Height, MaxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	img, _, err = image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %v", name, format, err)
	}
	return img, nil
}

// RGBPlanes returns the 8-bit red, green and blue values of img as planes
// (alpha is ignored: premultiplied colours are un-premultiplied).
func RGBPlanes(img image.Image) (r, g, b Plane) {
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	r, g, b = NewPlane(w, h), NewPlane(w, h), NewPlane(w, h)
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(bd.Min.X+x, bd.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			r.Pix[i], g.Pix[i], b.Pix[i] = float32(c.R), float32(c.G), float32(c.B)
		}
	}
	return r, g, b
}

// GrayValue converts one 8-bit RGB pixel to gray exactly as OpenCV's
// cvtColor(COLOR_RGB2GRAY) does for 8-bit images: weights 0.299, 0.587,
// 0.114 in 15-bit fixed point (summing to exactly 1), rounded.
func GrayValue(r, g, b uint8) uint8 {
	const shift = 15
	const cr, cg, cb = 9798, 19235, 3735 // 0.299, 0.587, 0.114 * 2^15
	return uint8((int(r)*cr + int(g)*cg + int(b)*cb + 1<<(shift-1)) >> shift)
}

// GrayPlane returns img converted to 8-bit gray (GrayValue) as a plane.
func GrayPlane(img image.Image) Plane {
	r, g, b := RGBPlanes(img)
	p := NewPlane(r.W, r.H)
	for i := range p.Pix {
		p.Pix[i] = float32(GrayValue(uint8(r.Pix[i]), uint8(g.Pix[i]), uint8(b.Pix[i])))
	}
	return p
}

// SavePNG writes img to path as PNG.
func SavePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %v", path, err)
	}
	return f.Close()
}
