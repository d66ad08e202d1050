package imgproc

import (
	"sync/atomic"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// filter3x3 is the direct path for 3x3 kernels (anchor (1, 1)): one
// kernels.FilterRow3x3 call per output row sums the nonzero taps over the
// interior columns in one pass, reading each source row from cache three
// times; only the first and last column go through the border mapping.
// Zero weights are left out, as in filterRows and cv2.filter2D, so a NaN
// or infinity in the image reaches only the outputs whose nonzero taps
// touch it.
func filter3x3(dst, src Plane, k Kernel, b Border, threads int) {
	w, h := src.W, src.H
	if threads <= 1 || w*h*9 < 1<<16 { // parallelRows' rule
		t := newFilter3x3Task(dst, src, k, b) // stays on the stack
		t.Run(0, h)
		return
	}
	// Handed to the worker pool the task escapes, so one is kept for the
	// next call (a sync.Pool would miss: the pool hands the caller to
	// another P). Concurrent calls allocate their own.
	t := spareTask.Swap(nil)
	if t == nil {
		t = new(filter3x3Task)
	}
	*t = newFilter3x3Task(dst, src, k, b)
	kernels.ParallelLimit(h, 8, threads, t)
	*t = filter3x3Task{} // drop the planes
	spareTask.Store(t)
}

var spareTask atomic.Pointer[filter3x3Task]

// filter3x3Task is filter3x3 over rows [lo, hi): a Task rather than a
// closure so that a call allocates nothing.
type filter3x3Task struct {
	dst, src Plane
	b        Border
	wt       [9]float32
	edges    [2][3]int // source columns of the taps of the first and last output column
}

func newFilter3x3Task(dst, src Plane, k Kernel, b Border) filter3x3Task {
	t := filter3x3Task{dst: dst, src: src, b: b}
	for i, v := range k.Data {
		t.wt[i] = float32(v)
	}
	for j := range 3 {
		t.edges[0][j] = borderIndex(j-1, src.W, b)
		t.edges[1][j] = borderIndex(src.W-2+j, src.W, b)
	}
	return t
}

func (t *filter3x3Task) Run(lo, hi int) {
	w, h := t.src.W, t.src.H
	var srcs [9][]float32
	var rows [3][]float32
	for y := lo; y < hi; y++ {
		for m := range rows {
			rows[m] = nil // zero border
			if sy := borderIndex(y+m-1, h, t.b); sy >= 0 {
				rows[m] = t.src.Pix[sy*w : (sy+1)*w]
			}
		}
		o := t.dst.Pix[y*w : (y+1)*w]
		if w > 2 {
			for i := range srcs {
				srcs[i] = nil
				if r := rows[i/3]; r != nil {
					srcs[i] = r[i%3 : i%3+w-2]
				}
			}
			kernels.FilterRow3x3(o[1:w-1], &srcs, &t.wt)
		}
		for e, x := range [2]int{0, w - 1} {
			if e == 1 && w == 1 {
				break
			}
			var s float32
			for i, v := range t.wt {
				if r, sx := rows[i/3], t.edges[e][i%3]; r != nil && v != 0 && sx >= 0 {
					s += v * r[sx]
				}
			}
			o[x] = s
		}
	}
}
