package imgproc

import (
	"fmt"
	"image"
	"math"
)

// Mapping says how filtered values, which may be negative or above 255,
// become 8-bit pixels.
type Mapping int

const (
	// Clip rounds to the nearest integer (ties to even, as OpenCV's
	// saturate_cast) and clamps to [0, 255]. Negative edge responses
	// become black.
	Clip Mapping = iota
	// Rescale maps the minimum to 0 and the maximum to 255 linearly
	// (one min and max over all channels, so colours keep their balance);
	// a constant result becomes 0.
	Rescale
)

func (m Mapping) String() string {
	if m == Rescale {
		return "rescale"
	}
	return "clip"
}

// ParseMapping accepts clip or rescale.
func ParseMapping(s string) (Mapping, error) {
	switch s {
	case "clip":
		return Clip, nil
	case "rescale":
		return Rescale, nil
	}
	return 0, fmt.Errorf("unknown output mapping %q (want clip or rescale)", s)
}

// To8 maps planes of equal size to 8-bit values with m.
func To8(m Mapping, planes ...Plane) [][]uint8 {
	lo, hi := math.Inf(1), math.Inf(-1)
	if m == Rescale {
		for _, p := range planes {
			for _, v := range p.Pix {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
		}
	}
	out := make([][]uint8, len(planes))
	for c, p := range planes {
		o := make([]uint8, len(p.Pix))
		for i, v := range p.Pix {
			x := float64(v)
			if m == Rescale {
				if hi > lo {
					x = (x - lo) * 255 / (hi - lo)
				} else {
					x = 0
				}
			}
			o[i] = clip8(x)
		}
		out[c] = o
	}
	return out
}

func clip8(x float64) uint8 {
	x = math.RoundToEven(x)
	switch {
	case x < 0:
		return 0
	case x > 255:
		return 255
	}
	return uint8(x)
}

// ToImage maps one plane (gray) or three planes (R, G, B) to an image.
func ToImage(m Mapping, planes ...Plane) (image.Image, error) {
	if len(planes) != 1 && len(planes) != 3 {
		return nil, fmt.Errorf("to image: want 1 or 3 planes, have %d", len(planes))
	}
	for _, p := range planes {
		if err := p.check("to image"); err != nil {
			return nil, err
		}
		if p.W != planes[0].W || p.H != planes[0].H {
			return nil, fmt.Errorf("to image: planes %dx%d and %dx%d differ", planes[0].W, planes[0].H, p.W, p.H)
		}
	}
	v := To8(m, planes...)
	w, h := planes[0].W, planes[0].H
	if len(planes) == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, v[0])
		return img, nil
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = v[0][i], v[1][i], v[2][i], 255
	}
	return img, nil
}
