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
func ToRGB(img image.Image) *RGB {
	b := img.Bounds()
	out := &RGB{W: b.Dx(), H: b.Dy(), Pix: make([]uint8, b.Dx()*b.Dy()*3)}
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
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				ci := src.COffset(x, y)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = color.YCbCrToRGB(src.Y[src.YOffset(x, y)], src.Cb[ci], src.Cr[ci])
				i += 3
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
	return out
}

// ResizeBilinear resizes like PIL's Image.resize(size, BILINEAR), byte
// for byte (see kernels.ResizeBilinearU8). Matching PIL matters because
// reference classifications are made with it.
func ResizeBilinear(src *RGB, w, h int) *RGB {
	dst := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	kernels.ResizeBilinearU8(dst.Pix, w, h, src.Pix, src.W, src.H, 3)
	return dst
}
