package imgproc

import "fmt"

// Plane is one channel of an image as float32 values, row-major.
type Plane struct {
	W, H int
	Pix  []float32
}

// NewPlane returns a zero plane of w x h.
func NewPlane(w, h int) Plane { return Plane{W: w, H: h, Pix: make([]float32, w*h)} }

// At returns the value at column x, row y.
func (p Plane) At(x, y int) float32 { return p.Pix[y*p.W+x] }

func (p Plane) check(what string) error {
	if p.W <= 0 || p.H <= 0 {
		return fmt.Errorf("%s: empty plane (%dx%d)", what, p.W, p.H)
	}
	if len(p.Pix) != p.W*p.H {
		return fmt.Errorf("%s: %dx%d plane has %d values, want %d", what, p.W, p.H, len(p.Pix), p.W*p.H)
	}
	return nil
}
