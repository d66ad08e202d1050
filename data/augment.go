package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Fill says what an augmented image shows where its source lies outside
// the original.
type Fill int

const (
	FillNearest  Fill = iota // repeat the nearest edge pixel (Keras "nearest")
	FillConstant             // Augment.FillValue (Keras "constant")
)

// Augment describes random image transformations in the manner of Keras'
// ImageDataGenerator. Every field is a maximum: each image gets a flip with
// probability 1/2, shifts drawn uniformly in ±WidthShift·W and
// ±HeightShift·H pixels, a rotation in ±Rotation degrees and a zoom factor
// in [1-Zoom, 1+Zoom] (one factor for both axes; >1 shows a larger area,
// so the content shrinks, as in Keras).
type Augment struct {
	FlipHorizontal bool    `json:"flip_horizontal,omitempty"`
	WidthShift     float64 `json:"width_shift,omitempty"`
	HeightShift    float64 `json:"height_shift,omitempty"`
	Rotation       float64 `json:"rotation,omitempty"`
	Zoom           float64 `json:"zoom,omitempty"`
	Fill           Fill    `json:"fill,omitempty"`
	FillValue      float32 `json:"fill_value,omitempty"`
}

// Validate checks the ranges.
func (a Augment) Validate() error {
	if a.WidthShift < 0 || a.WidthShift > 1 || a.HeightShift < 0 || a.HeightShift > 1 {
		return fmt.Errorf("data: augment shifts %v,%v must be fractions in [0,1]", a.WidthShift, a.HeightShift)
	}
	if a.Rotation < 0 || a.Rotation > 180 {
		return fmt.Errorf("data: augment rotation %v must be in [0,180] degrees", a.Rotation)
	}
	if a.Zoom < 0 || a.Zoom >= 1 {
		return fmt.Errorf("data: augment zoom %v must be in [0,1)", a.Zoom)
	}
	if a.Fill != FillNearest && a.Fill != FillConstant {
		return fmt.Errorf("data: augment fill mode %d unknown", a.Fill)
	}
	return nil
}

// Transform is one concrete transformation: output pixel p shows the
// source at centre + Scale·R(-Angle)·(p − centre) − (DX, DY), then the
// result is mirrored left-right if Flip. A positive DX moves the content
// right, a positive Angle turns it anticlockwise (degrees).
type Transform struct {
	Flip   bool
	DX, DY float64 // pixels
	Angle  float64 // degrees
	Scale  float64 // zoom; 0 means 1
}

// Random draws a Transform for an h x w image.
func (a Augment) Random(rng *rand.Rand, h, w int) Transform {
	t := Transform{Scale: 1}
	if a.FlipHorizontal {
		t.Flip = rng.IntN(2) == 1
	}
	if a.WidthShift > 0 {
		t.DX = (rng.Float64()*2 - 1) * a.WidthShift * float64(w)
	}
	if a.HeightShift > 0 {
		t.DY = (rng.Float64()*2 - 1) * a.HeightShift * float64(h)
	}
	if a.Rotation > 0 {
		t.Angle = (rng.Float64()*2 - 1) * a.Rotation
	}
	if a.Zoom > 0 {
		t.Scale = 1 + (rng.Float64()*2-1)*a.Zoom
	}
	return t
}

// Apply writes a random transformation of src (h x w x c, HWC) to dst.
func (a Augment) Apply(dst, src []float32, h, w, c int, rng *rand.Rand) {
	a.Random(rng, h, w).Apply(dst, src, h, w, c, a.Fill, a.FillValue)
}

// Apply writes src (h x w x c) transformed by t to dst, sampling
// bilinearly; dst and src must not overlap.
func (t Transform) Apply(dst, src []float32, h, w, c int, fill Fill, fillValue float32) {
	scale := t.Scale
	if scale == 0 {
		scale = 1
	}
	if t.DX == 0 && t.DY == 0 && t.Angle == 0 && scale == 1 {
		if !t.Flip {
			copy(dst, src[:h*w*c])
			return
		}
		for y := range h {
			for x := range w {
				copy(dst[(y*w+x)*c:(y*w+x+1)*c], src[(y*w+w-1-x)*c:])
			}
		}
		return
	}
	th := t.Angle * math.Pi / 180
	cos, sin := math.Cos(th)*scale, math.Sin(th)*scale
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for y := range h {
		for x := range w {
			ox := x
			if t.Flip {
				ox = w - 1 - x
			}
			u, v := float64(ox)-cx, float64(y)-cy
			// image y points down, so this rotation turns content anticlockwise on screen
			sx := cx + cos*u - sin*v - t.DX
			sy := cy + sin*u + cos*v - t.DY
			sample(dst[(y*w+x)*c:(y*w+x+1)*c], src, h, w, c, sx, sy, fill, fillValue)
		}
	}
}

// sample writes the bilinear interpolation of src at (sx, sy) to o.
func sample(o, src []float32, h, w, c int, sx, sy float64, fill Fill, fv float32) {
	x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
	fx, fy := float32(sx-float64(x0)), float32(sy-float64(y0))
	if fill == FillConstant && (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
		for k := range o {
			o[k] = fv
		}
		return
	}
	for k := range c {
		p00 := pixel(src, h, w, c, x0, y0, k, fill, fv)
		p01 := pixel(src, h, w, c, x0+1, y0, k, fill, fv)
		p10 := pixel(src, h, w, c, x0, y0+1, k, fill, fv)
		p11 := pixel(src, h, w, c, x0+1, y0+1, k, fill, fv)
		top := p00 + (p01-p00)*fx
		bot := p10 + (p11-p10)*fx
		o[k] = top + (bot-top)*fy
	}
}

func pixel(src []float32, h, w, c, x, y, k int, fill Fill, fv float32) float32 {
	if x < 0 || y < 0 || x >= w || y >= h {
		if fill == FillConstant {
			return fv
		}
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
	}
	return src[(y*w+x)*c+k]
}
