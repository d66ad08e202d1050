package imgproc

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Options configures Filter2D.
type Options struct {
	Border Border
	// Flip rotates the kernel by 180 degrees first: true convolution
	// instead of the correlation CNN frameworks and cv2.filter2D compute.
	Flip bool
	// Threads caps the goroutines over rows; 0 means kernels.Threads(),
	// the process-wide count, which also caps any other value.
	Threads int
}

// Method says which algorithm Filter2D uses for a kernel.
type Method int

const (
	// Direct sums every nonzero tap: O(kw*kh) per pixel.
	Direct Method = iota
	// Separable runs a row pass and a column pass: O(kw+kh) per pixel,
	// chosen for rank-1 kernels where that saves work (not for 3x3 Sobel).
	Separable
	// BoxSum uses running sums: O(1) per pixel whatever the size.
	BoxSum
)

func (m Method) String() string {
	return [...]string{"direct", "separable", "box"}[m]
}

// separableTol is the relative tolerance of the rank-1 test.
const separableTol = 1e-9

// Split returns col and row with k = outer(col, row) when k has rank 1.
// The test needs no SVD: take the largest weight K[p][q]; k is rank 1
// exactly when K[i][j] == K[i][q]*K[p][j]/K[p][q] for all i, j.
func (k Kernel) Split() (col, row []float64, ok bool) {
	p, q, maxAbs := 0, 0, 0.0
	for i, v := range k.Data {
		if math.Abs(v) > maxAbs {
			maxAbs, p, q = math.Abs(v), i/k.W, i%k.W
		}
	}
	if maxAbs == 0 {
		return nil, nil, false
	}
	col = make([]float64, k.H)
	row = make([]float64, k.W)
	for i := range k.H {
		col[i] = k.At(i, q)
	}
	for j := range k.W {
		row[j] = k.At(p, j) / k.At(p, q)
	}
	for i := range k.H {
		for j := range k.W {
			if math.Abs(k.At(i, j)-col[i]*row[j]) > separableTol*maxAbs {
				return nil, nil, false
			}
		}
	}
	return col, row, true
}

func nonzero(v []float64) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}

// ChooseMethod returns the algorithm Filter2D uses for k. Every 3x3
// kernel, a box too, is Direct: its one-pass path beats two passes.
func ChooseMethod(k Kernel) Method {
	if k.W == 3 && k.H == 3 {
		return Direct
	}
	box := true
	for _, v := range k.Data {
		if v != k.Data[0] {
			box = false
			break
		}
	}
	if box && k.Data[0] != 0 && k.W*k.H > 1 {
		return BoxSum
	}
	// Two passes cost about nnz(col) + nnz(row) plus a pass over an
	// intermediate image; one direct pass costs nnz(k).
	if col, row, ok := k.Split(); ok && nonzero(col)+nonzero(row)+4 <= nonzero(k.Data) {
		return Separable
	}
	return Direct
}

// Filter2D computes dst(x, y) = sum_m sum_n K(m, n) src(x+n-ax, y+m-ay),
// with anchor (ax, ay) = (kw/2, kh/2), like cv2.filter2D with ddepth
// CV_32F. The output has src's size; pixels outside src are read
// according to opt.Border.
func Filter2D(src Plane, k Kernel, opt Options) (Plane, error) {
	if err := src.check("filter2d input"); err != nil {
		return Plane{}, err
	}
	if err := checkFilter(k, opt); err != nil {
		return Plane{}, err
	}
	dst := NewPlane(src.W, src.H)
	filter2D(dst, src, k, opt)
	return dst, nil
}

// Filter2DInto is Filter2D writing into dst, which must have src's size
// and must not overlap it: for callers that filter many images of one
// size (video frames) and keep the output, like cv2.filter2D's dst
// argument. A 3x3 kernel then allocates nothing; the box and separable
// paths still allocate an intermediate plane.
func Filter2DInto(dst, src Plane, k Kernel, opt Options) error {
	if err := src.check("filter2d input"); err != nil {
		return err
	}
	if err := dst.check("filter2d output"); err != nil {
		return err
	}
	if dst.W != src.W || dst.H != src.H {
		return fmt.Errorf("filter2d: output is %dx%d, input %dx%d", dst.W, dst.H, src.W, src.H)
	}
	if overlap(dst.Pix, src.Pix) {
		return fmt.Errorf("filter2d: output overlaps the input")
	}
	if err := checkFilter(k, opt); err != nil {
		return err
	}
	filter2D(dst, src, k, opt)
	return nil
}

// overlap reports whether a and b share memory.
func overlap(a, b []float32) bool {
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+4*uintptr(len(b)) && b0 < a0+4*uintptr(len(a))
}

func checkFilter(k Kernel, opt Options) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if opt.Border < BorderReflect101 || opt.Border > BorderZero {
		return fmt.Errorf("filter2d: unknown border %v", opt.Border)
	}
	return nil
}

// filter2D is Filter2D into dst, everything checked.
func filter2D(dst, src Plane, k Kernel, opt Options) {
	ax, ay := k.W/2, k.H/2
	if opt.Flip {
		k = k.Flipped()
		// Flipping moves the anchor too (OpenCV's advice for true convolution).
		ax, ay = k.W-1-ax, k.H-1-ay
	}
	threads := kernels.Threads()
	if opt.Threads > 0 {
		threads = min(threads, opt.Threads)
	}
	b := opt.Border
	switch ChooseMethod(k) {
	case BoxSum:
		tmp := NewPlane(src.W, src.H)
		boxRows(tmp, src, k.W, ax, b, threads)
		boxCols(dst, tmp, k.H, ay, k.Data[0], b, threads)
	case Separable:
		col, row, _ := k.Split()
		tmp := NewPlane(src.W, src.H)
		filterRows(tmp, src, taps(row, len(row)), ax, 0, k.W, b, threads)
		filterRows(dst, tmp, taps(col, 1), 0, ay, 1, b, threads)
	default:
		if k.W == 3 && k.H == 3 {
			filter3x3(dst, src, k, b, threads)
			break
		}
		filterRows(dst, src, taps(k.Data, k.W), ax, ay, k.W, b, threads)
	}
}

// parallelRows runs f over row ranges of [0, n), at least grain rows
// each, on up to threads goroutines (kernels.ParallelLimit hands the
// ranges out in turn, so a slowed core does fewer); small jobs (work =
// multiply-adds) stay on the calling goroutine. One closure per pass:
// nothing here is per row.
func parallelRows(n, threads, work, grain int, f func(lo, hi int)) {
	if threads <= 1 || work < 1<<16 {
		f(0, n)
		return
	}
	kernels.ParallelLimit(n, grain, threads, rowsFunc(f))
}

type rowsFunc func(lo, hi int)

func (f rowsFunc) Run(lo, hi int) { f(lo, hi) }

// tap is one nonzero kernel weight at row m, column n.
type tap struct {
	m, n int
	w    float32
}

// taps lists the nonzero weights of a row-major kernel of width kw.
func taps(data []float64, kw int) []tap {
	var t []tap
	for i, v := range data {
		if v != 0 {
			t = append(t, tap{i / kw, i % kw, float32(v)})
		}
	}
	return t
}

// filterRows computes dst(x, y) = sum over taps of w * src(x+n-ax, y+m-ay)
// without a padded copy: kernel rows are mapped to source rows through
// the border, the interior columns (where every tap lands inside the row)
// are whole-row multiply-adds four taps at a time, and the few border
// columns on each side are done pixel by pixel.
func filterRows(dst, src Plane, ts []tap, ax, ay, kw int, b Border, threads int) {
	w, h := src.W, src.H
	xlo, xhi := min(ax, w), max(w-(kw-1-ax), ax)
	if xhi > w {
		xhi = w
	}
	parallelRows(h, threads, w*h*len(ts), 8, func(lo, hi int) {
		type rowTap struct {
			row []float32
			dx  int
			w   float32
		}
		active := make([]rowTap, 0, len(ts))
		var srcs [maxGroup][]float32
		var ws [maxGroup]float32
		for y := lo; y < hi; y++ {
			active = active[:0]
			for _, t := range ts {
				if sy := borderIndex(y+t.m-ay, h, b); sy >= 0 {
					active = append(active, rowTap{src.Pix[sy*w : (sy+1)*w], t.n - ax, t.w})
				}
			}
			o := dst.Pix[y*w : (y+1)*w]
			if xhi > xlo {
				in := o[xlo:xhi]
				if len(active) == 0 {
					clear(in)
				}
				for i := 0; i < len(active); i += maxGroup {
					g := active[i:min(i+maxGroup, len(active))]
					for j, t := range g {
						srcs[j] = t.row[xlo+t.dx : xhi+t.dx]
						ws[j] = t.w
					}
					kernels.AxpyN(in, ws[:len(g)], srcs[:len(g)], i == 0)
				}
			}
			edge := func(x int) {
				var s float32
				for _, t := range active {
					if sx := borderIndex(x+t.dx, w, b); sx >= 0 {
						s += t.w * t.row[sx]
					}
				}
				o[x] = s
			}
			for x := 0; x < xlo; x++ {
				edge(x)
			}
			for x := max(xhi, xlo); x < w; x++ {
				edge(x)
			}
		}
	})
}

// maxGroup is how many taps filterRows hands kernels.AxpyN at once.
const maxGroup = 16

// boxRows sets tmp to the sums of kw consecutive pixels along each row
// (window starting at x-ax), with a running sum: add the pixel entering
// the window, subtract the one leaving. Sums are float64 so the running
// sum does not drift along a 1920-pixel row; four rows advance together
// so their four dependency chains overlap.
func boxRows(tmp, src Plane, kw, ax int, b Border, threads int) {
	w := src.W
	parallelRows(src.H, threads, w*src.H*4, 16, func(lo, hi int) {
		var pad [4][]float32
		for i := range pad {
			pad[i] = make([]float32, w+kw-1)
		}
		y := lo
		for ; y+4 <= hi; y += 4 {
			var r [4][]float32
			var o [4][]float32
			var s [4]float64
			for i := range 4 {
				r[i] = padRow(pad[i], src.Pix[(y+i)*w:(y+i+1)*w], ax, b)
				o[i] = tmp.Pix[(y+i)*w : (y+i+1)*w]
				for x := range kw {
					s[i] += float64(r[i][x])
				}
				o[i][0] = float32(s[i])
			}
			r0, r1, r2, r3 := r[0][:w+kw-1], r[1][:w+kw-1], r[2][:w+kw-1], r[3][:w+kw-1]
			o0, o1, o2, o3 := o[0][:w], o[1][:w], o[2][:w], o[3][:w]
			s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
			for x := 1; x < w; x++ {
				in, out := x+kw-1, x-1
				s0 += float64(r0[in]) - float64(r0[out])
				s1 += float64(r1[in]) - float64(r1[out])
				s2 += float64(r2[in]) - float64(r2[out])
				s3 += float64(r3[in]) - float64(r3[out])
				o0[x], o1[x], o2[x], o3[x] = float32(s0), float32(s1), float32(s2), float32(s3)
			}
		}
		for ; y < hi; y++ {
			r := padRow(pad[0], src.Pix[y*w:(y+1)*w], ax, b)
			o := tmp.Pix[y*w : (y+1)*w]
			var s float64
			for x := range kw {
				s += float64(r[x])
			}
			o[0] = float32(s)
			for x := 1; x < w; x++ {
				s += float64(r[x+kw-1]) - float64(r[x-1])
				o[x] = float32(s)
			}
		}
	})
}

// boxCols sets dst(x, y) = v * (sum of tmp(x, y-ay .. y-ay+kh-1)) with a
// running sum per column; rows outside come from the border mapping.
func boxCols(dst, tmp Plane, kh, ay int, v float64, b Border, threads int) {
	w, h := tmp.W, tmp.H
	row := func(y int) []float32 {
		if sy := borderIndex(y, h, b); sy >= 0 {
			return tmp.Pix[sy*w : (sy+1)*w]
		}
		return nil // zero border
	}
	// Each range first sums kh rows: ranges of 8*kh rows keep that small.
	parallelRows(h, threads, w*h*4, 8*kh, func(lo, hi int) {
		cs := make([]float64, w)
		for m := range kh {
			for x, t := range row(lo + m - ay) {
				cs[x] += float64(t)
			}
		}
		for y := lo; y < hi; y++ {
			if y > lo {
				add, sub := row(y+kh-1-ay), row(y-1-ay)
				for x, t := range add {
					cs[x] += float64(t)
				}
				for x, t := range sub {
					cs[x] -= float64(t)
				}
			}
			o := dst.Pix[y*w : (y+1)*w]
			for x, s := range cs {
				o[x] = float32(s * v)
			}
		}
	})
}

// FilterPlanes filters each plane (e.g. R, G and B) with k.
func FilterPlanes(planes []Plane, k Kernel, opt Options) ([]Plane, error) {
	out := make([]Plane, len(planes))
	for i, p := range planes {
		var err error
		if out[i], err = Filter2D(p, k, opt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MinMax returns the smallest and largest value over planes.
func MinMax(planes ...Plane) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, p := range planes {
		for _, v := range p.Pix {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}
