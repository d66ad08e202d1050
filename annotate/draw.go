package annotate

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/dlcv-go/dlcv/detect"
)

// palette colours boxes by class or face index.
var palette = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {0, 130, 200, 255}, {245, 130, 48, 255},
	{145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255}, {210, 245, 60, 255},
}

// DrawObjects returns a copy of img with each object boxed and labelled
// "name score".
func DrawObjects(img image.Image, objs []LocalizedObjectAnnotation) *image.RGBA {
	out := rgbaCopy(img)
	b := img.Bounds()
	thick := max(2, min(b.Dx(), b.Dy())/200)
	for i, o := range objs {
		v := o.BoundingPoly.NormalizedVertices
		if len(v) < 3 {
			continue
		}
		r := image.Rect(b.Min.X+int(v[0].X*float64(b.Dx())), b.Min.Y+int(v[0].Y*float64(b.Dy())),
			b.Min.X+int(math.Ceil(v[2].X*float64(b.Dx()))), b.Min.Y+int(math.Ceil(v[2].Y*float64(b.Dy()))))
		c := palette[i%len(palette)]
		detect.DrawBox(out, r, c, thick)
		detect.DrawLabel(out, image.Pt(r.Min.X, r.Min.Y), fmt.Sprintf("%s %.2f", o.Name, o.Score), color.White, c)
	}
	return out
}

// DrawFaces returns a copy of img with each face's boxes (the head box
// thin, the face box thick), its landmarks as dots and its number.
func DrawFaces(img image.Image, faces []FaceAnnotation) *image.RGBA {
	out := rgbaCopy(img)
	b := img.Bounds()
	thick := max(2, min(b.Dx(), b.Dy())/200)
	for i, f := range faces {
		c := palette[(i+1)%len(palette)]
		head, face := polyRect(f.BoundingPoly), polyRect(f.FdBoundingPoly)
		if head != face {
			detect.DrawBox(out, head, c, 1)
		}
		detect.DrawBox(out, face, c, thick)
		for _, l := range f.Landmarks {
			p := image.Pt(int(l.Position.X), int(l.Position.Y))
			dot := image.Rect(p.X-thick-1, p.Y-thick-1, p.X+thick+2, p.Y+thick+2)
			draw.Draw(out, dot.Intersect(b), image.NewUniform(color.RGBA{255, 255, 0, 255}), image.Point{}, draw.Src)
		}
		detect.DrawLabel(out, image.Pt(face.Min.X, face.Min.Y-17), fmt.Sprint(i+1), color.Black, c)
	}
	return out
}

func rgbaCopy(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return out
}
