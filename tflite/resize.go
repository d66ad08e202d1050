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
		// A row at a time: the chroma column of pixel x is x/h - Min.X/h
		// for the horizontal subsampling h, so the per-pixel offset
		// methods (a switch on the ratio each) are not needed.
		h := 1
		switch src.SubsampleRatio {
		case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
			h = 2
		case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
			h = 4
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			yrow := src.Y[src.YOffset(b.Min.X, y):][:out.W]
			c0 := src.COffset(b.Min.X, y) - b.Min.X/h // chroma offset of x is c0 + x/h
			dst := out.Pix[(y-b.Min.Y)*out.W*3:][:3*out.W]
			if h == 2 && b.Min.X >= 0 { // 4:2:0 and 4:2:2: x/2 is x>>1
				for i, yv := range yrow {
					ci := c0 + (b.Min.X+i)>>1
					dst[3*i], dst[3*i+1], dst[3*i+2] = ycbcrToRGB(yv, src.Cb[ci], src.Cr[ci])
				}
				continue
			}
			for i, yv := range yrow {
				ci := c0 + (b.Min.X+i)/h
				dst[3*i], dst[3*i+1], dst[3*i+2] = ycbcrToRGB(yv, src.Cb[ci], src.Cr[ci])
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

// ycbcrToRGB is color.YCbCrToRGB (JFIF's full-range conversion in 16.16
// fixed point, the same constants and clamping, so the same bytes),
// written out so that it inlines into ToRGB's row loop: the call per
// pixel was most of ToRGB's time on a 640x480 photo.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	b := yy1 + 116130*cb1
	if uint32(b)&0xff000000 == 0 {
		b >>= 16
	} else {
		b = ^(b >> 31)
	}
	return uint8(r), uint8(g), uint8(b)
}

// ResizeBilinear resizes like PIL's Image.resize(size, BILINEAR), byte
// for byte (see kernels.ResizeBilinearU8). Matching PIL matters because
// reference classifications are made with it.
func ResizeBilinear(src *RGB, w, h int) *RGB {
	dst := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	kernels.ResizeBilinearU8(dst.Pix, w, h, src.Pix, src.W, src.H, 3)
	return dst
}
