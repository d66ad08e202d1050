package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// 2-D pooling over NHWC images: MaxPool2D and AveragePool2D slide a
// PoolH x PoolW window with strides StrideH, StrideW (0 means the pool
// size) over (N, H, W, C) inputs. Padding is shared with the convolutions
// (valid, TensorFlow's same, or explicit top/bottom/left/right, which must
// each be smaller than the window, so that every window overlaps the
// image); CeilMode rounds the output size up as PyTorch's and ONNX's
// ceil_mode do, adding a last window that may hang over the padded input
// when it still starts inside the image or its leading padding.

// poolWin is the configuration both pools share.
type poolWin struct {
	kind           string
	kh, kw, sh, sw int
	pad            Padding
	ceil           bool
}

// poolGeom is one concrete input's geometry.
type poolGeom struct {
	n, h, w, c               int
	oh, ow                   int
	kh, kw, sh, sw           int
	top, bottom, left, right int
}

// poolAxis resolves padding and the output size along one axis of size in
// (-1: unknown until run time, giving -1).
func poolAxis(in, k, s int, p Padding, ceil, vertical bool) (out, lo, hi int, err error) {
	lo, hi, err = p.resolve(max(in, 1), k, s, vertical)
	if err != nil {
		return 0, 0, 0, err
	}
	if p.Mode == "explicit" && (lo >= k || hi >= k) {
		return 0, 0, 0, fmt.Errorf("padding %s must be smaller than the pool window (%d)", p, k)
	}
	if in < 0 {
		return -1, 0, 0, nil
	}
	span := in + lo + hi - k
	// Ceil mode (as PyTorch) accepts a window larger than the padded
	// input when rounding up still gives one window.
	if span < 0 && !(ceil && span+s-1 >= 0) {
		return 0, 0, 0, fmt.Errorf("pool window %d is larger than the padded input %d", k, in+lo+hi)
	}
	if !ceil {
		return span/s + 1, lo, hi, nil
	}
	out = max(span+s-1, 0)/s + 1
	if (out-1)*s >= in+lo { // the last window would start in the trailing padding
		out--
	}
	return out, lo, hi, nil
}

// check validates the configuration.
func (p poolWin) check() error {
	if p.kh < 1 || p.kw < 1 || p.sh < 0 || p.sw < 0 {
		return fmt.Errorf("%s: pool %dx%d stride %dx%d; the pool must be >= 1 and the strides >= 0 (0: the pool size)", p.kind, p.kh, p.kw, p.sh, p.sw)
	}
	return nil
}

func (p poolWin) strides() (int, int) {
	sh, sw := p.sh, p.sw
	if sh == 0 {
		sh = p.kh
	}
	if sw == 0 {
		sw = p.kw
	}
	return sh, sw
}

// shapes is the Shapes of both pools.
func (p poolWin) shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("%s: input shape %s, want (batch, height, width, channels)", p.kind, shapeText(s))
	}
	sh, sw := p.strides()
	oh, _, _, err := poolAxis(s[1], p.kh, sh, p.pad, p.ceil, true)
	if err != nil {
		return nil, fmt.Errorf("%s: input %s, pool %dx%d stride %dx%d: %v", p.kind, shapeText(s), p.kh, p.kw, sh, sw, err)
	}
	ow, _, _, err := poolAxis(s[2], p.kw, sw, p.pad, p.ceil, false)
	if err != nil {
		return nil, fmt.Errorf("%s: input %s, pool %dx%d stride %dx%d: %v", p.kind, shapeText(s), p.kh, p.kw, sh, sw, err)
	}
	return [][]int{{s[0], oh, ow, s[3]}}, nil
}

// geom resolves a concrete input shape (already accepted by shapes).
func (p poolWin) geom(s []int) (poolGeom, error) {
	g := poolGeom{kh: p.kh, kw: p.kw}
	if err := p.check(); err != nil {
		return g, err
	}
	if len(s) != 4 {
		return g, fmt.Errorf("%s: input shape %s, want (batch, height, width, channels)", p.kind, tensor.ShapeString(s))
	}
	g.sh, g.sw = p.strides()
	g.n, g.h, g.w, g.c = s[0], s[1], s[2], s[3]
	var err error
	if g.oh, g.top, g.bottom, err = poolAxis(g.h, g.kh, g.sh, p.pad, p.ceil, true); err != nil {
		return g, fmt.Errorf("%s: input %s: %v", p.kind, tensor.ShapeString(s), err)
	}
	if g.ow, g.left, g.right, err = poolAxis(g.w, g.kw, g.sw, p.pad, p.ceil, false); err != nil {
		return g, fmt.Errorf("%s: input %s: %v", p.kind, tensor.ShapeString(s), err)
	}
	return g, nil
}

// rows returns the input rows [lo, hi) of output row oy, and the extent
// the window has inside the padded input (what a count_include_pad
// average divides by).
func (g *poolGeom) rows(oy int) (lo, hi, padded int) {
	s := oy*g.sh - g.top
	e := min(s+g.kh, g.h+g.bottom)
	return max(s, 0), min(e, g.h), e - s
}

// cols is rows for output column ox.
func (g *poolGeom) cols(ox int) (lo, hi, padded int) {
	s := ox*g.sw - g.left
	e := min(s+g.kw, g.w+g.right)
	return max(s, 0), min(e, g.w), e - s
}

// checkOut reports an output tensor of the wrong shape (a caller outside a
// Session).
func (g *poolGeom) checkOut(kind, what string, t *tensor.Tensor) error {
	if t.Dims() != 4 || t.Shape[0] != g.n || t.Shape[1] != g.oh || t.Shape[2] != g.ow || t.Shape[3] != g.c {
		return fmt.Errorf("%s: %s shape %s, want (%d, %d, %d, %d)", kind, what, tensor.ShapeString(t.Shape), g.n, g.oh, g.ow, g.c)
	}
	return nil
}

// poolGrain returns how many units of work (output rows, images) of the
// given size are worth handing to another core.
func poolGrain(work int) int { return max(1, ewGrain/max(work, 1)) }

// MaxPool2D takes the maximum over each window: y[n, oy, ox, c] =
// max x[n, oy*sh+i-top, ox*sw+j-left, c] over the window's pixels inside
// the image (padding is -inf; a value replaces the running maximum only
// when strictly greater, so a NaN wins only in a window's first pixel).
// Backward sends each dy to the input position that won, found again from
// the input and the output: the first one in row-major window order whose
// bits equal the output.
//
// The common 2x2, stride 2 pool with no padding before the image (valid,
// same, or explicit with top = left = 0 and bottom, right <= 1) runs
// dedicated vectorised kernels; the others take the running maximum one
// pixel (a vector of channels) at a time.
type MaxPool2D struct {
	noParams
	PoolH   int `json:"pool_h"`
	PoolW   int `json:"pool_w"`
	StrideH int `json:"stride_h"` // 0 means PoolH
	StrideW int `json:"stride_w"` // 0 means PoolW
	// Padding: zero means valid (what version 1 model files hold).
	Padding Padding `json:"padding,omitzero"`
	// CeilMode rounds the output size up (PyTorch/ONNX ceil_mode).
	CeilMode bool `json:"ceil_mode,omitempty"`
}

// NewMaxPool2D returns a square max pool with valid padding; stride 0
// means stride = size.
func NewMaxPool2D(size, stride int) *MaxPool2D {
	return &MaxPool2D{PoolH: size, PoolW: size, StrideH: stride, StrideW: stride}
}

// Kind implements Op.
func (p *MaxPool2D) Kind() string { return "MaxPool2D" }

func (p *MaxPool2D) win() poolWin {
	return poolWin{kind: "MaxPool2D", kh: p.PoolH, kw: p.PoolW, sh: p.StrideH, sw: p.StrideW, pad: p.Padding, ceil: p.CeilMode}
}

// fast reports whether the pool runs the 2x2 stride-2 kernels: windows
// start at even rows and columns, and at most the last row and column of
// windows are cut short by the image's end.
func (p *MaxPool2D) fast() bool {
	sh, sw := p.win().strides()
	if p.PoolH != 2 || p.PoolW != 2 || sh != 2 || sw != 2 {
		return false
	}
	switch p.Padding.Mode {
	case "", "valid", "same":
		return true
	case "explicit":
		return p.Padding.Top == 0 && p.Padding.Left == 0 && p.Padding.Bottom <= 1 && p.Padding.Right <= 1
	}
	return false
}

// Saves: Backward finds the winners again from the input and the output.
func (p *MaxPool2D) Saves() (inputs, outputs bool) { return true, true }

// Shapes implements Op.
func (p *MaxPool2D) Shapes(in [][]int) ([][]int, error) { return p.win().shapes(in) }

// maxPoolTask runs a max pool over output rows (forward, and the 2x2
// backward) or, for the general backward (whose windows overlap), over
// units of whole images, each with its own winner buffer.
type maxPoolTask struct {
	g        poolGeom
	backward bool
	fast     bool
	x, y     []float32
	dy, dx   []float32
	units    int
	grad     []float32 // per unit: c values of gradient still to hand out
}

// maxPoolState is a MaxPool2D's per-session state.
type maxPoolState struct {
	task maxPoolTask
	grad []float32
}

// Forward implements Op.
func (p *MaxPool2D) Forward(c *Call, in, out []*tensor.Tensor) error {
	g, err := p.win().geom(in[0].Shape)
	if err != nil {
		return err
	}
	if err := g.checkOut("MaxPool2D", "output", out[0]); err != nil {
		return err
	}
	t := &stateOf[maxPoolState](c).task
	*t = maxPoolTask{g: g, fast: p.fast(), x: in[0].Data, y: out[0].Data}
	kernels.Parallel(g.n*g.oh, poolGrain(g.ow*g.c*g.kh*g.kw), t)
	*t = maxPoolTask{}
	return nil
}

// Backward implements Op.
func (p *MaxPool2D) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	g, err := p.win().geom(din[0].Shape)
	if err != nil {
		return err
	}
	if err := g.checkOut("MaxPool2D", "gradient", dout[0]); err != nil {
		return err
	}
	if in[0] == nil || out[0] == nil {
		return fmt.Errorf("MaxPool2D: Backward needs the input and output of Forward")
	}
	st := stateOf[maxPoolState](c)
	t := &st.task
	*t = maxPoolTask{g: g, backward: true, fast: p.fast(), x: in[0].Data, y: out[0].Data, dy: dout[0].Data, dx: din[0].Data}
	if t.fast {
		kernels.Parallel(g.n*g.oh, poolGrain(4*g.ow*g.c), t)
	} else {
		t.units = max(1, min(g.n, kernels.Threads(), g.n/poolGrain(g.oh*g.ow*g.c*g.kh*g.kw)))
		if len(st.grad) < t.units*g.c {
			st.grad = make([]float32, t.units*g.c)
		}
		t.grad = st.grad
		kernels.Parallel(t.units, 1, t)
	}
	*t = maxPoolTask{}
	return nil
}

func (t *maxPoolTask) Run(lo, hi int) {
	g := &t.g
	switch {
	case !t.backward && t.fast:
		for r := lo; r < hi; r++ {
			t.forward2x2(r/g.oh, r%g.oh)
		}
	case !t.backward:
		for r := lo; r < hi; r++ {
			t.forwardRow(r/g.oh, r%g.oh)
		}
	case t.fast:
		for r := lo; r < hi; r++ {
			t.backward2x2(r/g.oh, r%g.oh)
		}
	default:
		for u := lo; u < hi; u++ {
			for b := u * g.n / t.units; b < (u+1)*g.n/t.units; b++ {
				t.backwardImage(b, t.grad[u*g.c:(u+1)*g.c])
			}
		}
	}
}

// forwardRow computes output row oy of image b.
func (t *maxPoolTask) forwardRow(b, oy int) {
	g := &t.g
	t.forwardRowInto(t.y[(b*g.oh+oy)*g.ow*g.c:(b*g.oh+oy+1)*g.ow*g.c], b, oy)
}

// forwardRowInto computes output row oy of image b into row.
func (t *maxPoolTask) forwardRowInto(row []float32, b, oy int) {
	g := &t.g
	c := g.c
	img := t.x[b*g.h*g.w*c : (b+1)*g.h*g.w*c]
	y0, y1, _ := g.rows(oy)
	// At stride 1 the pixels whose window lies inside the image [a, e)
	// take each tap as one shifted run of the input row, in the window's
	// order (so the same bits as pixel by pixel): a 3x3 pool makes 9
	// long MaxInto calls instead of 9 a pixel.
	// At larger strides one MaxPoolPixels call takes those pixels, each
	// output vector's maximum in a register (ResNet's 3x3 stride-2 pool
	// on 112x112x64 took 0.28 ms in MaxInto calls a pixel and tap, ONNX
	// Runtime 0.09).
	a, e := (g.left+g.sw-1)/g.sw, 0
	if g.w-g.kw+g.left >= 0 {
		e = min((g.w-g.kw+g.left)/g.sw+1, g.ow)
	}
	if a < e && g.sw > 1 {
		kernels.MaxPoolPixels(row[a*c:e*c], img[(y0*g.w+a*g.sw-g.left)*c:], e-a, c, g.sw*c, y1-y0, g.kw, g.w*c)
	} else if a < e {
		// In chunks of 8 KiB, so that the running maxima stay in L1
		// over the taps (a 128x128x80 heatmap's row is 40 KiB: its 3x3
		// pool took 1.56-1.80 ms in whole rows, 1.41-1.66 in chunks).
		const chunk = 2048
		n := (e - a) * c
		for k0 := 0; k0 < n; k0 += chunk {
			dst := row[a*c+k0 : a*c+min(k0+chunk, n)]
			for iy := y0; iy < y1; iy++ {
				for j := range g.kw {
					off := (iy*g.w+a-g.left+j)*c + k0
					src := img[off : off+len(dst)]
					if iy == y0 && j == 0 {
						copy(dst, src)
					} else {
						kernels.MaxInto(dst, src)
					}
				}
			}
		}
	} else {
		a, e = g.ow, g.ow
	}
	for ox := 0; ox < g.ow; ox++ {
		if ox == a {
			ox = e - 1 // the interior is done
			continue
		}
		x0, x1, _ := g.cols(ox)
		y := row[ox*c : ox*c+c]
		first := (y0*g.w + x0) * c
		copy(y, img[first:first+c])
		for iy := y0; iy < y1; iy++ {
			for ix := x0; ix < x1; ix++ {
				if base := (iy*g.w + ix) * c; base != first {
					kernels.MaxInto(y, img[base:base+c])
				}
			}
		}
	}
}

// backwardImage adds each dy of image b into the first window position
// holding the output's value: the window is walked in order, handing the
// gradient g (a copy of the output pixel's dy) to the channels that match
// and clearing it there.
func (t *maxPoolTask) backwardImage(b int, g []float32) {
	gm := &t.g
	c := gm.c
	in, out := gm.h*gm.w*c, gm.oh*gm.ow*c
	img, dx := t.x[b*in:(b+1)*in], t.dx[b*in:(b+1)*in]
	y, dy := t.y[b*out:(b+1)*out], t.dy[b*out:(b+1)*out]
	clear(dx)
	for oy := range gm.oh {
		y0, y1, _ := gm.rows(oy)
		for ox := range gm.ow {
			x0, x1, _ := gm.cols(ox)
			o := (oy*gm.ow + ox) * c
			yo := y[o : o+c]
			copy(g, dy[o:o+c])
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					base := (iy*gm.w + ix) * c
					kernels.MaxPoolGradStep(dx[base:base+c], g, img[base:base+c], yo)
				}
			}
		}
	}
}

// forward2x2 computes output row oy of image b with the 2x2 kernel; a last
// window cut short by the image's end (odd size with same padding or ceil
// mode) is done here.
func (t *maxPoolTask) forward2x2(b, oy int) {
	g := &t.g
	c, rowIn := g.c, g.w*g.c
	img := t.x[b*g.h*rowIn : (b+1)*g.h*rowIn]
	y := t.y[(b*g.oh+oy)*g.ow*c : (b*g.oh+oy+1)*g.ow*c]
	full := min(g.ow, g.w/2) // windows with both columns
	r0 := img[2*oy*rowIn : (2*oy+1)*rowIn]
	if 2*oy+1 < g.h {
		r1 := img[(2*oy+1)*rowIn : (2*oy+2)*rowIn]
		kernels.MaxPool2x2Row(y, r0, r1, full, c)
		if full < g.ow { // last column alone
			a, d := r0[2*full*c:2*full*c+c], r1[2*full*c:2*full*c+c]
			for ch, v := range a {
				y[full*c+ch] = max2(v, d[ch])
			}
		}
		return
	}
	// Last row alone.
	for ox := range g.ow {
		a := r0[2*ox*c : 2*ox*c+c]
		yo := y[ox*c : ox*c+c]
		if 2*ox+1 < g.w {
			d := r0[2*ox*c+c : 2*ox*c+2*c]
			for ch, v := range a {
				yo[ch] = max2(v, d[ch])
			}
		} else {
			copy(yo, a)
		}
	}
}

// max2 is the running maximum of the kernels: b replaces a only when
// strictly greater.
func max2(a, b float32) float32 {
	if b > a {
		return b
	}
	return a
}

// backward2x2 writes the input-gradient rows under output row oy of image
// b (and clears a last row or column that no window covers).
func (t *maxPoolTask) backward2x2(b, oy int) {
	g := &t.g
	c, rowIn := g.c, g.w*g.c
	base := b * g.h * rowIn
	x, dx := t.x[base:base+g.h*rowIn], t.dx[base:base+g.h*rowIn]
	o := (b*g.oh + oy) * g.ow * c
	y, dy := t.y[o:o+g.ow*c], t.dy[o:o+g.ow*c]
	full := min(g.ow, g.w/2)
	r0, d0 := x[2*oy*rowIn:(2*oy+1)*rowIn], dx[2*oy*rowIn:(2*oy+1)*rowIn]
	if 2*oy+1 < g.h {
		r1, d1 := x[(2*oy+1)*rowIn:(2*oy+2)*rowIn], dx[(2*oy+1)*rowIn:(2*oy+2)*rowIn]
		kernels.MaxPool2x2GradRow(d0, d1, r0, r1, y, dy, full, c, false)
		done := 2 * full * c
		if full < g.ow {
			for ch := range c {
				i := done + ch
				yb, gr := math.Float32bits(y[full*c+ch]), dy[full*c+ch]
				d0[i], d1[i] = 0, 0
				if math.Float32bits(r0[i]) == yb {
					d0[i] = gr
				} else {
					d1[i] = gr
				}
			}
			done += c
		}
		clear(d0[done:])
		clear(d1[done:])
		if oy == g.oh-1 && 2*oy+2 < g.h { // odd height, floor mode: the last row
			clear(dx[(2*oy+2)*rowIn:])
		}
		return
	}
	clear(d0)
	for ox := range g.ow {
		i := 2 * ox * c
		for ch := range c {
			yb, gr := math.Float32bits(y[ox*c+ch]), dy[ox*c+ch]
			if math.Float32bits(r0[i+ch]) == yb || 2*ox+1 >= g.w {
				d0[i+ch] = gr
			} else {
				d0[i+c+ch] = gr
			}
		}
	}
}

// AveragePool2D averages each window. With CountIncludePad the divisor is
// the window's extent inside the padded input (PyTorch's default,
// count_include_pad=True); without it (the zero value: Keras and
// TensorFlow, ONNX's default) only the pixels inside the image count.
// Backward spreads dy / divisor evenly over the window.
type AveragePool2D struct {
	noParams
	PoolH   int `json:"pool_h"`
	PoolW   int `json:"pool_w"`
	StrideH int `json:"stride_h"` // 0 means PoolH
	StrideW int `json:"stride_w"` // 0 means PoolW
	// Padding: zero means valid (what version 1 model files hold).
	Padding Padding `json:"padding,omitzero"`
	// CeilMode rounds the output size up (PyTorch/ONNX ceil_mode).
	CeilMode bool `json:"ceil_mode,omitempty"`
	// CountIncludePad divides by the window size including padding.
	CountIncludePad bool `json:"count_include_pad,omitempty"`
}

// NewAveragePool2D returns a square average pool with valid padding;
// stride 0 means stride = size.
func NewAveragePool2D(size, stride int) *AveragePool2D {
	return &AveragePool2D{PoolH: size, PoolW: size, StrideH: stride, StrideW: stride}
}

// Kind implements Op.
func (p *AveragePool2D) Kind() string { return "AveragePool2D" }

func (p *AveragePool2D) win() poolWin {
	return poolWin{kind: "AveragePool2D", kh: p.PoolH, kw: p.PoolW, sh: p.StrideH, sw: p.StrideW, pad: p.Padding, ceil: p.CeilMode}
}

// Saves: nothing; the gradient depends on the geometry alone.
func (p *AveragePool2D) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (p *AveragePool2D) Shapes(in [][]int) ([][]int, error) { return p.win().shapes(in) }

// avgPoolTask runs an average pool over units: blocks of output rows
// (forward) or of images (backward, whose windows overlap). Windows are
// summed in two passes, a row of the image at a time: first the window's
// rows into the unit's buffer row (long vector additions), then each
// output pixel's columns from it.
type avgPoolTask struct {
	g        poolGeom
	inclPad  bool
	backward bool
	x, y     []float32
	dy, dx   []float32
	units    int
	buf      []float32 // per unit: one input row (w*c values)
}

// avgPoolState is an AveragePool2D's per-session state.
type avgPoolState struct {
	task avgPoolTask
	buf  []float32
}

// divisor is the number a window's sum is divided by.
func (t *avgPoolTask) divisor(y0, y1, py, x0, x1, px int) float32 {
	if t.inclPad {
		return float32(py * px)
	}
	return float32((y1 - y0) * (x1 - x0))
}

// start sizes the units and their buffers for n units of work of the
// given size, and runs the task.
func (t *avgPoolTask) start(st *avgPoolState, n, work int) {
	t.units = max(1, min(n, kernels.Threads(), n*work/ewGrain))
	if need := t.units * t.g.w * t.g.c; len(st.buf) < need {
		st.buf = make([]float32, need)
	}
	t.buf = st.buf
	kernels.Parallel(t.units, 1, t)
}

// Forward implements Op.
func (p *AveragePool2D) Forward(c *Call, in, out []*tensor.Tensor) error {
	g, err := p.win().geom(in[0].Shape)
	if err != nil {
		return err
	}
	if err := g.checkOut("AveragePool2D", "output", out[0]); err != nil {
		return err
	}
	st := stateOf[avgPoolState](c)
	t := &st.task
	*t = avgPoolTask{g: g, inclPad: p.CountIncludePad, x: in[0].Data, y: out[0].Data}
	t.start(st, g.n*g.oh, g.ow*g.c*(g.kh+g.kw))
	*t = avgPoolTask{}
	return nil
}

// Backward implements Op.
func (p *AveragePool2D) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	g, err := p.win().geom(din[0].Shape)
	if err != nil {
		return err
	}
	if err := g.checkOut("AveragePool2D", "gradient", dout[0]); err != nil {
		return err
	}
	st := stateOf[avgPoolState](c)
	t := &st.task
	*t = avgPoolTask{g: g, inclPad: p.CountIncludePad, backward: true, dy: dout[0].Data, dx: din[0].Data}
	t.start(st, g.n, g.oh*g.ow*g.c*(g.kh+g.kw))
	*t = avgPoolTask{}
	return nil
}

func (t *avgPoolTask) Run(lo, hi int) {
	g := &t.g
	c, rowIn := g.c, g.w*g.c
	in := g.h * rowIn
	for u := lo; u < hi; u++ {
		buf := t.buf[u*rowIn : (u+1)*rowIn]
		if !t.backward {
			rows := g.n * g.oh
			for r := u * rows / t.units; r < (u+1)*rows/t.units; r++ {
				b, oy := r/g.oh, r%g.oh
				img := t.x[b*in : (b+1)*in]
				y0, y1, py := g.rows(oy)
				copy(buf, img[y0*rowIn:(y0+1)*rowIn])
				for iy := y0 + 1; iy < y1; iy++ {
					kernels.Add(buf, img[iy*rowIn:(iy+1)*rowIn])
				}
				row := t.y[r*g.ow*c : (r+1)*g.ow*c]
				for ox := range g.ow {
					x0, x1, px := g.cols(ox)
					y := row[ox*c : ox*c+c]
					copy(y, buf[x0*c:x0*c+c])
					for ix := x0 + 1; ix < x1; ix++ {
						kernels.Add(y, buf[ix*c:ix*c+c])
					}
					kernels.Scal(1/t.divisor(y0, y1, py, x0, x1, px), y)
				}
			}
			continue
		}
		out := g.oh * g.ow * c
		for b := u * g.n / t.units; b < (u+1)*g.n/t.units; b++ {
			dx, dy := t.dx[b*in:(b+1)*in], t.dy[b*out:(b+1)*out]
			clear(dx)
			for oy := range g.oh {
				y0, y1, py := g.rows(oy)
				clear(buf)
				for ox := range g.ow {
					x0, x1, px := g.cols(ox)
					d := dy[(oy*g.ow+ox)*c : (oy*g.ow+ox+1)*c]
					s := 1 / t.divisor(y0, y1, py, x0, x1, px)
					for ix := x0; ix < x1; ix++ {
						kernels.Axpy(s, d, buf[ix*c:ix*c+c])
					}
				}
				for iy := y0; iy < y1; iy++ {
					kernels.Add(dx[iy*rowIn:(iy+1)*rowIn], buf)
				}
			}
		}
	}
}

// globalPool is the shared part of the global pools: they reduce every
// axis between the batch and the channels, (N, H, W, C) -> (N, C), or
// (N, 1, 1, C) with KeepDims. Any rank >= 3 is accepted ((N, L, C) too).
type globalPool struct{ noParams }

func globalShapes(kind string, in [][]int, keep bool) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) < 3 {
		return nil, fmt.Errorf("%s: input shape %s, want (batch, height, width, channels)", kind, shapeText(s))
	}
	c := s[len(s)-1]
	if !keep {
		return [][]int{{s[0], c}}, nil
	}
	o := make([]int, len(s))
	for i := range o {
		o[i] = 1
	}
	o[0], o[len(o)-1] = s[0], c
	return [][]int{o}, nil
}

// globalDims splits a concrete input shape into images, pixels, channels.
func globalDims(s []int) (n, hw, c int) {
	return s[0], tensor.Numel(s[1 : len(s)-1]), s[len(s)-1]
}

// GlobalAveragePool averages over height and width: (N, H, W, C) -> (N, C),
// or (N, 1, 1, C) with KeepDims (ONNX's GlobalAveragePool, Keras'
// GlobalAveragePooling2D(keepdims=True)).
type GlobalAveragePool struct {
	globalPool
	KeepDims bool `json:"keep_dims,omitempty"`
}

// NewGlobalAveragePool returns a global average pool giving (N, C).
func NewGlobalAveragePool() *GlobalAveragePool { return &GlobalAveragePool{} }

// Kind implements Op; the name version 1 model files use.
func (p *GlobalAveragePool) Kind() string { return "GlobalAveragePool" }

// Saves: nothing.
func (p *GlobalAveragePool) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (p *GlobalAveragePool) Shapes(in [][]int) ([][]int, error) {
	return globalShapes("GlobalAveragePool", in, p.KeepDims)
}

// globalTask runs a global max pool, or the average's backward, over a
// range of images.
type globalTask struct {
	max, backward bool
	hw, c         int
	x, y, dy, dx  []float32
	argmax        []int32
}

func (t *globalTask) Run(lo, hi int) {
	hw, c := t.hw, t.c
	for b := lo; b < hi; b++ {
		switch {
		case !t.backward: // max (the average's forward is gapTask)
			y, arg, img := t.y[b*c:(b+1)*c], t.argmax[b*c:(b+1)*c], t.x[b*hw*c:(b+1)*hw*c]
			copy(y, img[:c])
			clear(arg)
			for p := 1; p < hw; p++ {
				for ch, v := range img[p*c : p*c+c] {
					if v > y[ch] {
						y[ch] = v
						arg[ch] = int32(p)
					}
				}
			}
		case !t.max:
			d, img := t.dy[b*c:(b+1)*c], t.dx[b*hw*c:(b+1)*hw*c]
			copy(img[:c], d)
			kernels.Scal(1/float32(hw), img[:c])
			broadcastRows(img, img[:c])
		default:
			d, arg, img := t.dy[b*c:(b+1)*c], t.argmax[b*c:(b+1)*c], t.dx[b*hw*c:(b+1)*hw*c]
			clear(img)
			for ch, p := range arg {
				img[int(p)*c+ch] = d[ch]
			}
		}
	}
}

// Forward implements Op.
func (p *GlobalAveragePool) Forward(c *Call, in, out []*tensor.Tensor) error {
	n, hw, ch := globalDims(in[0].Shape)
	if len(out[0].Data) != n*ch || hw == 0 {
		return fmt.Errorf("GlobalAveragePool: input %s, output %s", tensor.ShapeString(in[0].Shape), tensor.ShapeString(out[0].Shape))
	}
	st := stateOf[gapState](c)
	// Each image's pixels are summed in blocks of gapBlock, then the
	// blocks in order: the same sums whatever the batch or the cores, and
	// an image's blocks (a squeeze-excite block's 112x112 map at batch 1)
	// spread over the cores.
	blocks := (hw + gapBlock - 1) / gapBlock
	if len(st.part) < n*blocks*ch {
		st.part = make([]float32, n*blocks*ch)
	}
	t := &st.sum
	*t = gapTask{hw: hw, c: ch, blocks: blocks, x: in[0].Data, part: st.part}
	kernels.Parallel(n*blocks, poolGrain(gapBlock*ch), t)
	y := out[0].Data
	for b := range n {
		yb := y[b*ch : (b+1)*ch]
		copy(yb, st.part[b*blocks*ch:])
		for k := 1; k < blocks; k++ {
			kernels.Add(yb, st.part[(b*blocks+k)*ch:(b*blocks+k+1)*ch])
		}
		kernels.Scal(1/float32(hw), yb)
	}
	*t = gapTask{}
	return nil
}

// gapBlock is how many pixels GlobalAveragePool sums into one partial.
const gapBlock = 256

type gapState struct {
	sum  gapTask
	grad globalTask
	part []float32 // per image and block: c partial sums
}

// gapTask sums blocks [lo, hi) of the batch (image b's block k is unit
// b*blocks + k) into their partials.
type gapTask struct {
	hw, c, blocks int
	x, part       []float32
}

func (t *gapTask) Run(lo, hi int) {
	c := t.c
	for u := lo; u < hi; u++ {
		b, k := u/t.blocks, u%t.blocks
		p0, p1 := b*t.hw+k*gapBlock, b*t.hw+min((k+1)*gapBlock, t.hw)
		kernels.ColumnSums(t.part[u*c:(u+1)*c], t.x[p0*c:p1*c], p1-p0, c)
	}
}

// Backward implements Op: dx = dy / (H*W) at every pixel.
func (p *GlobalAveragePool) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	n, hw, ch := globalDims(din[0].Shape)
	if len(dout[0].Data) != n*ch {
		return fmt.Errorf("GlobalAveragePool: gradient shape %s for input %s", tensor.ShapeString(dout[0].Shape), tensor.ShapeString(din[0].Shape))
	}
	t := &stateOf[gapState](c).grad
	*t = globalTask{backward: true, hw: hw, c: ch, dy: dout[0].Data, dx: din[0].Data}
	kernels.Parallel(n, poolGrain(hw*ch), t)
	*t = globalTask{}
	return nil
}

// GlobalMaxPool takes the maximum over height and width: (N, H, W, C) ->
// (N, C), or (N, 1, 1, C) with KeepDims. Backward sends dy to the first
// pixel holding the maximum.
type GlobalMaxPool struct {
	globalPool
	KeepDims bool `json:"keep_dims,omitempty"`
}

// NewGlobalMaxPool returns a global max pool giving (N, C).
func NewGlobalMaxPool() *GlobalMaxPool { return &GlobalMaxPool{} }

// Kind implements Op.
func (p *GlobalMaxPool) Kind() string { return "GlobalMaxPool" }

// Saves: nothing; the winners are in the state.
func (p *GlobalMaxPool) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (p *GlobalMaxPool) Shapes(in [][]int) ([][]int, error) {
	return globalShapes("GlobalMaxPool", in, p.KeepDims)
}

type globalMaxState struct {
	argmax []int32
	task   globalTask
}

// Forward implements Op.
func (p *GlobalMaxPool) Forward(c *Call, in, out []*tensor.Tensor) error {
	n, hw, ch := globalDims(in[0].Shape)
	if len(out[0].Data) != n*ch || hw == 0 {
		return fmt.Errorf("GlobalMaxPool: input %s, output %s", tensor.ShapeString(in[0].Shape), tensor.ShapeString(out[0].Shape))
	}
	st := stateOf[globalMaxState](c)
	if cap(st.argmax) < n*ch {
		st.argmax = make([]int32, n*ch)
	}
	st.argmax = st.argmax[:n*ch]
	t := &st.task
	*t = globalTask{max: true, hw: hw, c: ch, x: in[0].Data, y: out[0].Data, argmax: st.argmax}
	kernels.Parallel(n, poolGrain(hw*ch), t)
	*t = globalTask{}
	return nil
}

// Backward implements Op.
func (p *GlobalMaxPool) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	n, hw, ch := globalDims(din[0].Shape)
	st := stateOf[globalMaxState](c)
	if len(dout[0].Data) != n*ch || len(st.argmax) != n*ch {
		return fmt.Errorf("GlobalMaxPool: gradient shape %s for input %s (Backward without a matching Forward?)", tensor.ShapeString(dout[0].Shape), tensor.ShapeString(din[0].Shape))
	}
	t := &st.task
	*t = globalTask{max: true, backward: true, hw: hw, c: ch, dy: dout[0].Data, dx: din[0].Data, argmax: st.argmax}
	kernels.Parallel(n, poolGrain(hw*ch), t)
	*t = globalTask{}
	return nil
}

func init() {
	mustRegister(
		func() Op { return NewMaxPool2D(2, 2) },
		func() Op { return NewAveragePool2D(2, 2) },
		func() Op { return NewGlobalAveragePool() },
		func() Op { return NewGlobalMaxPool() },
	)
}
