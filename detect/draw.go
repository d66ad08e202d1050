package detect

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// DrawBox draws the outline of r on dst, thickness pixels wide inside r,
// clipped to dst's bounds.
func DrawBox(dst draw.Image, r image.Rectangle, c color.Color, thickness int) {
	r = r.Canon()
	if thickness < 1 {
		thickness = 1
	}
	t := min(thickness, (r.Dx()+1)/2, (r.Dy()+1)/2)
	u := image.NewUniform(c)
	b := dst.Bounds()
	for _, side := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+t)},                          // top
		{image.Pt(r.Min.X, r.Max.Y-t), r.Max},                          // bottom
		{image.Pt(r.Min.X, r.Min.Y+t), image.Pt(r.Min.X+t, r.Max.Y-t)}, // left
		{image.Pt(r.Max.X-t, r.Min.Y+t), image.Pt(r.Max.X, r.Max.Y-t)}, // right
	} {
		if s := side.Intersect(b); !s.Empty() {
			draw.Draw(dst, s, u, image.Point{}, draw.Src)
		}
	}
}

// LabelFace is the font DrawLabel uses: 7x13 pixels, ASCII.
var LabelFace font.Face = basicfont.Face7x13

// DrawLabel writes text on a filled background box whose top-left corner
// is at p (moved inside dst when it would stick out), for annotating
// detections. It returns the rectangle it covered.
func DrawLabel(dst draw.Image, p image.Point, text string, fg, bg color.Color) image.Rectangle {
	const pad = 2
	m := LabelFace.Metrics()
	w := font.MeasureString(LabelFace, text).Ceil()
	h := (m.Ascent + m.Descent).Ceil()
	box := image.Rect(0, 0, w+2*pad, h+2*pad).Add(p)
	b := dst.Bounds()
	if box.Max.X > b.Max.X {
		box = box.Sub(image.Pt(box.Max.X-b.Max.X, 0))
	}
	if box.Max.Y > b.Max.Y {
		box = box.Sub(image.Pt(0, box.Max.Y-b.Max.Y))
	}
	if box.Min.X < b.Min.X {
		box = box.Add(image.Pt(b.Min.X-box.Min.X, 0))
	}
	if box.Min.Y < b.Min.Y {
		box = box.Add(image.Pt(0, b.Min.Y-box.Min.Y))
	}
	draw.Draw(dst, box.Intersect(b), image.NewUniform(bg), image.Point{}, draw.Src)
	d := font.Drawer{
		Dst:  dst,
		Src:  image.NewUniform(fg),
		Face: LabelFace,
		Dot:  fixed.P(box.Min.X+pad, box.Min.Y+pad+m.Ascent.Ceil()),
	}
	d.DrawString(text)
	return box.Intersect(b)
}

// Annotate returns an RGBA copy of img with each detection boxed in green
// and numbered from 1, for writing annotated photos.
func Annotate(img image.Image, ds []Detection) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	green := color.RGBA{0, 220, 0, 255}
	thick := max(2, min(b.Dx(), b.Dy())/200)
	for i, d := range ds {
		DrawBox(out, d.Rect, green, thick)
		DrawLabel(out, image.Pt(d.Rect.Min.X, d.Rect.Min.Y-17), strconv.Itoa(i+1), color.Black, green)
	}
	return out
}

// Crop returns the part of img inside r (clipped to the image), sharing
// pixels when img has a SubImage method, else copying them.
func Crop(img image.Image, r image.Rectangle) image.Image {
	r = r.Intersect(img.Bounds())
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	out := image.NewRGBA(r)
	draw.Draw(out, r, img, r.Min, draw.Src)
	return out
}
