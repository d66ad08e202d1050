package imgproc

import (
	"sync/atomic"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// filter3x3 is the direct path for 3x3 kernels (anchor (1, 1)): one
// kernels.FilterRow3x3 call per output row sums all nine taps over the
// interior columns in one pass, reading each source row from cache three
// times; only the first and last column go through the border mapping.
// A zero weight, or a row outside a zero border, reads a row of zeros,
// so a NaN or infinity in the image reaches only the outputs whose
// nonzero taps touch it, as in filterRows and cv2.filter2D.
func filter3x3(dst, src Plane, k Kernel, b Border, threads int) {
	w, h := src.W, src.H
	var wt [9]float32
	for i, v := range k.Data {
		wt[i] = float32(v)
	}
	var zero []float32
	if w > 2 {
		zero = zeroRow(w - 2)
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
					srcs[t] = zero
					if r := rows[t/3]; r != nil && wt[t] != 0 {
						srcs[t] = r[t%3 : t%3+w-2]
					}
				}
				kernels.FilterRow3x3(o[1:w-1], &srcs, &wt)
			}
			edge := func(x int) {
				var s float32
				for t, v := range wt {
					if r := rows[t/3]; r != nil && v != 0 {
						if sx := borderIndex(x+t%3-1, w, b); sx >= 0 {
							s += v * r[sx]
						}
					}
				}
				o[x] = s
			}
			edge(0)
			for x := max(1, w-1); x < w; x++ {
				edge(x)
			}
		}
	})
}

// zeros is a read-only row of zeros shared by every filter3x3 call; it
// grows to the widest image seen, so calls do not allocate one each.
var zeros atomic.Pointer[[]float32]

func zeroRow(n int) []float32 {
	if z := zeros.Load(); z != nil && len(*z) >= n {
		return (*z)[:n]
	}
	z := make([]float32, n)
	zeros.Store(&z)
	return z
}
