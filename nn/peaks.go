package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// PoolPeaks keeps the values that are the maximum of their window and
// zeroes the rest: y = x * (MaxPool(x) == x), with a stride-1 pool whose
// output has x's size. It is the peak extraction of keypoint heatmaps
// (CenterNet's "NMS by max pooling"), which exporters write as MaxPool,
// Equal, Cast and Mul: four passes over a tensor that at 128x128x80 is
// larger than the caches, where this op makes one, each pooled row made
// and compared while in cache. The results are the same bits as the
// chain's (FuseDecomposed rewrites the chain into it). The gradient
// flows to x where it is kept, as through the chain's Mul (Equal passes
// none).
type PoolPeaks struct {
	noParams
	Pool MaxPool2D `json:"pool"`
}

// NewPoolPeaks returns the peak test over size x size windows with Same
// padding.
func NewPoolPeaks(size int) *PoolPeaks {
	return &PoolPeaks{Pool: MaxPool2D{PoolH: size, PoolW: size, StrideH: 1, StrideW: 1, Padding: Same}}
}

func init() { mustRegister(func() Op { return NewPoolPeaks(3) }) }

// Kind is "PoolPeaks".
func (o *PoolPeaks) Kind() string { return "PoolPeaks" }

// Saves: the input (Backward finds the peaks again).
func (o *PoolPeaks) Saves() (inputs, outputs bool) { return true, false }

// Shapes: the pool must keep the size (stride 1, padded to the same size).
func (o *PoolPeaks) Shapes(in [][]int) ([][]int, error) {
	s, err := o.Pool.Shapes(in)
	if err != nil {
		return nil, fmt.Errorf("PoolPeaks: %w", err)
	}
	if !tensor.EqualShape(s[0], in[0]) {
		return nil, fmt.Errorf("PoolPeaks: the pool (%dx%d stride %dx%d) maps %s to %s; it must keep the size",
			o.Pool.PoolH, o.Pool.PoolW, o.Pool.StrideH, o.Pool.StrideW, shapeText(in[0]), shapeText(s[0]))
	}
	return s, nil
}

// peaksTask runs PoolPeaks over output rows; each part pools its rows
// into its own row of scratch.
type peaksTask struct {
	pool    maxPoolTask // its x is the input
	y       []float32   // forward: y = x * keep; backward: dx
	dy      []float32   // backward only
	scratch []float32   // per part: one pooled row
	parts   int
}

type peaksState struct {
	task    peaksTask
	scratch []float32
}

func (o *PoolPeaks) run(c *Call, x, y, dy []float32, shape []int) error {
	g, err := o.Pool.win().geom(shape)
	if err != nil {
		return fmt.Errorf("PoolPeaks: %w", err)
	}
	if g.oh != g.h || g.ow != g.w {
		return fmt.Errorf("PoolPeaks: input %s: the pool must keep the size", tensor.ShapeString(shape))
	}
	st := stateOf[peaksState](c)
	rows := g.n * g.h
	parts := min(rows, max(1, kernels.Threads()*4))
	if len(st.scratch) < parts*g.w*g.c {
		st.scratch = make([]float32, parts*g.w*g.c)
	}
	t := &st.task
	*t = peaksTask{y: y, dy: dy, scratch: st.scratch, parts: parts}
	t.pool = maxPoolTask{g: g, x: x}
	kernels.Parallel(parts, max(1, parts*poolGrain(g.w*g.c*g.kh*g.kw)/rows), t)
	*t = peaksTask{}
	return nil
}

// Run does parts [lo, hi) of the rows.
func (t *peaksTask) Run(lo, hi int) {
	g := &t.pool.g
	rows, row := g.n*g.h, g.w*g.c
	for p := lo; p < hi; p++ {
		pooled := t.scratch[p*row : (p+1)*row]
		for r := p * rows / t.parts; r < (p+1)*rows/t.parts; r++ {
			t.pool.forwardRowInto(pooled, r/g.h, r%g.h)
			x := t.pool.x[r*row : (r+1)*row]
			out := t.y[r*row : (r+1)*row]
			src := x // forward: y = x * keep
			if t.dy != nil {
				src = t.dy[r*row : (r+1)*row] // backward: dx = dy * keep
			}
			kernels.MulIfEqual(out, src, x, pooled)
		}
	}
}

// Forward implements Op.
func (o *PoolPeaks) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.run(c, in[0].Data, out[0].Data, nil, in[0].Shape)
}

// Backward implements Op.
func (o *PoolPeaks) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	if in[0] == nil {
		return fmt.Errorf("PoolPeaks: Backward needs the input of Forward")
	}
	return o.run(c, in[0].Data, din[0].Data, dout[0].Data, in[0].Shape)
}
