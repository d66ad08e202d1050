package kernels

import "math"

// ResizeBilinearU8 resizes an interleaved 8-bit image of ch channels from
// sw x sh (src) to dw x dh (dst, which must hold dw*dh*ch values) like
// PIL's Image.resize(size, BILINEAR): a triangle filter whose support
// widens with the downscale factor (so it antialiases), horizontal pass
// then vertical, an 8-bit intermediate and 22-bit fixed-point
// coefficients, so that results match PIL byte for byte. It allocates the
// coefficient tables and, when both passes run, the intermediate image.
func ResizeBilinearU8(dst []uint8, dw, dh int, src []uint8, sw, sh, ch int) {
	if dw <= 0 || dh <= 0 || ch <= 0 {
		return
	}
	if sw == dw && sh == dh {
		copy(dst[:dw*dh*ch], src[:sw*sh*ch])
		return
	}
	tmp := src
	if sw != dw {
		tmp = dst
		if sh != dh {
			tmp = make([]uint8, dw*sh*ch)
		}
		resampleRows(tmp, dw, src, sw, sh, ch)
	}
	if sh != dh {
		resampleCols(dst, dh, tmp, dw, sh, ch)
	}
}

// resampleRows resizes each of the h rows of src from sw to dw pixels.
func resampleRows(dst []uint8, dw int, src []uint8, sw, h, ch int) {
	bounds, coeffs, k := resampleCoeffs(sw, dw)
	for y := 0; y < h; y++ {
		in := src[y*sw*ch : (y+1)*sw*ch]
		out := dst[y*dw*ch : (y+1)*dw*ch]
		for x := 0; x < dw; x++ {
			x0, n := bounds[2*x], bounds[2*x+1]
			cf := coeffs[x*k : x*k+n]
			for c := 0; c < ch; c++ {
				s := int64(1) << (precisionBits - 1)
				for t, w := range cf {
					s += int64(in[(x0+t)*ch+c]) * int64(w)
				}
				out[x*ch+c] = clip8(s)
			}
		}
	}
}

// resampleCols resizes the columns of src (w pixels wide) from sh to dh rows.
func resampleCols(dst []uint8, dh int, src []uint8, w, sh, ch int) {
	bounds, coeffs, k := resampleCoeffs(sh, dh)
	stride := w * ch
	for y := 0; y < dh; y++ {
		y0, n := bounds[2*y], bounds[2*y+1]
		cf := coeffs[y*k : y*k+n]
		out := dst[y*stride : (y+1)*stride]
		for i := range out {
			s := int64(1) << (precisionBits - 1)
			for t, c := range cf {
				s += int64(src[(y0+t)*stride+i]) * int64(c)
			}
			out[i] = clip8(s)
		}
	}
}

// precisionBits is PIL's fixed-point precision: 32 bits less 8 for the
// pixel and 2 of headroom.
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
