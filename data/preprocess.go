package data

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Interpolation names accepted by Preprocess.Interpolation.
const (
	Bilinear = "bilinear" // OpenCV INTER_LINEAR: half-pixel centres, no antialiasing
	Area     = "area"     // OpenCV INTER_AREA when shrinking (pixel-area average); bilinear when enlarging
)

// Preprocess describes how an image becomes a model input; it is stored
// (as JSON) in model files so that prediction prepares new images exactly
// as training did. Steps, in order: convert to Channels (1: luma
// 0.299R+0.587G+0.114B, 3: RGB) and scale to [0,1]; resize to
// Height x Width (AspectAware: first crop the largest centred region with
// the target's aspect ratio, so the shorter side fits and nothing is
// distorted); subtract Mean per channel.
type Preprocess struct {
	Width         int       `json:"width"`
	Height        int       `json:"height"`
	Channels      int       `json:"channels"`
	AspectAware   bool      `json:"aspect_aware,omitempty"`
	Interpolation string    `json:"interpolation,omitempty"` // "bilinear" (default) or "area"
	Mean          []float32 `json:"mean,omitempty"`          // per channel, in [0,1] units
}

// Validate checks the fields.
func (p Preprocess) Validate() error {
	if p.Width <= 0 || p.Height <= 0 {
		return fmt.Errorf("data: preprocess size %dx%d must be positive", p.Width, p.Height)
	}
	if p.Channels != 1 && p.Channels != 3 {
		return fmt.Errorf("data: preprocess channels %d, want 1 (grayscale) or 3 (RGB)", p.Channels)
	}
	if p.Interpolation != "" && p.Interpolation != Bilinear && p.Interpolation != Area {
		return fmt.Errorf("data: preprocess interpolation %q, want %q or %q", p.Interpolation, Bilinear, Area)
	}
	if len(p.Mean) != 0 && len(p.Mean) != p.Channels {
		return fmt.Errorf("data: preprocess has %d mean values for %d channels", len(p.Mean), p.Channels)
	}
	return nil
}

// Len is the number of values Apply produces: Height*Width*Channels.
func (p Preprocess) Len() int { return p.Height * p.Width * p.Channels }

// Apply returns img prepared as an HWC float32 slice.
func (p Preprocess) Apply(img image.Image) ([]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	dst := make([]float32, p.Len())
	return dst, p.ApplyTo(dst, img)
}

// ApplyTo is Apply writing into dst (len p.Len()).
func (p Preprocess) ApplyTo(dst []float32, img image.Image) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if len(dst) != p.Len() {
		return fmt.Errorf("data: preprocess output needs %d values, buffer has %d", p.Len(), len(dst))
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("data: empty image")
	}
	src := ToFloat(img, p.Channels)
	h, w, c := b.Dy(), b.Dx(), p.Channels
	if p.AspectAware {
		// Cut the largest centred region with the target's aspect ratio,
		// then resize it: no distortion, the borders are lost. (Cropping
		// first bounds the work for extreme aspect ratios.)
		cw := min(w, max(1, int(math.Round(float64(h)*float64(p.Width)/float64(p.Height)))))
		ch := min(h, max(1, int(math.Round(float64(w)*float64(p.Height)/float64(p.Width)))))
		y0, x0 := (h-ch)/2, (w-cw)/2
		crop := make([]float32, ch*cw*c)
		for y := range ch {
			copy(crop[y*cw*c:(y+1)*cw*c], src[((y0+y)*w+x0)*c:])
		}
		src, h, w = crop, ch, cw
	}
	Resize(dst, p.Height, p.Width, src, h, w, c, p.Interpolation)
	if len(p.Mean) == c {
		for i := range dst {
			dst[i] -= p.Mean[i%c]
		}
	}
	return nil
}

// ToFloat converts img to an HWC float32 slice in [0,1] with 1 (luma,
// ITU-R 601 as Go's color.GrayModel and OpenCV compute it) or 3 (RGB)
// channels. Transparent pixels are composited on black.
func ToFloat(img image.Image, channels int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, w*h*channels)
	const s = 1.0 / 255
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[(y)*m.Stride : y*m.Stride+w]
			for x, v := range row {
				for k := range channels {
					out[(y*w+x)*channels+k] = float32(v) * s
				}
			}
		}
		return out
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put8(out[(y*w+x)*channels:], channels, r, g, bl)
			}
		}
		return out
	case *image.RGBA:
		for y := range h {
			for x := range w {
				i := m.PixOffset(b.Min.X+x, b.Min.Y+y)
				put8(out[(y*w+x)*channels:], channels, m.Pix[i], m.Pix[i+1], m.Pix[i+2])
			}
		}
		return out
	}
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			o := out[(y*w+x)*channels:]
			if channels == 1 {
				o[0] = float32(luma16(r, g, bl)) / 65535
			} else {
				o[0], o[1], o[2] = float32(r)/65535, float32(g)/65535, float32(bl)/65535
			}
		}
	}
	return out
}

func put8(o []float32, channels int, r, g, b uint8) {
	const s = 1.0 / 255
	if channels == 1 {
		o[0] = float32(luma16(uint32(r)*0x101, uint32(g)*0x101, uint32(b)*0x101)) / 65535
		return
	}
	o[0], o[1], o[2] = float32(r)*s, float32(g)*s, float32(b)*s
}

// luma16 is color.GrayModel's formula at 16 bits.
func luma16(r, g, b uint32) uint32 { return (19595*r + 38470*g + 7471*b + 1<<15) >> 16 }

// Resize resamples src (sh x sw x c, HWC) into dst (dh x dw x c) with
// "bilinear" (or "") or "area" interpolation; see the constants.
func Resize(dst []float32, dh, dw int, src []float32, sh, sw, c int, interp string) {
	if dh == sh && dw == sw {
		copy(dst, src)
		return
	}
	if interp == Area && dh <= sh && dw <= sw {
		resizeArea(dst, dh, dw, src, sh, sw, c)
		return
	}
	resizeBilinear(dst, dh, dw, src, sh, sw, c)
}

// taps returns, for each output index, the two source indices and the
// weight of the second, with OpenCV's INTER_LINEAR convention.
func taps(dn, sn int) (i0, i1 []int, f []float32) {
	i0, i1, f = make([]int, dn), make([]int, dn), make([]float32, dn)
	scale := float64(sn) / float64(dn)
	for d := range dn {
		x := (float64(d)+0.5)*scale - 0.5
		s := int(math.Floor(x))
		fr := x - float64(s)
		if s < 0 {
			s, fr = 0, 0
		}
		if s >= sn-1 {
			s, fr = sn-1, 0
		}
		i0[d], i1[d], f[d] = s, min(s+1, sn-1), float32(fr)
	}
	return
}

func resizeBilinear(dst []float32, dh, dw int, src []float32, sh, sw, c int) {
	y0, y1, fy := taps(dh, sh)
	x0, x1, fx := taps(dw, sw)
	for y := range dh {
		r0, r1, wy := src[y0[y]*sw*c:], src[y1[y]*sw*c:], fy[y]
		for x := range dw {
			a, b, wx := x0[x]*c, x1[x]*c, fx[x]
			o := dst[(y*dw+x)*c:]
			for k := range c {
				top := r0[a+k]*(1-wx) + r0[b+k]*wx
				bot := r1[a+k]*(1-wx) + r1[b+k]*wx
				o[k] = top*(1-wy) + bot*wy
			}
		}
	}
}

// areaTab gives, for each output index d, the source run
// first[d] .. first[d]+n-1 it covers and the overlap weights (summing to 1)
// in wt[d*n:(d+1)*n], zero-padded for shorter runs.
type areaTab struct {
	first []int
	n     int
	wt    []float32
}

func newAreaTab(dn, sn int) areaTab {
	scale := float64(sn) / float64(dn)
	t := areaTab{first: make([]int, dn), n: int(math.Ceil(scale)) + 1}
	t.wt = make([]float32, dn*t.n)
	for d := range dn {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		s0 := int(math.Floor(lo))
		t.first[d] = min(s0, sn-t.n)
		if t.first[d] < 0 {
			t.first[d] = 0
		}
		for s := s0; s < sn && float64(s) < hi; s++ {
			if ov := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s)); ov > 1e-9 {
				t.wt[d*t.n+s-t.first[d]] = float32(ov / scale)
			}
		}
	}
	return t
}

func resizeArea(dst []float32, dh, dw int, src []float32, sh, sw, c int) {
	ty, tx := newAreaTab(dh, sh), newAreaTab(dw, sw)
	if tx.n > sw || ty.n > sh { // tiny sources: the padded run does not fit
		resizeAreaSmall(dst, dh, dw, src, sh, sw, c)
		return
	}
	// Horizontal pass over every source row once, then vertical sums.
	tmp := make([]float32, sh*dw*c)
	for sy := range sh {
		srow := src[sy*sw*c : (sy+1)*sw*c]
		trow := tmp[sy*dw*c : (sy+1)*dw*c]
		for x := range dw {
			o := trow[x*c : (x+1)*c]
			wts := tx.wt[x*tx.n : (x+1)*tx.n]
			run := srow[tx.first[x]*c : (tx.first[x]+tx.n)*c]
			if c == 3 {
				var a, b, cc float32
				for k, wt := range wts {
					p := run[k*3 : k*3+3]
					a += p[0] * wt
					b += p[1] * wt
					cc += p[2] * wt
				}
				o[0], o[1], o[2] = a, b, cc
				continue
			}
			for k, wt := range wts {
				p := run[k*c : (k+1)*c]
				for ch := range o {
					o[ch] += p[ch] * wt
				}
			}
		}
	}
	clear(dst[:dh*dw*c])
	rowLen := dw * c
	for y := range dh {
		o := dst[y*rowLen : (y+1)*rowLen]
		for k, wt := range ty.wt[y*ty.n : (y+1)*ty.n] {
			if wt == 0 {
				continue
			}
			sy := ty.first[y] + k
			trow := tmp[sy*rowLen : (sy+1)*rowLen]
			for i := range o {
				o[i] += trow[i] * wt
			}
		}
	}
}

// resizeAreaSmall is the direct form of resizeArea for sources smaller
// than one padded run.
func resizeAreaSmall(dst []float32, dh, dw int, src []float32, sh, sw, c int) {
	clear(dst[:dh*dw*c])
	sy, sx := float64(sh)/float64(dh), float64(sw)/float64(dw)
	for y := range dh {
		for yy := range sh {
			wy := math.Min(float64(y+1)*sy, float64(yy+1)) - math.Max(float64(y)*sy, float64(yy))
			if wy <= 1e-9 {
				continue
			}
			for x := range dw {
				for xx := range sw {
					wx := math.Min(float64(x+1)*sx, float64(xx+1)) - math.Max(float64(x)*sx, float64(xx))
					if wx <= 1e-9 {
						continue
					}
					w := float32(wy / sy * wx / sx)
					for ch := range c {
						dst[(y*dw+x)*c+ch] += src[(yy*sw+xx)*c+ch] * w
					}
				}
			}
		}
	}
}
