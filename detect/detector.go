package detect

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Options controls Detect. The zero value gives OpenCV's defaults.
type Options struct {
	// ScaleFactor is the step between pyramid levels (> 1); 0 means 1.1.
	ScaleFactor float64
	// MinNeighbors is how many raw detections a group needs beyond
	// itself to be kept (OpenCV's minNeighbors); 0 means the default 3.
	// A negative value skips grouping and returns every raw window.
	MinNeighbors int
	// MinSize and MaxSize bound the window side in pixels of the input
	// image; 0 means no minimum, and the image size as maximum.
	MinSize, MaxSize int
	// Workers is how many stripes the image is cut into per core (more
	// stripes balance better) and caps the goroutines, which
	// kernels.Threads(), the process-wide count, also caps; 0 means
	// kernels.Threads().
	Workers int
}

// Detection is one found object: its box and how many raw windows were
// merged into it (0 when grouping is off).
type Detection struct {
	Rect      image.Rectangle
	Neighbors int
}

// groupEps is OpenCV's GROUP_EPS for detectMultiScale.
const groupEps = 0.2

func (o Options) withDefaults() (Options, error) {
	if o.ScaleFactor == 0 {
		o.ScaleFactor = 1.1
	}
	if !(o.ScaleFactor > 1) || math.IsInf(o.ScaleFactor, 0) {
		return o, fmt.Errorf("detect: scale factor %v must be greater than 1", o.ScaleFactor)
	}
	if o.MinNeighbors == 0 {
		o.MinNeighbors = 3
	}
	if o.MinSize < 0 || o.MaxSize < 0 {
		return o, fmt.Errorf("detect: min size %d and max size %d must not be negative", o.MinSize, o.MaxSize)
	}
	if o.Workers <= 0 {
		o.Workers = kernels.Threads()
	}
	return o, nil
}

// Detect finds objects in img and returns their boxes in img's
// coordinates, like OpenCV's detectMultiScale.
func (c *Cascade) Detect(img image.Image, opt Options) ([]image.Rectangle, error) {
	ds, err := c.DetectNeighbors(img, opt)
	if err != nil {
		return nil, err
	}
	out := make([]image.Rectangle, len(ds))
	for i, d := range ds {
		out[i] = d.Rect
	}
	return out, nil
}

// DetectNeighbors is Detect returning the neighbour count of each box.
func (c *Cascade) DetectNeighbors(img image.Image, opt Options) ([]Detection, error) {
	if img == nil {
		return nil, errors.New("detect: nil image")
	}
	g := Gray(img)
	ds, err := c.DetectGray(g, opt)
	if err != nil {
		return nil, err
	}
	off := img.Bounds().Min
	for i := range ds {
		ds[i].Rect = ds[i].Rect.Add(off)
	}
	return ds, nil
}

// DetectGray runs the detector on a gray image; boxes are relative to
// g.Bounds().Min.
func (c *Cascade) DetectGray(g *image.Gray, opt Options) ([]Detection, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("detect: nil image")
	}
	// Feature offsets within a window are int32 byte offsets.
	if w, h := g.Rect.Dx(), g.Rect.Dy(); int64(w+1)*int64(c.Height+1)*4 >= math.MaxInt32 || int64(w)*int64(h) > 1<<30 {
		return nil, fmt.Errorf("detect: image %dx%d is too large", w, h)
	}
	raw := c.scan(g, opt)
	if opt.MinNeighbors < 0 {
		out := make([]Detection, len(raw))
		for i, r := range raw {
			out[i] = Detection{Rect: r}
		}
		return out, nil
	}
	return GroupRectangles(raw, opt.MinNeighbors, groupEps), nil
}

// scales lists the pyramid factors as detectMultiScale does: window sizes
// round(size*factor) from the trained size up to MaxSize, skipping those
// under MinSize; factors are kept as float32 like OpenCV.
func (c *Cascade) scales(w, h int, opt Options) []float32 {
	maxW, maxH := w, h
	if opt.MaxSize > 0 {
		maxW, maxH = opt.MaxSize, opt.MaxSize
	}
	var out []float32
	for f := 1.0; ; f *= opt.ScaleFactor {
		ww, wh := cvRound(float64(c.Width)*f), cvRound(float64(c.Height)*f)
		if ww > maxW || wh > maxH {
			break
		}
		if ww < opt.MinSize || wh < opt.MinSize {
			continue
		}
		out = append(out, float32(f))
	}
	return out
}

// level is one pyramid level: the shrunk image's integral images and the
// cascade's features turned into offsets for its row stride.
type level struct {
	scale        float32
	w, h         int // shrunk image size
	stride       int // w+1
	sum          []int32
	sq           []uint32
	tilt         []int32
	feats        []optFeature
	stumps       []optStump
	nofs         [4]int // variance rectangle corners
	area         float64
	winW, winH   int // window size in the input image
	workW, workH int // window positions per row and column
	step         int
}

type optFeature struct {
	ofs    [3][4]int32
	weight [3]float32
	tilted bool
}

type optStump struct {
	optFeature
	threshold float32
	leaves    [2]float32 // right (feature >= threshold), left
}

// prepare shrinks the image for one scale and computes its tables.
func (c *Cascade) prepare(g *image.Gray, sc float32) *level {
	W, H := g.Rect.Dx(), g.Rect.Dy()
	lv := &level{scale: sc}
	lv.w = cvRound(float64(float32(W) / sc))
	lv.h = cvRound(float64(float32(H) / sc))
	lv.workW = max(lv.w+1-c.Width, 0)
	lv.workH = max(lv.h+1-c.Height, 0)
	if lv.workW == 0 || lv.workH == 0 {
		return lv
	}
	lv.step = 2
	if sc >= 2 {
		lv.step = 1
	}
	lv.winW = cvRound(float64(float32(c.Width) * sc))
	lv.winH = cvRound(float64(float32(c.Height) * sc))
	pix := make([]uint8, lv.w*lv.h)
	src := g.Pix[g.PixOffset(g.Rect.Min.X, g.Rect.Min.Y):]
	resizeLinearExact(src, W, H, g.Stride, pix, lv.w, lv.h)
	lv.stride = lv.w + 1
	n := lv.stride * (lv.h + 1)
	lv.sum = make([]int32, n)
	lv.sq = make([]uint32, n)
	integral(pix, lv.w, lv.h, lv.w, lv.sum, lv.sq)
	if c.hasTilted {
		lv.tilt = make([]int32, n)
		tiltedIntegral(pix, lv.w, lv.h, lv.w, lv.tilt)
	}
	// OpenCV normalises by the window's deviation over the window minus
	// a one-pixel border.
	nr := rect{1, 1, c.Width - 2, c.Height - 2}
	for k, o := range uprightOfs(nr, lv.stride) {
		lv.nofs[k] = int(o)
	}
	lv.area = float64(nr.w * nr.h)
	lv.feats = make([]optFeature, len(c.features))
	for i, f := range c.features {
		of := &lv.feats[i]
		of.tilted = f.tilted
		for k := 0; k < f.n; k++ {
			if f.tilted {
				of.ofs[k] = tiltedOfs(f.rects[k], lv.stride)
			} else {
				of.ofs[k] = uprightOfs(f.rects[k], lv.stride)
			}
			of.weight[k] = f.weight[k]
		}
	}
	if c.stumps {
		lv.stumps = make([]optStump, len(c.trees))
		for i, t := range c.trees {
			nd := t.nodes[0]
			lv.stumps[i] = optStump{optFeature: lv.feats[nd.feature], threshold: nd.threshold,
				leaves: [2]float32{t.leaves[-nd.right], t.leaves[-nd.left]}}
			for k := range lv.stumps[i].ofs {
				for j := range lv.stumps[i].ofs[k] {
					lv.stumps[i].ofs[k][j] *= 4 // byte offsets for stageSum
				}
			}
		}
	}
	return lv
}

func uprightOfs(r rect, stride int) [4]int32 {
	return [4]int32{
		int32(r.x + stride*r.y),
		int32(r.x + r.w + stride*r.y),
		int32(r.x + stride*(r.y+r.h)),
		int32(r.x + r.w + stride*(r.y+r.h)),
	}
}

// tiltedOfs gives the corners of a 45-degree rectangle in the rotated
// integral image, ordered so that the sum is p0 - p1 - p2 + p3.
func tiltedOfs(r rect, stride int) [4]int32 {
	return [4]int32{
		int32(r.x + stride*r.y),
		int32(r.x - r.h + stride*(r.y+r.h)),
		int32(r.x + r.w + stride*(r.y+r.w)),
		int32(r.x + r.w - r.h + stride*(r.y+r.w+r.h)),
	}
}

// calc returns the feature's weighted rectangle sums at window offset p,
// in float32 like OpenCV.
func (f *optFeature) calc(sum, tilt []int32, p int) float32 {
	s := sum
	if f.tilted {
		s = tilt
	}
	o := &f.ofs
	v := f.weight[0]*float32(s[p+int(o[0][0])]-s[p+int(o[0][1])]-s[p+int(o[0][2])]+s[p+int(o[0][3])]) +
		float32(f.weight[1]*float32(s[p+int(o[1][0])]-s[p+int(o[1][1])]-s[p+int(o[1][2])]+s[p+int(o[1][3])]))
	if f.weight[2] != 0 {
		v += float32(f.weight[2] * float32(s[p+int(o[2][0])]-s[p+int(o[2][1])]-s[p+int(o[2][2])]+s[p+int(o[2][3])]))
	}
	return v
}

// runAt classifies the window at (x, y) of a level: 1 if every stage
// accepts it, -1 if its variance is too low to look at, else minus the
// index of the rejecting stage (so 0 means the first stage rejected it).
func (c *Cascade) runAt(lv *level, x, y int) int {
	p := y*lv.stride + x
	s, q := lv.sum, lv.sq
	n := lv.nofs
	valsum := s[p+n[0]] - s[p+n[1]] - s[p+n[2]] + s[p+n[3]]
	valsq := q[p+n[0]] - q[p+n[1]] - q[p+n[2]] + q[p+n[3]]
	nf := lv.area*float64(valsq) - float64(valsum)*float64(valsum)
	if !(nf > 0) {
		return -1
	}
	vnf := float32(1 / math.Sqrt(nf))
	if !(lv.area*float64(vnf) < 0.1) {
		return -1
	}
	if lv.stumps != nil {
		ps := unsafe.Pointer(&s[p])
		pt := ps
		if lv.tilt != nil {
			pt = unsafe.Pointer(&lv.tilt[p])
		}
		st := lv.stumps
		for si, stg := range c.stages {
			if stageSum(st[stg.first:stg.first+stg.size], ps, pt, vnf) < float64(stg.threshold) {
				return -si
			}
		}
		return 1
	}
	for si, stg := range c.stages {
		var sum float64
		for _, t := range c.trees[stg.first : stg.first+stg.size] {
			idx := 0
			for {
				nd := &t.nodes[idx]
				v := float32(lv.feats[nd.feature].calc(s, lv.tilt, p) * vnf)
				if v < nd.threshold {
					idx = nd.left
				} else {
					idx = nd.right
				}
				if idx <= 0 {
					break
				}
			}
			sum += float64(t.leaves[-idx])
		}
		if sum < float64(stg.threshold) {
			return -si
		}
	}
	return 1
}

// scanRows runs the cascade over window rows [y0, y1) of a level.
func (c *Cascade) scanRows(lv *level, y0, y1 int, out []image.Rectangle) []image.Rectangle {
	step := lv.step
	for y := y0; y < y1; y += step {
		for x := 0; x < lv.workW; x += step {
			r := c.runAt(lv, x, y)
			if r > 0 {
				px := cvRound(float64(float32(x) * lv.scale))
				py := cvRound(float64(float32(y) * lv.scale))
				out = append(out, image.Rect(px, py, px+lv.winW, py+lv.winH))
			} else if r == 0 {
				x += step // rejected at once: the neighbour is skipped too
			}
		}
	}
	return out
}

// scan returns the raw windows accepted by the cascade, ordered by scale,
// row and column whatever the number of workers.
func (c *Cascade) scan(g *image.Gray, opt Options) []image.Rectangle {
	W, H := g.Rect.Dx(), g.Rect.Dy()
	if W < c.Width || H < c.Height {
		return nil
	}
	scales := c.scales(W, H, opt)
	type task struct {
		scale  int
		y0, y1 int
		prep   bool // only build the level
	}
	type scaleState struct {
		once    sync.Once
		lv      *level
		stripes int
		left    atomic.Int32 // stripes not finished; the level is freed at 0
	}
	states := make([]scaleState, len(scales))
	var tasks []task
	for si, sc := range scales {
		// Size the stripes from the shrunk height without building it.
		h := cvRound(float64(float32(H) / sc))
		rows := max(h+1-c.Height, 0)
		step := 2
		if sc >= 2 {
			step = 1
		}
		stripe := rows
		if opt.Workers > 1 {
			stripe = (rows + 4*opt.Workers - 1) / (4 * opt.Workers)
			stripe = max(stripe, 8)
			stripe = (stripe + step - 1) / step * step
		}
		if opt.Workers > 1 && rows > 0 {
			// Build this level while the previous one is scanned: a
			// stripe task that found its level still being built would
			// wait for it, and the level builds (15-20% of the serial
			// time) would run one at a time.
			prep := task{scale: si, prep: true}
			if k := len(tasks); k > 0 && tasks[k-1].scale == si-1 {
				k -= states[si-1].stripes
				tasks = slices.Insert(tasks, k, prep)
			} else {
				tasks = append(tasks, prep)
			}
		}
		n := 0
		for y := 0; y < rows; y += stripe {
			tasks = append(tasks, task{scale: si, y0: y, y1: min(y+stripe, rows)})
			n++
		}
		states[si].stripes = n
		states[si].left.Store(int32(n))
	}
	results := make([][]image.Rectangle, len(tasks))
	run := func(i int) {
		t := tasks[i]
		st := &states[t.scale]
		st.once.Do(func() { st.lv = c.prepare(g, scales[t.scale]) })
		if t.prep {
			return
		}
		lv := st.lv
		if lv.workW > 0 && lv.workH > 0 {
			results[i] = c.scanRows(lv, t.y0, min(t.y1, lv.workH), nil)
		}
		if st.left.Add(-1) == 0 {
			st.lv = nil
		}
	}
	// Stripes differ in cost (scales shrink), so each goroutine takes the
	// next stripe as it finishes one.
	var next atomic.Int64
	kernels.ParallelFunc(min(opt.Workers, len(tasks)), 1, func(lo, hi int) {
		for i := int(next.Add(1) - 1); i < len(tasks); i = int(next.Add(1) - 1) {
			run(i)
		}
	})
	// Windows are placed in the shrunk image, so rounding can push a box
	// a pixel past the border; OpenCV clips them to the image.
	var out []image.Rectangle
	bounds := image.Rect(0, 0, W, H)
	for _, r := range results {
		for _, b := range r {
			out = append(out, b.Intersect(bounds))
		}
	}
	return out
}

// stageSum adds the votes of a stage's stumps for the window whose
// integral images start at ps (upright) and pt (tilted). The offsets were
// checked against the window when the cascade was parsed and every window
// lies inside the level, so the reads stay in bounds; unsafe pointer
// arithmetic drops the twelve bounds checks per feature, the detector's
// hot spot.
func stageSum(st []optStump, ps, pt unsafe.Pointer, vnf float32) float64 {
	var sum float64
	for i := range st {
		sp := &st[i]
		b := ps
		if sp.tilted {
			b = pt
		}
		o := &sp.ofs
		v := sp.weight[0]*float32(at(b, o[0][0])-at(b, o[0][1])-at(b, o[0][2])+at(b, o[0][3])) +
			float32(sp.weight[1]*float32(at(b, o[1][0])-at(b, o[1][1])-at(b, o[1][2])+at(b, o[1][3])))
		if sp.weight[2] != 0 {
			v += float32(sp.weight[2] * float32(at(b, o[2][0])-at(b, o[2][1])-at(b, o[2][2])+at(b, o[2][3])))
		}
		// The leaf is picked by index, not by a branch: which side a
		// window falls on is data, and mispredicted branches cost more
		// than the stump's arithmetic.
		left := 0
		if float32(v*vnf) < sp.threshold {
			left = 1
		}
		sum += float64(sp.leaves[left])
	}
	return sum
}

// at reads the int32 at byte offset o from b.
func at(b unsafe.Pointer, o int32) int32 { return *(*int32)(unsafe.Add(b, o)) }
