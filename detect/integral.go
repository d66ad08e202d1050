package detect

// Integral images, OpenCV layout: (w+1)x(h+1) with a zero first row and
// column, so the sum over [x0,x1)x[y0,y1) is
// s[y1][x1] - s[y1][x0] - s[y0][x1] + s[y0][x0]. Sums are int32 and squared
// sums uint32 as in OpenCV: they may wrap on big images, but a window's
// difference of four corners is still exact in modular arithmetic.

// integral computes the sum and squared-sum integral images of a w x h
// gray image with row stride pstride.
func integral(pix []uint8, w, h, pstride int, sum []int32, sq []uint32) {
	stride := w + 1
	for x := 0; x <= w; x++ {
		sum[x], sq[x] = 0, 0
	}
	for y := 0; y < h; y++ {
		row := pix[y*pstride : y*pstride+w]
		prev := sum[y*stride : y*stride+stride]
		cur := sum[(y+1)*stride : (y+1)*stride+stride]
		prevq := sq[y*stride : y*stride+stride]
		curq := sq[(y+1)*stride : (y+1)*stride+stride]
		cur[0], curq[0] = 0, 0
		var s int32
		var q uint32
		for x, p := range row {
			v := int32(p)
			s += v
			q += uint32(v * v)
			cur[x+1] = prev[x+1] + s
			curq[x+1] = prevq[x+1] + q
		}
	}
}

// tiltedIntegral computes OpenCV's rotated integral image:
// t[Y][X] = sum of pixels (x,y) with y < Y and |x-X+1| <= Y-1-y, the
// triangle above and around (X-1, Y-1). It uses the recurrence
// T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2)
// on rows widened by h+1 columns each side, since the triangles reach
// outside the image.
func tiltedIntegral(pix []uint8, w, h, pstride int, t []int32) {
	stride := w + 1
	m := h + 1         // margin
	bw := stride + 2*m // buffer width: X from -m to w+m
	rows := [3][]int32{make([]int32, bw), make([]int32, bw), make([]int32, bw)}
	img := func(x, y int) int32 {
		if x < 0 || x >= w || y < 0 {
			return 0
		}
		return int32(pix[y*pstride+x])
	}
	for X := 0; X <= w; X++ {
		t[X] = 0
	}
	// rows[Y%3] holds row Y; rows Y=0 and Y=-1 are zero.
	for Y := 1; Y <= h; Y++ {
		cur, p1, p2 := rows[Y%3], rows[(Y+2)%3], rows[(Y+1)%3]
		if Y == 1 {
			clear(p2)
			clear(p1)
		}
		for i := 0; i < bw; i++ {
			X := i - m
			var a, b int32
			if i > 0 {
				a = p1[i-1]
			}
			if i+1 < bw {
				b = p1[i+1]
			}
			cur[i] = a + b - p2[i] + img(X-1, Y-1) + img(X-1, Y-2)
		}
		copy(t[Y*stride:Y*stride+stride], cur[m:m+stride])
	}
}

// resizeLinearExact shrinks (or copies) a gray image like OpenCV's
// resize with INTER_LINEAR_EXACT: source position (d+0.5)*scale-0.5,
// weights rounded to 1/256, rows interpolated in 8.8 fixed point and the
// result rounded from 16 fractional bits, borders replicated.
func resizeLinearExact(src []uint8, sw, sh, sstride int, dst []uint8, dw, dh int) {
	if sw == dw && sh == dh {
		for y := 0; y < sh; y++ {
			copy(dst[y*dw:(y+1)*dw], src[y*sstride:y*sstride+sw])
		}
		return
	}
	xo, xc := linearCoeffs(sw, dw)
	yo, yc := linearCoeffs(sh, dh)
	row0 := make([]uint32, dw)
	row1 := make([]uint32, dw)
	hline := func(y int, out []uint32) {
		s := src[y*sstride : y*sstride+sw]
		for x := 0; x < dw; x++ {
			o := xo[x]
			c1 := xc[x]
			if c1 == 0 {
				out[x] = uint32(s[o]) << 8
				continue
			}
			out[x] = uint32(s[o])*(256-c1) + uint32(s[o+1])*c1
		}
	}
	last0, last1 := -1, -1
	for y := 0; y < dh; y++ {
		o, c1 := yo[y], yc[y]
		if o != last0 {
			if o == last1 {
				row0, row1 = row1, row0
				last0, last1 = last1, -1
			} else {
				hline(o, row0)
				last0 = o
			}
		}
		d := dst[y*dw : (y+1)*dw]
		if c1 == 0 {
			for x := range d {
				d[x] = uint8((row0[x] + 128) >> 8)
			}
			continue
		}
		if o+1 != last1 {
			hline(o+1, row1)
			last1 = o + 1
		}
		c0 := 256 - c1
		for x := range d {
			d[x] = uint8((row0[x]*c0 + row1[x]*c1 + 1<<15) >> 16)
		}
	}
}

// linearCoeffs returns, for each destination index, the first source
// index and the weight (out of 256) of the next one.
func linearCoeffs(ssize, dsize int) ([]int, []uint32) {
	off := make([]int, dsize)
	coef := make([]uint32, dsize)
	scale := 1 / (float64(dsize) / float64(ssize))
	for d := 0; d < dsize; d++ {
		f := float64(scale*(float64(d)+0.5)) - 0.5
		i := int(floorF(f))
		switch {
		case i < 0 || ssize == 1:
			off[d], coef[d] = 0, 0
		case i >= ssize-1:
			off[d], coef[d] = ssize-1, 0
		default:
			off[d] = i
			coef[d] = uint32(roundEven((f - float64(i)) * 256))
			if coef[d] >= 256 { // weight 1 on the next pixel
				off[d], coef[d] = i+1, 0
			}
		}
	}
	return off, coef
}
