package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Reductions over axes, as ONNX ReduceMean/ReduceMax/ReduceSum and NumPy:
// Axes lists the reduced axes of the full shape (axis 0 is the batch; a
// negative axis counts from the end); an empty list reduces every axis,
// the batch included (ONNX's rule). KeepDims keeps reduced axes as size 1
// (ONNX's default keepdims=1 must be set explicitly; the zero value drops
// them, as NumPy, Keras and PyTorch do by default).

// reduce is the shared configuration of the reductions.
type reduce struct {
	axes []int
	keep bool
}

// maxReduceAxes bounds the rank after merging adjacent axes (reduced and
// kept axes alternate, so this allows ranks of 8 and more).
const maxReduceAxes = 8

// normAxes resolves axes (negative from the end) for a rank-r shape into a
// per-axis mask, refusing repeats and axes out of range.
func normAxes(kind string, axes []int, r int, shape []int) ([]bool, error) {
	red := make([]bool, r)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
		return red, nil
	}
	for _, a := range axes {
		k := a
		if k < 0 {
			k += r
		}
		if k < 0 || k >= r {
			return nil, fmt.Errorf("%s: axis %d is out of range for input %s (rank %d)", kind, a, shapeText(shape), r)
		}
		if red[k] {
			return nil, fmt.Errorf("%s: axis %d is listed twice in %v", kind, a, axes)
		}
		red[k] = true
	}
	return red, nil
}

func (o reduce) shapes(kind string, in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	red, err := normAxes(kind, o.axes, len(s), s)
	if err != nil {
		return nil, err
	}
	out := []int{}
	for i, d := range s {
		switch {
		case !red[i]:
			out = append(out, d)
		case o.keep:
			out = append(out, 1)
		}
	}
	return [][]int{out}, nil
}

// reducePlan is a reduction over a concrete shape with adjacent axes of the
// same kind merged: dims[0] is always kept (a size-1 axis is added when
// the outermost is reduced), so work splits over it.
type reducePlan struct {
	shape  []int
	dims   [maxReduceAxes]int
	red    [maxReduceAxes]bool
	istr   [maxReduceAxes]int // input stride per merged axis
	ostr   [maxReduceAxes]int // output stride (0 for reduced axes)
	rstr   [maxReduceAxes]int // stride among the reduced positions (0 for kept)
	rank   int
	n      int // input values
	outN   int // output values
	count  int // input values per output value
	inner  int // dims[rank-1]
	innerR bool
}

func (p *reducePlan) make(kind string, axes []int, shape []int) error {
	if tensor.EqualShape(p.shape, shape) && p.shape != nil {
		return nil
	}
	red, err := normAxes(kind, axes, len(shape), shape)
	if err != nil {
		return err
	}
	var dims [2 * maxReduceAxes]int
	var isRed [2 * maxReduceAxes]bool
	r := 0
	add := func(d int, rd bool) error {
		if r > 0 && isRed[r-1] == rd {
			dims[r-1] *= d
			return nil
		}
		if r == maxReduceAxes {
			return fmt.Errorf("%s: reducing axes %v of %s alternates reduced and kept axes too often (at most %d runs)", kind, axes, tensor.ShapeString(shape), maxReduceAxes)
		}
		dims[r], isRed[r] = d, rd
		r++
		return nil
	}
	add(1, false)
	for i, d := range shape {
		if d == 1 {
			continue // merges with anything
		}
		if err := add(d, red[i]); err != nil {
			return err
		}
	}
	if r == 1 { // everything kept, or all ones: a trailing kept axis
		add(1, true)
	}
	*p = reducePlan{shape: append(p.shape[:0], shape...), rank: r, n: tensor.Numel(shape), count: 1}
	is, os, rs := 1, 1, 1
	for k := r - 1; k >= 0; k-- {
		p.dims[k], p.red[k] = dims[k], isRed[k]
		p.istr[k] = is
		is *= dims[k]
		if isRed[k] {
			p.rstr[k] = rs
			rs *= dims[k]
			p.count *= dims[k]
		} else {
			p.ostr[k] = os
			os *= dims[k]
		}
	}
	if p.n >= math.MaxInt32 {
		return fmt.Errorf("%s: input %s has %d values, more than %d", kind, tensor.ShapeString(shape), p.n, math.MaxInt32)
	}
	p.outN = os
	p.inner, p.innerR = p.dims[r-1], p.red[r-1]
	return nil
}

// reduceKind selects the reduction.
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceMax
)

// reduceState is a reduction's per-session state.
type reduceState struct {
	fwd, bwd reducePlan
	argmax   []int32 // max: per output value, the winner's index in the input
	task     reduceTask
}

// reduceTask runs a reduction over a range of the outermost (kept) axis.
type reduceTask struct {
	p        *reducePlan
	kind     reduceKind
	backward bool
	x, y     []float32 // forward: y = reduce(x); backward: x = dy, y = dx
	argmax   []int32
}

// each calls f(i, o, r) for every block of p.inner input values starting
// at i, whose output is at o and whose position among the reduced values
// is r, for outer indices [lo, hi).
func (p *reducePlan) each(lo, hi int, f func(i, o, r int)) {
	var idx [maxReduceAxes]int
	for a := lo; a < hi; a++ {
		i, o, r := a*p.istr[0], a*p.ostr[0], 0
		end := i + p.istr[0]
		idx = [maxReduceAxes]int{}
		for i < end {
			f(i, o, r)
			i += p.inner
			for k := p.rank - 2; k >= 1; k-- {
				idx[k]++
				o += p.ostr[k]
				r += p.rstr[k]
				if idx[k] < p.dims[k] {
					break
				}
				o -= p.ostr[k] * p.dims[k]
				r -= p.rstr[k] * p.dims[k]
				idx[k] = 0
			}
		}
	}
}

func (t *reduceTask) Run(lo, hi int) {
	p := t.p
	inner := p.inner
	x, y := t.x, t.y
	if t.backward {
		t.runBackward(lo, hi)
		return
	}
	switch {
	case t.kind == reduceMax && p.innerR:
		p.each(lo, hi, func(i, o, r int) {
			blk := x[i : i+inner]
			best, arg := blk[0], 0
			for j, v := range blk[1:] {
				if v > best {
					best, arg = v, j+1
				}
			}
			if r == 0 || best > y[o] {
				y[o], t.argmax[o] = best, int32(i+arg)
			}
		})
	case t.kind == reduceMax:
		p.each(lo, hi, func(i, o, r int) {
			blk, out, arg := x[i:i+inner], y[o:o+inner], t.argmax[o:o+inner]
			if r == 0 {
				copy(out, blk)
				for j := range arg {
					arg[j] = int32(i + j)
				}
				return
			}
			for j, v := range blk {
				if v > out[j] {
					out[j], arg[j] = v, int32(i+j)
				}
			}
		})
	case p.innerR:
		p.each(lo, hi, func(i, o, r int) {
			var s float32
			for _, v := range x[i : i+inner] {
				s += v
			}
			if r == 0 {
				y[o] = s
			} else {
				y[o] += s
			}
		})
	default:
		p.each(lo, hi, func(i, o, r int) {
			if r == 0 {
				copy(y[o:o+inner], x[i:i+inner])
			} else {
				kernels.Add(y[o:o+inner], x[i:i+inner])
			}
		})
	}
	if t.kind == reduceMean {
		// This range's outputs are contiguous: dims[0] is the outermost.
		kernels.Scal(1/float32(p.count), y[lo*p.ostr[0]:hi*p.ostr[0]])
	}
}

func (t *reduceTask) runBackward(lo, hi int) {
	p := t.p
	inner := p.inner
	dy, dx := t.x, t.y
	if t.kind == reduceMax {
		clear(dx[lo*p.istr[0] : hi*p.istr[0]])
		for o := lo * p.ostr[0]; o < hi*p.ostr[0]; o++ {
			dx[t.argmax[o]] = dy[o]
		}
		return
	}
	s := float32(1)
	if t.kind == reduceMean {
		s = 1 / float32(p.count)
	}
	if p.innerR {
		p.each(lo, hi, func(i, o, r int) {
			v := s * dy[o]
			blk := dx[i : i+inner]
			for j := range blk {
				blk[j] = v
			}
		})
		return
	}
	p.each(lo, hi, func(i, o, r int) {
		blk := dx[i : i+inner]
		copy(blk, dy[o:o+inner])
		if s != 1 {
			kernels.Scal(s, blk)
		}
	})
}

func (o reduce) forward(c *Call, kind reduceKind, name string, in, out []*tensor.Tensor) error {
	st := stateOf[reduceState](c)
	p := &st.fwd
	if err := p.make(name, o.axes, in[0].Shape); err != nil {
		return err
	}
	if len(out[0].Data) != p.outN {
		return fmt.Errorf("%s: output has %d values, reducing %s gives %d", name, len(out[0].Data), tensor.ShapeString(in[0].Shape), p.outN)
	}
	t := &st.task
	*t = reduceTask{p: p, kind: kind, x: in[0].Data, y: out[0].Data}
	if kind == reduceMax {
		if cap(st.argmax) < p.outN {
			st.argmax = make([]int32, p.outN)
		}
		st.argmax = st.argmax[:p.outN]
		t.argmax = st.argmax
	}
	kernels.Parallel(p.dims[0], poolGrain(p.istr[0]), t)
	*t = reduceTask{}
	return nil
}

func (o reduce) backward(c *Call, kind reduceKind, name string, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	st := stateOf[reduceState](c)
	p := &st.bwd
	if err := p.make(name, o.axes, din[0].Shape); err != nil {
		return err
	}
	if len(dout[0].Data) != p.outN {
		return fmt.Errorf("%s: gradient has %d values, reducing %s gives %d", name, len(dout[0].Data), tensor.ShapeString(din[0].Shape), p.outN)
	}
	if kind == reduceMax && len(st.argmax) != p.outN {
		return fmt.Errorf("%s: Backward without a Forward of shape %s before it", name, tensor.ShapeString(din[0].Shape))
	}
	t := &st.task
	*t = reduceTask{p: p, kind: kind, backward: true, x: dout[0].Data, y: din[0].Data, argmax: st.argmax}
	kernels.Parallel(p.dims[0], poolGrain(p.istr[0]), t)
	*t = reduceTask{}
	return nil
}

// ReduceSum sums over Axes.
type ReduceSum struct {
	noParams
	Axes     []int `json:"axes,omitempty"`
	KeepDims bool  `json:"keep_dims,omitempty"`
}

func (o *ReduceSum) cfg() reduce { return reduce{o.Axes, o.KeepDims} }

// NewReduceSum returns a sum over axes (none: every axis), dropping them
// unless keepDims.
func NewReduceSum(keepDims bool, axes ...int) *ReduceSum {
	return &ReduceSum{Axes: slices.Clone(axes), KeepDims: keepDims}
}

// Kind implements Op.
func (o *ReduceSum) Kind() string { return "ReduceSum" }

// Saves: nothing.
func (o *ReduceSum) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (o *ReduceSum) Shapes(in [][]int) ([][]int, error) { return o.cfg().shapes("ReduceSum", in) }

// Forward implements Op.
func (o *ReduceSum) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.cfg().forward(c, reduceSum, "ReduceSum", in, out)
}

// Backward implements Op: dx = dy broadcast over the reduced axes.
func (o *ReduceSum) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return o.cfg().backward(c, reduceSum, "ReduceSum", dout, din)
}

// ReduceMean averages over Axes.
type ReduceMean struct {
	noParams
	Axes     []int `json:"axes,omitempty"`
	KeepDims bool  `json:"keep_dims,omitempty"`
}

func (o *ReduceMean) cfg() reduce { return reduce{o.Axes, o.KeepDims} }

// NewReduceMean returns a mean over axes (none: every axis), dropping them
// unless keepDims.
func NewReduceMean(keepDims bool, axes ...int) *ReduceMean {
	return &ReduceMean{Axes: slices.Clone(axes), KeepDims: keepDims}
}

// Kind implements Op.
func (o *ReduceMean) Kind() string { return "ReduceMean" }

// Saves: nothing.
func (o *ReduceMean) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (o *ReduceMean) Shapes(in [][]int) ([][]int, error) { return o.cfg().shapes("ReduceMean", in) }

// Forward implements Op.
func (o *ReduceMean) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.cfg().forward(c, reduceMean, "ReduceMean", in, out)
}

// Backward implements Op: dx = dy / count broadcast over the reduced axes.
func (o *ReduceMean) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return o.cfg().backward(c, reduceMean, "ReduceMean", dout, din)
}

// ReduceMax takes the maximum over Axes. Backward sends each dy to the
// first maximum in row-major order (NaN never wins).
type ReduceMax struct {
	noParams
	Axes     []int `json:"axes,omitempty"`
	KeepDims bool  `json:"keep_dims,omitempty"`
}

func (o *ReduceMax) cfg() reduce { return reduce{o.Axes, o.KeepDims} }

// NewReduceMax returns a maximum over axes (none: every axis), dropping
// them unless keepDims.
func NewReduceMax(keepDims bool, axes ...int) *ReduceMax {
	return &ReduceMax{Axes: slices.Clone(axes), KeepDims: keepDims}
}

// Kind implements Op.
func (o *ReduceMax) Kind() string { return "ReduceMax" }

// Saves: nothing; the winners are in the state.
func (o *ReduceMax) Saves() (inputs, outputs bool) { return false, false }

// Shapes implements Op.
func (o *ReduceMax) Shapes(in [][]int) ([][]int, error) { return o.cfg().shapes("ReduceMax", in) }

// Forward implements Op.
func (o *ReduceMax) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.cfg().forward(c, reduceMax, "ReduceMax", in, out)
}

// Backward implements Op.
func (o *ReduceMax) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return o.cfg().backward(c, reduceMax, "ReduceMax", dout, din)
}

func init() {
	mustRegister(
		func() Op { return NewReduceSum(false) },
		func() Op { return NewReduceMean(false) },
		func() Op { return NewReduceMax(false) },
	)
}
