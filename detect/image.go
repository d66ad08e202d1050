package detect

import (
	"fmt"
	"image"
	_ "image/gif" // register decoders for ReadImage
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// MaxPixels is the largest image ReadImage decodes (width x height); a
// bigger one is refused from its header, before any pixel memory is used.
const MaxPixels = 64 << 20

// ReadImage decodes a PNG, JPEG, GIF, BMP, TIFF or WebP file, refusing
// images over MaxPixels from their header.
func ReadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable image (PNG, JPEG, GIF, BMP, TIFF, WebP): %v", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: empty %s image (%dx%d)", path, format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%s: %s image is %dx%d = %d pixels, over the limit of %d pixels (%d megapixels); shrink it first",
			path, format, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), MaxPixels, MaxPixels>>20)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %v", path, format, err)
	}
	return img, nil
}
