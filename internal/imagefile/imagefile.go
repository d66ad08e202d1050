// Package imagefile decodes image files to 8 bits per channel and says,
// from the header alone, how many bytes the decoded pixels will take, so
// that callers can budget memory in bytes before any pixel is allocated.
//
// The standard decoders turn a 16-bit PNG or TIFF into 8 bytes a pixel;
// every model in dlcv takes 8 bits. Decode therefore reads 16-bit
// non-interlaced PNGs row by row straight into an 8-bit image (4 bytes a
// pixel, or 1 for gray), and converts any other deep image to 8 bits as
// soon as it is decoded.
package imagefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // the formats dlcv reads
	_ "image/jpeg"
	_ "image/png"
	"io"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Info describes an image from its header.
type Info struct {
	Format        string // "png", "jpeg", ...
	Width, Height int
	// Depth is the bits per channel of the file (8 or 16; 8 for palettes
	// and formats that have no deeper mode).
	Depth int
	// DecodeBytes is the most memory Decode holds for the pixels: the
	// 8-bit image it returns, plus, for deep images the standard decoder
	// reads, the deep image it converts from.
	DecodeBytes int64
}

// Pixels is Width x Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// ErrFormat is returned for data in no format this package reads.
var ErrFormat = errors.New("not an image in a supported format (JPEG, PNG, GIF, BMP, TIFF, WebP)")

// Inspect reads the header of an image file.
func Inspect(data []byte) (Info, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Info{}, ErrFormat
		}
		return Info{}, fmt.Errorf("unreadable header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, fmt.Errorf("%s image of size %dx%d", format, cfg.Width, cfg.Height)
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height, Depth: 8}
	px := info.Pixels()
	out, in := bytesPerPixel(cfg.ColorModel)
	if in > 0 && cfg.ColorModel != color.CMYKModel {
		info.Depth = 16
	}
	if format == "png" && info.Depth == 16 {
		if _, ok := fastPNG(data); ok {
			in = 0 // decoded row by row: no deep image is ever held
		}
	}
	if format == "jpeg" {
		switch cfg.ColorModel {
		case color.GrayModel:
			out, in = 1, 0
		case color.CMYKModel:
			out, in = 4, 4 // decoded through YCbCr-like planes, then CMYK
		default:
			out, in = 3, 0 // YCbCr, 4:4:4 at worst
		}
	}
	info.DecodeBytes = px * int64(out+in)
	return info, nil
}

// bytesPerPixel returns the bytes a pixel takes in the 8-bit image Decode
// returns (out) and, for deep colour models, in the image the standard
// decoder makes first (in; 0 when it is already 8-bit).
func bytesPerPixel(m color.Model) (out, in int) {
	switch m {
	case color.GrayModel:
		return 1, 0
	case color.Gray16Model, color.Alpha16Model:
		return 1, 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 4, 8
	case color.CMYKModel, color.RGBAModel, color.NRGBAModel:
		return 4, 0
	}
	if _, ok := m.(color.Palette); ok {
		return 1, 0
	}
	return 4, 0 // YCbCr, NYCbCrA and the rest: at most 4 bytes a pixel
}

// Limits bound what Decode may allocate; zero fields are no limit.
type Limits struct {
	MaxPixels int64 // width x height
	MaxBytes  int64 // Info.DecodeBytes
}

// LimitError is Decode's error for an image over a limit, read from its
// header before any pixel is allocated.
type LimitError struct {
	Info
	Pixels bool  // the pixel limit (else the bytes limit)
	Limit  int64 // the limit exceeded
}

func (e *LimitError) Error() string {
	if e.Pixels {
		return fmt.Sprintf("%s image is %dx%d = %d pixels, over the limit of %d pixels", e.Format, e.Width, e.Height, e.Info.Pixels(), e.Limit)
	}
	return fmt.Sprintf("%s image of %dx%d pixels (%d-bit) needs %d bytes decoded, over the limit of %d bytes", e.Format, e.Width, e.Height, e.Depth, e.DecodeBytes, e.Limit)
}

// Check returns a *LimitError when info is over lim.
func (lim Limits) Check(info Info) error {
	if lim.MaxPixels > 0 && info.Pixels() > lim.MaxPixels {
		return &LimitError{Info: info, Pixels: true, Limit: lim.MaxPixels}
	}
	if lim.MaxBytes > 0 && info.DecodeBytes > lim.MaxBytes {
		return &LimitError{Info: info, Limit: lim.MaxBytes}
	}
	return nil
}

// Decode decodes an image file to 8 bits per channel: *image.Gray for gray
// images, *image.RGBA or *image.NRGBA for deep colour, the decoder's own
// 8-bit image otherwise (YCbCr for JPEG, Paletted for GIF). Images over
// lim are refused from their header (a *LimitError). It stops with ctx's
// error once ctx is done. A decoder panic on corrupt data is returned as
// an error.
func Decode(ctx context.Context, data []byte, lim Limits) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("corrupt image (the decoder failed: %v)", p)
		}
	}()
	info, err := Inspect(data)
	if err != nil {
		return nil, err
	}
	if err := lim.Check(info); err != nil {
		return nil, err
	}
	img, err = decode(ctx, data)
	if err == nil {
		if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
			return nil, fmt.Errorf("%s image decodes to %dx%d but its header says %dx%d", info.Format, b.Dx(), b.Dy(), info.Width, info.Height)
		}
	}
	return img, err
}

func decode(ctx context.Context, data []byte) (image.Image, error) {
	if h, ok := fastPNG(data); ok {
		return decodePNG16(ctx, data, h)
	}
	img, _, err := image.Decode(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return To8Bit(img), nil
}

// To8Bit converts an image with 16-bit channels to 8 bits (the high byte
// of each channel, as Go's colour models convert); other images are
// returned as they are.
func To8Bit(img image.Image) image.Image {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.Gray16:
		dst := image.NewGray(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, y):][:2*b.Dx()]
			d := dst.Pix[dst.PixOffset(b.Min.X, y):][:b.Dx()]
			for x := range d {
				d[x] = s[2*x]
			}
		}
		return dst
	case *image.RGBA64:
		dst := image.NewRGBA(b)
		highBytes(dst.Pix, dst.Stride, src.Pix, src.Stride, b)
		return dst
	case *image.NRGBA64:
		dst := image.NewNRGBA(b)
		highBytes(dst.Pix, dst.Stride, src.Pix, src.Stride, b)
		return dst
	case *image.Alpha16:
		dst := image.NewAlpha(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, y):][:2*b.Dx()]
			d := dst.Pix[dst.PixOffset(b.Min.X, y):][:b.Dx()]
			for x := range d {
				d[x] = s[2*x]
			}
		}
		return dst
	case *image.Gray, *image.RGBA, *image.NRGBA, *image.YCbCr, *image.NYCbCrA, *image.Paletted, *image.CMYK, *image.Alpha:
		return img
	}
	// Unknown types: if their model is deep, draw them into RGBA.
	if m := img.ColorModel(); m == color.RGBA64Model || m == color.NRGBA64Model || m == color.Gray16Model {
		dst := image.NewRGBA(b)
		draw.Draw(dst, b, img, b.Min, draw.Src)
		return dst
	}
	return img
}

// highBytes copies the high byte of each 16-bit value of 4-channel rows.
func highBytes(dst []uint8, dstStride int, src []uint8, srcStride int, b image.Rectangle) {
	n := 4 * b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src[y*srcStride:][:2*n]
		d := dst[y*dstStride:][:n]
		for i := range d {
			d[i] = s[2*i]
		}
	}
}

// ctxReader fails reads once ctx is done, so that a long decode stops.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
