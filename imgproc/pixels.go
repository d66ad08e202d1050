package imgproc

import (
	"fmt"
	"image"
)

// Channel selects what PixelMatrix reads.
type Channel int

const (
	Gray Channel = iota // GrayValue of the pixel (OpenCV RGB2GRAY weights)
	Red
	Green
	Blue
)

// ParseChannel accepts gray, r, g, b (or red, green, blue).
func ParseChannel(s string) (Channel, error) {
	switch s {
	case "gray", "grey":
		return Gray, nil
	case "r", "red":
		return Red, nil
	case "g", "green":
		return Green, nil
	case "b", "blue":
		return Blue, nil
	}
	return 0, fmt.Errorf("unknown channel %q (want r, g, b or gray)", s)
}

// ParseRegion reads "x,y,w,h".
func ParseRegion(s string) (image.Rectangle, error) {
	var x, y, w, h int
	var rest string
	n, _ := fmt.Sscanf(s+" .", "%d,%d,%d,%d %s", &x, &y, &w, &h, &rest)
	if n != 5 || rest != "." {
		return image.Rectangle{}, fmt.Errorf("region %q: want x,y,w,h (four integers)", s)
	}
	if w <= 0 || h <= 0 || x < 0 || y < 0 {
		return image.Rectangle{}, fmt.Errorf("region %q: x and y must be >= 0, w and h > 0", s)
	}
	return image.Rect(x, y, x+w, y+h), nil
}

// PixelMatrix returns the values of one channel of img in region r
// (relative to the image's top-left corner), as 0..255 integers.
func PixelMatrix(img image.Image, r image.Rectangle, c Channel) (Matrix, error) {
	b := img.Bounds()
	full := image.Rect(0, 0, b.Dx(), b.Dy())
	if !r.In(full) {
		return Matrix{}, fmt.Errorf("region x=%d y=%d w=%d h=%d lies outside the %dx%d image", r.Min.X, r.Min.Y, r.Dx(), r.Dy(), b.Dx(), b.Dy())
	}
	sub := subImage(img, r.Add(b.Min))
	rp, gp, bp := RGBPlanes(sub)
	m := Matrix{Rows: r.Dy(), Cols: r.Dx(), Data: make([]float64, r.Dx()*r.Dy())}
	for i := range m.Data {
		switch c {
		case Red:
			m.Data[i] = float64(rp.Pix[i])
		case Green:
			m.Data[i] = float64(gp.Pix[i])
		case Blue:
			m.Data[i] = float64(bp.Pix[i])
		default:
			m.Data[i] = float64(GrayValue(uint8(rp.Pix[i]), uint8(gp.Pix[i]), uint8(bp.Pix[i])))
		}
	}
	return m, nil
}

type cropped struct {
	image.Image
	r image.Rectangle
}

func (c cropped) Bounds() image.Rectangle { return c.r }

// subImage restricts img to r without copying.
func subImage(img image.Image, r image.Rectangle) image.Image { return cropped{img, r} }
