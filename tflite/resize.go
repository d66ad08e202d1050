package tflite

import (
	"image"
	"image/color"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// RGB is an 8-bit interleaved RGB image, row-major.
type RGB struct {
	W, H int
	Pix  []uint8 // len W*H*3
}

// ToRGB converts any image to 8-bit RGB, dropping alpha without
// premultiplying (as PIL's convert("RGB") does).
func ToRGB(img image.Image) *RGB { return ToRGBInto(nil, img) }

// ToRGBInto is ToRGB into out's storage when it has room (out may be
// nil): a service converting photo after photo reuses one buffer instead
// of allocating (and so clearing) a megabyte a call.
func ToRGBInto(out *RGB, img image.Image) *RGB {
	b := img.Bounds()
	n := b.Dx() * b.Dy() * 3
	if out == nil {
		out = new(RGB)
	}
	if cap(out.Pix) < n {
		out.Pix = make([]uint8, n)
	}
	out.W, out.H, out.Pix = b.Dx(), b.Dy(), out.Pix[:n]
	switch src := img.(type) {
	case *image.RGBA:
		for y := 0; y < out.H; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*out.W]
			dst := out.Pix[y*out.W*3:][:3*out.W]
			for x := 0; x < out.W; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.NRGBA:
		for y := 0; y < out.H; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*out.W]
			dst := out.Pix[y*out.W*3:][:3*out.W]
			for x := 0; x < out.W; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.YCbCr: // JPEG
		if b.Min.X < 0 { // rare: the shifts below assume x >= 0
			anyToRGB(out, img)
			break
		}
		// A row at a time: the chroma column of pixel x is x>>sh -
		// Min.X>>sh for the horizontal subsampling 1<<sh, so the per-
		// pixel offset methods (a switch on the ratio each) are not needed.
		sh := 0
		switch src.SubsampleRatio {
		case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
			sh = 1
		case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
			sh = 2
		}
		// Rows in parallel: converting a 640x480 photo took 1.7-2.4 ms
		// on one core, a tenth of a small model's run.
		kernels.ParallelFunc(out.H, 16, func(lo, hi int) { ycbcrRows(out, src, sh, b.Min.Y+lo, b.Min.Y+hi) })
	default:
		anyToRGB(out, img)
	}
	return out
}

// ycbcrRows converts rows [y0, y1) of src (horizontal chroma subsampling
// 1<<sh) into out.
func ycbcrRows(out *RGB, src *image.YCbCr, sh, y0, y1 int) {
	b := src.Rect
	for y := y0; y < y1; y++ {
		yrow := src.Y[src.YOffset(b.Min.X, y):][:out.W]
		c0 := src.COffset(b.Min.X, y) - b.Min.X>>sh // chroma offset of x is c0 + x>>sh
		dst := out.Pix[(y-b.Min.Y)*out.W*3:][:3*out.W]
		for i, yv := range yrow {
			ci := c0 + (b.Min.X+i)>>sh
			dst[3*i], dst[3*i+1], dst[3*i+2] = color.YCbCrToRGB(yv, src.Cb[ci], src.Cr[ci])
		}
	}
}

// anyToRGB is ToRGB through img.At, for any image type.
func anyToRGB(out *RGB, img image.Image) {
	b := img.Bounds()
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
}

// ResizeBilinear resizes like PIL's Image.resize(size, BILINEAR), byte
// for byte (see kernels.ResizeBilinearU8). Matching PIL matters because
// reference classifications are made with it.
func ResizeBilinear(src *RGB, w, h int) *RGB {
	dst := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	kernels.ResizeBilinearU8(dst.Pix, w, h, src.Pix, src.W, src.H, 3)
	return dst
}
