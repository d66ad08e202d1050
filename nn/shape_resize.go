package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Resize scales NHWC images (N, H, W, C) in height and width, as ONNX
// Resize (and F.interpolate, tf.image.resize). The output size is Sizes
// (height, width), or floor(in * Scales) for Scales (height, width); with
// Scales the coordinate transform uses the scales themselves, with Sizes
// out/in, as ONNX specifies.
//
// CoordinateMode maps an output coordinate x to the input coordinate
// (ONNX coordinate_transformation_mode; s is the scale):
//
//   - "half_pixel" (the default): (x + 0.5)/s - 0.5. PyTorch's
//     align_corners=False bilinear, TensorFlow 2.
//   - "pytorch_half_pixel": the same, but 0 when the output has one pixel.
//   - "align_corners": x * (in-1)/(out-1) (0 for one output pixel).
//   - "asymmetric": x / s. PyTorch's nearest, TensorFlow 1 without flags.
//
// Mode "nearest" (the default) takes the input pixel at the coordinate
// rounded by NearestMode: "round_prefer_floor" (the default; halves go
// down), "round_prefer_ceil" (halves go up: TensorFlow's nearest is
// half_pixel with it), "floor" (PyTorch's nearest, with asymmetric) or
// "ceil". Mode "bilinear" ("linear" is accepted too) interpolates the
// four pixels around the coordinate, clamped to the image. Backward adds
// each output gradient into the pixels it was taken from, with the same
// weights.
type Resize struct {
	noParams
	Mode           string    `json:"mode,omitempty"`
	CoordinateMode string    `json:"coordinate_mode,omitempty"`
	NearestMode    string    `json:"nearest_mode,omitempty"`
	Scales         []float32 `json:"scales,omitempty"`
	Sizes          []int     `json:"sizes,omitempty"`
}

// NewResize returns a resize by scale factors (height, width) in mode
// "nearest" or "bilinear", with half_pixel coordinates.
func NewResize(mode string, scaleH, scaleW float32) *Resize {
	return &Resize{Mode: mode, Scales: []float32{scaleH, scaleW}}
}

// NewResizeTo returns a resize to an output size in mode "nearest" or
// "bilinear", with half_pixel coordinates.
func NewResizeTo(mode string, height, width int) *Resize {
	return &Resize{Mode: mode, Sizes: []int{height, width}}
}

// Kind implements Op.
func (o *Resize) Kind() string { return "Resize" }

// Saves: nothing; the gradient depends on the geometry alone.
func (o *Resize) Saves() (inputs, outputs bool) { return false, false }

const (
	coordHalfPixel = iota
	coordPytorchHalfPixel
	coordAlignCorners
	coordAsymmetric
)

const (
	roundPreferFloor = iota
	roundPreferCeil
	roundFloor
	roundCeil
)

// config resolves the modes.
func (o *Resize) config() (bilinear bool, coord, round int, err error) {
	switch o.Mode {
	case "", "nearest":
	case "bilinear", "linear":
		bilinear = true
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown mode %q (want nearest or bilinear)", o.Mode)
	}
	switch o.CoordinateMode {
	case "", "half_pixel":
		coord = coordHalfPixel
	case "pytorch_half_pixel":
		coord = coordPytorchHalfPixel
	case "align_corners":
		coord = coordAlignCorners
	case "asymmetric":
		coord = coordAsymmetric
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown coordinate mode %q (want half_pixel, pytorch_half_pixel, align_corners or asymmetric)", o.CoordinateMode)
	}
	switch o.NearestMode {
	case "", "round_prefer_floor":
		round = roundPreferFloor
	case "round_prefer_ceil":
		round = roundPreferCeil
	case "floor":
		round = roundFloor
	case "ceil":
		round = roundCeil
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown nearest mode %q (want round_prefer_floor, round_prefer_ceil, floor or ceil)", o.NearestMode)
	}
	switch {
	case (len(o.Scales) == 0) == (len(o.Sizes) == 0):
		err = fmt.Errorf("Resize: give either scales or sizes (height, width), got scales %v and sizes %v", o.Scales, o.Sizes)
	case len(o.Scales) > 0 && (len(o.Scales) != 2 || !(o.Scales[0] > 0) || !(o.Scales[1] > 0) || math.IsInf(float64(o.Scales[0]), 0) || math.IsInf(float64(o.Scales[1]), 0)):
		err = fmt.Errorf("Resize: scales %v, want two positive finite factors (height, width)", o.Scales)
	case len(o.Sizes) > 0 && (len(o.Sizes) != 2 || o.Sizes[0] < 1 || o.Sizes[1] < 1):
		err = fmt.Errorf("Resize: sizes %v, want two sizes >= 1 (height, width)", o.Sizes)
	}
	return bilinear, coord, round, err
}

// outSize is the output size along spatial axis k (0: height) for an
// input size in (-1: unknown), and the scale the coordinates use.
func (o *Resize) outSize(k, in int) (int, float64, error) {
	if len(o.Sizes) > 0 {
		if in < 0 {
			return o.Sizes[k], 0, nil
		}
		return o.Sizes[k], float64(o.Sizes[k]) / float64(in), nil
	}
	s := float64(o.Scales[k])
	if in < 0 {
		return -1, s, nil
	}
	out := int(math.Floor(float64(in) * s))
	if out < 1 {
		return 0, 0, fmt.Errorf("Resize: scale %v of an axis of %d gives %d pixels", o.Scales[k], in, out)
	}
	return out, s, nil
}

// Shapes implements Op.
func (o *Resize) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if _, _, _, err := o.config(); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("Resize: input shape %s, want (batch, height, width, channels)", shapeText(s))
	}
	oh, _, err := o.outSize(0, s[1])
	if err != nil {
		return nil, fmt.Errorf("%w (input %s)", err, shapeText(s))
	}
	ow, _, err := o.outSize(1, s[2])
	if err != nil {
		return nil, fmt.Errorf("%w (input %s)", err, shapeText(s))
	}
	return [][]int{{s[0], oh, ow, s[3]}}, nil
}

// resizeAxis is the source position of every output index along one axis:
// for nearest, lo alone; for bilinear, lo and hi = min(lo+1, in-1) with
// weight w on hi.
type resizeAxis struct {
	lo, hi []int32
	w      []float32
}

// source maps output coordinate x to the input coordinate.
func source(coord int, x, scale float64, in, out int) float64 {
	switch coord {
	case coordPytorchHalfPixel:
		if out == 1 {
			return 0
		}
		return (x+0.5)/scale - 0.5
	case coordAlignCorners:
		if out == 1 {
			return 0
		}
		return x * float64(in-1) / float64(out-1)
	case coordAsymmetric:
		return x / scale
	}
	return (x+0.5)/scale - 0.5
}

func (a *resizeAxis) make(bilinear bool, coord, round, in, out int, scale float64) {
	a.lo, a.hi, a.w = a.lo[:0], a.hi[:0], a.w[:0]
	for x := range out {
		v := source(coord, float64(x), scale, in, out)
		if bilinear {
			v = min(max(v, 0), float64(in-1))
			f := math.Floor(v)
			lo := int32(f)
			a.lo = append(a.lo, lo)
			a.hi = append(a.hi, min(lo+1, int32(in-1)))
			a.w = append(a.w, float32(v-f))
			continue
		}
		var r float64
		switch round {
		case roundPreferFloor:
			r = math.Ceil(v - 0.5)
		case roundPreferCeil:
			r = math.Floor(v + 0.5)
		case roundFloor:
			r = math.Floor(v)
		default:
			r = math.Ceil(v)
		}
		a.lo = append(a.lo, int32(min(max(r, 0), float64(in-1))))
	}
}

// resizeState is a Resize's per-session state: the source tables of the
// last shape (Forward and Backward see the same) and the task.
type resizeState struct {
	shape  []int
	g      resizeGeom
	ys, xs resizeAxis
	rows   []float32 // bilinear forward: two interpolated rows per unit
	task   resizeTask
}

type resizeGeom struct {
	n, h, w, c, oh, ow int
	bilinear           bool
}

func (o *Resize) plan(c *Call, in []int) (*resizeState, error) {
	st := stateOf[resizeState](c)
	if st.shape != nil && tensor.EqualShape(st.shape, in) {
		return st, nil
	}
	bilinear, coord, round, err := o.config()
	if err != nil {
		return nil, err
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("Resize: input shape %s, want (batch, height, width, channels)", tensor.ShapeString(in))
	}
	oh, sh, err := o.outSize(0, in[1])
	if err != nil {
		return nil, err
	}
	ow, sw, err := o.outSize(1, in[2])
	if err != nil {
		return nil, err
	}
	st.g = resizeGeom{n: in[0], h: in[1], w: in[2], c: in[3], oh: oh, ow: ow, bilinear: bilinear}
	st.ys.make(bilinear, coord, round, in[1], oh, sh)
	st.xs.make(bilinear, coord, round, in[2], ow, sw)
	st.shape = append(st.shape[:0], in...)
	return st, nil
}

// resizeTask runs a resize over units: forward, blocks of output rows;
// backward, images.
type resizeTask struct {
	st       *resizeState
	backward bool
	x, y     []float32 // input and output (backward: din and dout)
	units    int
}

func (t *resizeTask) Run(lo, hi int) {
	g := &t.st.g
	if t.backward {
		for b := lo; b < hi; b++ {
			t.backwardImage(b)
		}
		return
	}
	rows := g.n * g.oh
	for u := lo; u < hi; u++ {
		r0, r1 := u*rows/t.units, (u+1)*rows/t.units
		if g.bilinear {
			t.bilinearRows(u, r0, r1)
			continue
		}
		for r := r0; r < r1; r++ {
			t.nearestRow(r/g.oh, r%g.oh)
		}
	}
}

func (t *resizeTask) nearestRow(b, oy int) {
	st, g := t.st, &t.st.g
	c := g.c
	src := t.x[((b*g.h)+int(st.ys.lo[oy]))*g.w*c:]
	y := t.y[(b*g.oh+oy)*g.ow*c : (b*g.oh+oy+1)*g.ow*c]
	if c == 1 {
		for ox, ix := range st.xs.lo {
			y[ox] = src[ix]
		}
		return
	}
	for ox, ix := range st.xs.lo {
		copy(y[ox*c:ox*c+c], src[int(ix)*c:])
	}
}

// bilinearRows computes output rows [r0, r1) (over the whole batch):
// input rows are interpolated horizontally once into the unit's two row
// buffers, and each output row blends the two it needs.
func (t *resizeTask) bilinearRows(u, r0, r1 int) {
	st, g := t.st, &t.st.g
	c, n := g.c, g.ow*g.c
	buf := st.rows[2*u*n : 2*(u+1)*n]
	bufs := [2][]float32{buf[:n], buf[n:]}
	held := [2]int{-1, -1} // global input row index held in each buffer
	get := func(row, avoid int) []float32 {
		for k := range 2 {
			if held[k] == row {
				return bufs[k]
			}
		}
		k := 0
		if held[0] == avoid {
			k = 1
		}
		held[k] = row
		t.hinterp(bufs[k], t.x[row*g.w*c:(row+1)*g.w*c])
		return bufs[k]
	}
	for r := r0; r < r1; r++ {
		b, oy := r/g.oh, r%g.oh
		base := b * g.h
		lo, hi, w := base+int(st.ys.lo[oy]), base+int(st.ys.hi[oy]), st.ys.w[oy]
		y := t.y[r*n : (r+1)*n]
		a := get(lo, -1)
		if w == 0 || hi == lo {
			copy(y, a)
			continue
		}
		d := get(hi, lo)
		w0 := 1 - w
		for i := range y {
			y[i] = w0*a[i] + w*d[i]
		}
	}
}

// hinterp interpolates one input row horizontally.
func (t *resizeTask) hinterp(dst, src []float32) {
	xs, c := &t.st.xs, t.st.g.c
	for ox := range xs.lo {
		w := xs.w[ox]
		w0 := 1 - w
		a, b := src[int(xs.lo[ox])*c:int(xs.lo[ox])*c+c], src[int(xs.hi[ox])*c:int(xs.hi[ox])*c+c]
		d := dst[ox*c : ox*c+c]
		for ch := range d {
			d[ch] = w0*a[ch] + w*b[ch]
		}
	}
}

// backwardImage adds every output gradient of image b into its sources.
func (t *resizeTask) backwardImage(b int) {
	st, g := t.st, &t.st.g
	c := g.c
	dx := t.x[b*g.h*g.w*c : (b+1)*g.h*g.w*c]
	clear(dx)
	for oy := range g.oh {
		dy := t.y[(b*g.oh+oy)*g.ow*c : (b*g.oh+oy+1)*g.ow*c]
		if !g.bilinear {
			row := dx[int(st.ys.lo[oy])*g.w*c:]
			for ox, ix := range st.xs.lo {
				kernels.Add(row[int(ix)*c:int(ix)*c+c], dy[ox*c:ox*c+c])
			}
			continue
		}
		wy := st.ys.w[oy]
		r0 := dx[int(st.ys.lo[oy])*g.w*c:]
		r1 := dx[int(st.ys.hi[oy])*g.w*c:]
		for ox := range g.ow {
			wx := st.xs.w[ox]
			i0, i1 := int(st.xs.lo[ox])*c, int(st.xs.hi[ox])*c
			w00, w01 := (1-wy)*(1-wx), (1-wy)*wx
			w10, w11 := wy*(1-wx), wy*wx
			d := dy[ox*c : ox*c+c]
			for ch, v := range d {
				r0[i0+ch] += w00 * v
				r0[i1+ch] += w01 * v
				r1[i0+ch] += w10 * v
				r1[i1+ch] += w11 * v
			}
		}
	}
}

// resizeRowGrain is the number of output values worth a unit of the
// parallel forward pass.
const resizeRowGrain = 1 << 14

// Forward implements Op.
func (o *Resize) Forward(c *Call, in, out []*tensor.Tensor) error {
	st, err := o.plan(c, in[0].Shape)
	if err != nil {
		return err
	}
	g := &st.g
	if len(out[0].Data) != g.n*g.oh*g.ow*g.c {
		return fmt.Errorf("Resize: output shape %s, want (%d, %d, %d, %d)", tensor.ShapeString(out[0].Shape), g.n, g.oh, g.ow, g.c)
	}
	rows := g.n * g.oh
	units := max(1, min(rows, kernels.Threads(), rows*g.ow*g.c/resizeRowGrain))
	if g.bilinear {
		if need := 2 * units * g.ow * g.c; len(st.rows) < need {
			st.rows = make([]float32, need)
		}
	}
	t := &st.task
	*t = resizeTask{st: st, x: in[0].Data, y: out[0].Data, units: units}
	kernels.Parallel(units, 1, t)
	*t = resizeTask{}
	return nil
}

// Backward implements Op.
func (o *Resize) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	st, err := o.plan(c, din[0].Shape)
	if err != nil {
		return err
	}
	g := &st.g
	if len(dout[0].Data) != g.n*g.oh*g.ow*g.c {
		return fmt.Errorf("Resize: gradient shape %s, want (%d, %d, %d, %d)", tensor.ShapeString(dout[0].Shape), g.n, g.oh, g.ow, g.c)
	}
	t := &st.task
	*t = resizeTask{st: st, backward: true, x: din[0].Data, y: dout[0].Data}
	kernels.Parallel(g.n, poolGrain(4*g.oh*g.ow*g.c), t)
	*t = resizeTask{}
	return nil
}

func init() {
	mustRegister(func() Op { return &Resize{} })
}
