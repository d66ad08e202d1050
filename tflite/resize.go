package tflite

import (
	"image"
	"image/color"
	"math"
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
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				ci := src.COffset(x, y)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = color.YCbCrToRGB(src.Y[src.YOffset(x, y)], src.Cb[ci], src.Cr[ci])
				i += 3
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

// ResizeBilinear resizes like PIL's Image.resize(size, BILINEAR): a
// triangle filter whose support widens with the downscale factor (so it
// antialiases), horizontal pass then vertical, 8-bit intermediate and
// 22-bit fixed-point coefficients. Matching PIL matters because reference
// classifications are made with it.
func ResizeBilinear(src *RGB, w, h int) *RGB {
	if src.W == w && src.H == h {
		return &RGB{W: w, H: h, Pix: append([]uint8(nil), src.Pix...)}
	}
	tmp := src
	if src.W != w {
		tmp = &RGB{W: w, H: src.H, Pix: make([]uint8, w*src.H*3)}
		bounds, coeffs, k := resampleCoeffs(src.W, w)
		for y := 0; y < src.H; y++ {
			in := src.Pix[y*src.W*3:]
			out := tmp.Pix[y*w*3:]
			for x := 0; x < w; x++ {
				x0, n := bounds[2*x], bounds[2*x+1]
				cf := coeffs[x*k : x*k+n]
				for ch := 0; ch < 3; ch++ {
					s := int64(1) << (precisionBits - 1)
					for t, c := range cf {
						s += int64(in[(x0+t)*3+ch]) * int64(c)
					}
					out[x*3+ch] = clip8(s)
				}
			}
		}
	}
	if tmp.H == h {
		return tmp
	}
	dst := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	bounds, coeffs, k := resampleCoeffs(tmp.H, h)
	for y := 0; y < h; y++ {
		y0, n := bounds[2*y], bounds[2*y+1]
		cf := coeffs[y*k : y*k+n]
		out := dst.Pix[y*w*3 : (y+1)*w*3]
		for i := range out {
			s := int64(1) << (precisionBits - 1)
			for t, c := range cf {
				s += int64(tmp.Pix[(y0+t)*w*3+i]) * int64(c)
			}
			out[i] = clip8(s)
		}
	}
	return dst
}

const precisionBits = 32 - 8 - 2

func clip8(s int64) uint8 {
	s >>= precisionBits
	if s < 0 {
		return 0
	}
	if s > 255 {
		return 255
	}
	return uint8(s)
}

// resampleCoeffs computes, per output pixel, the first input pixel and
// tap count (bounds[2i], bounds[2i+1]) and k fixed-point weights.
func resampleCoeffs(inSize, outSize int) (bounds []int, coeffs []int32, k int) {
	scale := float64(inSize) / float64(outSize)
	filterScale := max(scale, 1)
	support := 1.0 * filterScale // triangle filter support is 1
	k = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*outSize)
	coeffs = make([]int32, outSize*k)
	ws := make([]float64, k)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		xmax = min(xmax, k)
		var total float64
		for x := 0; x < xmax; x++ {
			v := 1 - math.Abs((float64(x+xmin)-center+0.5)/filterScale)
			if v < 0 {
				v = 0
			}
			ws[x] = v
			total += v
		}
		for x := 0; x < xmax; x++ {
			v := ws[x]
			if total != 0 {
				v /= total
			}
			if v < 0 {
				coeffs[xx*k+x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				coeffs[xx*k+x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, coeffs, k
}
