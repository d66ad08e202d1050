package imgproc

import "github.com/dlcv-go/dlcv/internal/kernels"

// filter3x3 is the direct path for 3x3 kernels (anchor (1, 1)): one
// kernels.FilterRow3x3 call per output row sums the nonzero taps over the
// interior columns in one pass, reading each source row from cache three
// times; only the first and last column go through the border mapping.
// Zero weights are left out, as in filterRows and cv2.filter2D, so a NaN
// or infinity in the image reaches only the outputs whose nonzero taps
// touch it.
func filter3x3(dst, src Plane, k Kernel, b Border, threads int) {
	w, h := src.W, src.H
	var wt [9]float32
	for i, v := range k.Data {
		wt[i] = float32(v)
	}
	// Source columns of the taps of the first and last output column.
	var edges [2][3]int
	for j := range 3 {
		edges[0][j] = borderIndex(j-1, w, b)
		edges[1][j] = borderIndex(w-2+j, w, b)
	}
	parallelRows(h, threads, w*h*9, 8, func(lo, hi int) {
		var srcs [9][]float32
		var rows [3][]float32
		for y := lo; y < hi; y++ {
			for m := range rows {
				rows[m] = nil // zero border
				if sy := borderIndex(y+m-1, h, b); sy >= 0 {
					rows[m] = src.Pix[sy*w : (sy+1)*w]
				}
			}
			o := dst.Pix[y*w : (y+1)*w]
			if w > 2 {
				for t := range srcs {
					srcs[t] = nil
					if r := rows[t/3]; r != nil {
						srcs[t] = r[t%3 : t%3+w-2]
					}
				}
				kernels.FilterRow3x3(o[1:w-1], &srcs, &wt)
			}
			for e, x := range [2]int{0, w - 1} {
				if e == 1 && w == 1 {
					break
				}
				var s float32
				for t, v := range wt {
					if r, sx := rows[t/3], edges[e][t%3]; r != nil && v != 0 && sx >= 0 {
						s += v * r[sx]
					}
				}
				o[x] = s
			}
		}
	})
}
