package imgproc

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Tile is one labelled picture of a contact sheet.
type Tile struct {
	Label string
	Image image.Image
}

// Sheet layout in pixels.
const (
	sheetGap    = 8
	sheetLabelH = 18
)

// ContactSheet lays tiles out in a grid of cols columns on a white
// background, each scaled (bilinear) so its longer side is at most
// maxSide pixels (no upscaling), with its label below in a 7x13 bitmap
// font.
func ContactSheet(tiles []Tile, cols, maxSide int) *image.RGBA {
	if cols < 1 {
		cols = 1
	}
	thumbs := make([]image.Image, len(tiles))
	cw, ch := 0, 0
	for i, t := range tiles {
		thumbs[i] = thumbnail(t.Image, maxSide)
		b := thumbs[i].Bounds()
		cw, ch = max(cw, b.Dx(), font.MeasureString(basicfont.Face7x13, t.Label).Ceil()), max(ch, b.Dy())
	}
	rows := (len(tiles) + cols - 1) / cols
	cols = min(cols, max(len(tiles), 1))
	w := sheetGap + cols*(cw+sheetGap)
	h := sheetGap + rows*(ch+sheetLabelH+sheetGap)
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
	for i, t := range thumbs {
		x0 := sheetGap + (i%cols)*(cw+sheetGap)
		y0 := sheetGap + (i/cols)*(ch+sheetLabelH+sheetGap)
		b := t.Bounds()
		draw.Draw(sheet, image.Rect(x0, y0, x0+b.Dx(), y0+b.Dy()), t, b.Min, draw.Src)
		d := font.Drawer{
			Dst:  sheet,
			Src:  image.NewUniform(color.Black),
			Face: basicfont.Face7x13,
			Dot:  fixed.P(x0, y0+ch+13),
		}
		d.DrawString(tiles[i].Label)
	}
	return sheet
}

func thumbnail(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	if maxSide <= 0 || (b.Dx() <= maxSide && b.Dy() <= maxSide) {
		return img
	}
	w, h := maxSide, b.Dy()*maxSide/b.Dx()
	if b.Dy() > b.Dx() {
		w, h = b.Dx()*maxSide/b.Dy(), maxSide
	}
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}
