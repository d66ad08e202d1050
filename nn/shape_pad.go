package nn

import (
	"fmt"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Pad adds values before and after each axis, as ONNX Pad, NumPy's pad and
// PyTorch's F.pad. Pads has ONNX's layout: the counts before every axis of
// the full shape (batch first), then the counts after every axis, so an
// NHWC image padded by 1 pixel on every side is Pads [0,1,1,0, 0,1,1,0].
// Counts must be >= 0 (cropping is not supported). Mode is "constant"
// (the zero value; the padding holds Value), "reflect" (mirrored without
// repeating the edge: needs counts < the axis size) or "edge" (the edge
// value repeated; PyTorch's replicate). Backward adds the gradient of each
// padded value into the input value it was copied from.
type Pad struct {
	noParams
	Pads  []int   `json:"pads"`
	Mode  string  `json:"mode,omitempty"`
	Value float32 `json:"value,omitempty"`
}

// NewPad returns a pad in mode ("constant", "reflect" or "edge") by pads
// in ONNX's layout (all befores, then all afters).
func NewPad(mode string, pads ...int) *Pad { return &Pad{Mode: mode, Pads: slices.Clone(pads)} }

// Kind implements Op.
func (o *Pad) Kind() string { return "Pad" }

// Saves: nothing.
func (o *Pad) Saves() (inputs, outputs bool) { return false, false }

func (o *Pad) mode() (int, error) {
	switch o.Mode {
	case "", "constant":
		return padConstant, nil
	case "reflect":
		return padReflect, nil
	case "edge":
		return padEdge, nil
	}
	return 0, fmt.Errorf("Pad: unknown mode %q (want constant, reflect or edge)", o.Mode)
}

const (
	padConstant = iota
	padReflect
	padEdge
)

// Shapes implements Op.
func (o *Pad) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	if err := o.check(s); err != nil {
		return nil, err
	}
	r := len(s)
	out := slices.Clone(s)
	for i, d := range s {
		if d >= 0 {
			out[i] = d + o.Pads[i] + o.Pads[r+i]
		}
	}
	return [][]int{out}, nil
}

// check validates the config for an input shape (-1: unknown dimension).
func (o *Pad) check(s []int) error {
	mode, err := o.mode()
	if err != nil {
		return err
	}
	r := len(s)
	if len(o.Pads) != 2*r {
		return fmt.Errorf("Pad: %d pads for input %s; want %d (before each axis, then after each axis)", len(o.Pads), shapeText(s), 2*r)
	}
	for i, d := range s {
		lo, hi := o.Pads[i], o.Pads[r+i]
		if lo < 0 || hi < 0 {
			return fmt.Errorf("Pad: pads %v: axis %d has negative padding (%d, %d); cropping is not supported", o.Pads, i, lo, hi)
		}
		if mode == padReflect && d >= 0 && (lo >= d || hi >= d) {
			return fmt.Errorf("Pad: reflect padding (%d, %d) of axis %d of input %s must be smaller than the axis", lo, hi, i, shapeText(s))
		}
	}
	return nil
}

// padPlan is a pad of a concrete shape: a leading axis of size 1 is
// added, so that the last padded axis is never the outermost, and the
// trailing unpadded axes are merged into blocks of inner values.
type padPlan struct {
	shape      []int
	dims       []int // input dimensions, with the leading 1
	lo, hi     []int
	out        []int // output dimensions
	istr, ostr []int // strides in values
	last       int   // last padded axis (0: no padding)
	inner      int   // values per unit of the last padded axis
	n, outN    int
}

func (p *padPlan) make(o *Pad, shape []int) error {
	if p.shape != nil && tensor.EqualShape(p.shape, shape) {
		return nil
	}
	if err := o.check(shape); err != nil {
		return err
	}
	r := len(shape)
	p.shape = append(p.shape[:0], shape...)
	p.dims = append(append(p.dims[:0], 1), shape...)
	p.lo = append(append(p.lo[:0], 0), o.Pads[:r]...)
	p.hi = append(append(p.hi[:0], 0), o.Pads[r:]...)
	p.out, p.istr, p.ostr = p.out[:0], p.istr[:0], p.ostr[:0]
	p.last = 0
	for a, d := range p.dims {
		p.out = append(p.out, d+p.lo[a]+p.hi[a])
		if p.lo[a] != 0 || p.hi[a] != 0 {
			p.last = a
		}
		p.istr, p.ostr = append(p.istr, 0), append(p.ostr, 0)
	}
	is, os := 1, 1
	for a := len(p.dims) - 1; a >= 0; a-- {
		p.istr[a], p.ostr[a] = is, os
		is *= p.dims[a]
		os *= p.out[a]
	}
	p.n, p.outN = is, os
	p.inner = p.istr[p.last]
	return nil
}

// src maps output index k along axis a to the input index it copies (-1:
// the constant).
func (p *padPlan) src(mode, a, k int) int {
	d := p.dims[a]
	x := k - p.lo[a]
	switch {
	case x >= 0 && x < d:
		return x
	case mode == padConstant:
		return -1
	case mode == padEdge:
		return min(max(x, 0), d-1)
	case x < 0:
		return -x
	}
	return 2*(d-1) - x
}

// padTask runs a pad, or its backward, over a range of output indices of
// the plan's axis 1 (the input's axis 0), or all of it at once.
type padTask struct {
	p        *padPlan
	mode     int
	value    float32
	backward bool
	x, y     []float32 // input (backward: din) and output (backward: dout)
}

// parallel reports whether units of axis 1 may run concurrently: in the
// forward pass always, in the backward pass when no two output indices
// add into the same input slab.
func (t *padTask) parallel() bool {
	p := t.p
	return p.last > 1 && (!t.backward || t.mode == padConstant || (p.lo[1] == 0 && p.hi[1] == 0))
}

func (t *padTask) Run(lo, hi int) {
	p := t.p
	if !t.parallel() {
		if t.backward && t.mode != padConstant {
			clear(t.x)
		}
		if p.last == 1 {
			t.row(0, 0)
		} else {
			for k := range p.out[1] {
				t.index(1, k, 0, 0)
			}
		}
		return
	}
	for k := lo; k < hi; k++ {
		if t.backward && t.mode != padConstant {
			// Axis 1 is unpadded here: output k adds into input slab k.
			clear(t.x[k*p.istr[1] : (k+1)*p.istr[1]])
		}
		t.index(1, k, 0, 0)
	}
}

// index handles output index k of axis a < last, whose parent blocks start
// at o (output) and i (input).
func (t *padTask) index(a, k, o, i int) {
	p := t.p
	oo := o + k*p.ostr[a]
	s := p.src(t.mode, a, k)
	if s < 0 {
		if !t.backward {
			fill(t.y[oo:oo+p.ostr[a]], t.value)
		}
		return
	}
	ii := i + s*p.istr[a]
	if a+1 == p.last {
		t.row(oo, ii)
		return
	}
	for k2 := range p.out[a+1] {
		t.index(a+1, k2, oo, ii)
	}
}

// row handles the last padded axis of one slab: output block at o, input
// block at i.
func (t *padTask) row(o, i int) {
	p := t.p
	a, b := p.last, p.inner
	d, lo, hi := p.dims[a], p.lo[a], p.hi[a]
	y := t.y[o : o+p.out[a]*b]
	x := t.x[i : i+d*b]
	if !t.backward {
		copy(y[lo*b:], x)
		if t.mode == padConstant {
			fill(y[:lo*b], t.value)
			fill(y[(lo+d)*b:], t.value)
			return
		}
		for k := range lo {
			s := p.src(t.mode, a, k)
			copy(y[k*b:(k+1)*b], x[s*b:])
		}
		for k := lo + d; k < lo+d+hi; k++ {
			s := p.src(t.mode, a, k)
			copy(y[k*b:(k+1)*b], x[s*b:])
		}
		return
	}
	if t.mode == padConstant {
		copy(x, y[lo*b:(lo+d)*b])
		return
	}
	kernels.Add(x, y[lo*b:(lo+d)*b])
	for k := range lo {
		s := p.src(t.mode, a, k)
		kernels.Add(x[s*b:(s+1)*b], y[k*b:(k+1)*b])
	}
	for k := lo + d; k < lo+d+hi; k++ {
		s := p.src(t.mode, a, k)
		kernels.Add(x[s*b:(s+1)*b], y[k*b:(k+1)*b])
	}
}

// fill sets every value of v to x.
func fill(v []float32, x float32) {
	if x == 0 {
		clear(v)
		return
	}
	for i := range v {
		v[i] = x
	}
}

// padState is a Pad's per-session state.
type padState struct {
	fwd, bwd padPlan
	task     padTask
}

func (o *Pad) run(c *Call, x, y *tensor.Tensor, backward bool) error {
	mode, err := o.mode()
	if err != nil {
		return err
	}
	st := stateOf[padState](c)
	p := &st.fwd
	if backward {
		p = &st.bwd
	}
	if err := p.make(o, x.Shape); err != nil {
		return err
	}
	if len(x.Data) != p.n || len(y.Data) != p.outN {
		return fmt.Errorf("Pad: input %s with %d values, output of %d values; want %d", tensor.ShapeString(x.Shape), len(x.Data), len(y.Data), p.outN)
	}
	t := &st.task
	*t = padTask{p: p, mode: mode, value: o.Value, backward: backward, x: x.Data, y: y.Data}
	switch {
	case p.last == 0: // nothing to pad
		if backward {
			copy(x.Data, y.Data)
		} else {
			copy(y.Data, x.Data)
		}
	case t.parallel():
		kernels.Parallel(p.out[1], poolGrain(p.ostr[1]), t)
	default:
		t.Run(0, 1)
	}
	*t = padTask{}
	return nil
}

// Forward implements Op.
func (o *Pad) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.run(c, in[0], out[0], false)
}

// Backward implements Op.
func (o *Pad) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	return o.run(c, din[0], dout[0], true)
}

func init() {
	mustRegister(func() Op { return &Pad{} })
}
