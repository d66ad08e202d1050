package detect

import (
	"image"
	"image/color"
)

// Gray converts any image to 8-bit gray the way cv2.cvtColor(BGR2GRAY)
// does in OpenCV 4: (9798 R + 19235 G + 3735 B + 2^14) >> 15, the weights
// 0.299, 0.587 and 0.114 in 15-bit fixed point. Colors are taken without alpha
// (non-premultiplied) and 16-bit channels keep their high byte, as
// cv2.imread does. The result's bounds start at (0,0).
func Gray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := image.NewGray(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 0 {
		return g
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+w], m.Pix[i:i+w])
		}
	case *image.RGBA:
		// Premultiplied; opaque photos (the usual case) are exact.
		for y := 0; y < h; y++ {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x := range row {
				p := m.Pix[i+4*x : i+4*x+4]
				if p[3] != 255 {
					row[x] = grayOf(img.At(b.Min.X+x, b.Min.Y+y))
					continue
				}
				row[x] = grayRGB(p[0], p[1], p[2])
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x := range row {
				p := m.Pix[i+4*x : i+4*x+3]
				row[x] = grayRGB(p[0], p[1], p[2])
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x := range row {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, gg, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[x] = grayRGB(r, gg, bb)
			}
		}
	default:
		// Paletted, Gray16, RGBA64, CMYK and any other model.
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x := range row {
				row[x] = grayOf(img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return g
}

func grayRGB(r, g, b uint8) uint8 {
	return uint8((9798*uint32(r) + 19235*uint32(g) + 3735*uint32(b) + 1<<14) >> 15)
}

func grayOf(c color.Color) uint8 {
	switch v := c.(type) {
	case color.Gray:
		return v.Y
	case color.Gray16:
		return uint8(v.Y >> 8)
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return grayRGB(uint8(n.R>>8), uint8(n.G>>8), uint8(n.B>>8))
}
