package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/tensor"
)

// Indexing ops, as ONNX's: Gather and GatherElements pick values by
// indices, Slice takes strided ranges, ArgMax/ArgMin and TopK find
// extremes. Indices are carried as float32 values (dlcv's tensors are
// float32; integers are exact below 2^24), negative ones counting from
// the end of the axis; an index out of range is an error of Forward.
// Indices have no gradient (NoGrad); the data's gradient is scattered back
// to where its values were taken from.

func init() {
	mustRegister(
		func() Op { return NewGather(0) },
		func() Op { return NewGatherElements(0) },
		func() Op { return &Slice{} },
		func() Op { return NewArgMax(0, false) },
		func() Op { return NewArgMin(0, false) },
		func() Op { return NewTopK(1, -1, true) },
	)
}

// normAxis resolves a possibly negative axis for rank r.
func normAxis(kind string, axis, r int) (int, error) {
	a := axis
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		return 0, fmt.Errorf("%s: axis %d is out of range for rank %d", kind, axis, r)
	}
	return a, nil
}

// index converts an index value for an axis of size n, wrapping negative
// ones; false when it is not an integer in [-n, n).
func index(v float32, n int) (int, bool) {
	f := float64(v)
	if f != math.Trunc(f) || f < -float64(n) || f >= float64(n) {
		return 0, false
	}
	i := int(f)
	if i < 0 {
		i += n
	}
	return i, true
}

// Gather is ONNX Gather: out = data taken along Axis at the indices,
// shape data[:axis] + indices + data[axis+1:]. The gradient of data is the
// output's gradient added back at the gathered positions.
type Gather struct {
	noParams
	Axis int `json:"axis"`
}

// NewGather returns a Gather along axis.
func NewGather(axis int) *Gather { return &Gather{Axis: axis} }

// Kind is "Gather".
func (o *Gather) Kind() string { return "Gather" }

// NoGrad: the indices have none.
func (o *Gather) NoGrad(i int) bool { return i == 1 }

// Saves: the inputs (Backward reads the indices).
func (o *Gather) Saves() (inputs, outputs bool) { return true, false }

func (o *Gather) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("Gather takes 2 inputs (data, indices), got %d", len(in))
	}
	d := in[0]
	if len(d) == 0 {
		return nil, fmt.Errorf("Gather: data is a scalar")
	}
	a, err := normAxis("Gather", o.Axis, len(d))
	if err != nil {
		return nil, err
	}
	out := slices.Concat(d[:a], in[1], d[a+1:])
	return [][]int{out}, nil
}

// dims splits data's shape around the axis.
func (o *Gather) dims(d []int) (outer, n, inner int, err error) {
	a, err := normAxis("Gather", o.Axis, len(d))
	if err != nil {
		return 0, 0, 0, err
	}
	return tensor.Numel(d[:a]), d[a], tensor.Numel(d[a+1:]), nil
}

func (o *Gather) Forward(c *Call, in, out []*tensor.Tensor) error {
	outer, n, inner, err := o.dims(in[0].Shape)
	if err != nil {
		return err
	}
	x, idx, y := in[0].Data, in[1].Data, out[0].Data
	k := len(idx)
	for _, v := range idx {
		if _, ok := index(v, n); !ok {
			return fmt.Errorf("Gather: index %v is out of range for axis %d of size %d", v, o.Axis, n)
		}
	}
	for p := range outer {
		for j, v := range idx {
			i, _ := index(v, n)
			copy(y[(p*k+j)*inner:(p*k+j+1)*inner], x[(p*n+i)*inner:(p*n+i+1)*inner])
		}
	}
	return nil
}

func (o *Gather) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	outer, n, inner, err := o.dims(din[0].Shape)
	if err != nil {
		return err
	}
	dx, idx, g := din[0].Data, in[1].Data, dout[0].Data
	clear(dx)
	k := len(idx)
	for p := range outer {
		for j, v := range idx {
			i, ok := index(v, n)
			if !ok {
				return fmt.Errorf("Gather: index %v is out of range for axis %d of size %d", v, o.Axis, n)
			}
			d := dx[(p*n+i)*inner : (p*n+i+1)*inner]
			for t, gv := range g[(p*k+j)*inner : (p*k+j+1)*inner] {
				d[t] += gv
			}
		}
	}
	return nil
}

// GatherElements is ONNX GatherElements: out has the indices' shape and
// out[..., i, ...] = data[..., indices[..., i, ...], ...] along Axis.
type GatherElements struct {
	noParams
	Axis int `json:"axis"`
}

// NewGatherElements returns a GatherElements along axis.
func NewGatherElements(axis int) *GatherElements { return &GatherElements{Axis: axis} }

// Kind is "GatherElements".
func (o *GatherElements) Kind() string { return "GatherElements" }

// NoGrad: the indices have none.
func (o *GatherElements) NoGrad(i int) bool { return i == 1 }

// Saves: the inputs.
func (o *GatherElements) Saves() (inputs, outputs bool) { return true, false }

func (o *GatherElements) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("GatherElements takes 2 inputs (data, indices), got %d", len(in))
	}
	d, ix := in[0], in[1]
	if len(d) != len(ix) || len(d) == 0 {
		return nil, fmt.Errorf("GatherElements: data %s and indices %s must have the same rank", shapeText(d), shapeText(ix))
	}
	a, err := normAxis("GatherElements", o.Axis, len(d))
	if err != nil {
		return nil, err
	}
	for i := range d {
		if i != a && d[i] >= 0 && ix[i] > d[i] {
			return nil, fmt.Errorf("GatherElements: indices %s exceed data %s on axis %d", shapeText(ix), shapeText(d), i)
		}
	}
	return [][]int{slices.Clone(ix)}, nil
}

// walk calls f(out, src) for every index position with the data offset
// it selects.
func (o *GatherElements) walk(d, ix []int, idx []float32, f func(i, j int)) error {
	a, err := normAxis("GatherElements", o.Axis, len(d))
	if err != nil {
		return err
	}
	r := len(ix)
	var cnt [maxBcastRank]int
	if r > maxBcastRank {
		return fmt.Errorf("GatherElements: rank %d, at most %d", r, maxBcastRank)
	}
	var dstr [maxBcastRank]int
	s := 1
	for i := r - 1; i >= 0; i-- {
		dstr[i] = s
		s *= d[i]
	}
	for i, v := range idx {
		k, ok := index(v, d[a])
		if !ok {
			return fmt.Errorf("GatherElements: index %v is out of range for axis %d of size %d", v, o.Axis, d[a])
		}
		off := 0
		for t := range r {
			if t == a {
				off += k * dstr[t]
			} else {
				off += cnt[t] * dstr[t]
			}
		}
		f(i, off)
		for t := r - 1; t >= 0; t-- {
			if cnt[t]++; cnt[t] < ix[t] {
				break
			}
			cnt[t] = 0
		}
	}
	return nil
}

func (o *GatherElements) Forward(c *Call, in, out []*tensor.Tensor) error {
	x, y := in[0].Data, out[0].Data
	return o.walk(in[0].Shape, in[1].Shape, in[1].Data, func(i, j int) { y[i] = x[j] })
}

func (o *GatherElements) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	dx, g := din[0].Data, dout[0].Data
	clear(dx)
	return o.walk(din[0].Shape, in[1].Shape, in[1].Data, func(i, j int) { dx[j] += g[i] })
}

// Slice is ONNX Slice with constant parameters: along each of Axes (all
// axes in order when empty) it takes indices Starts[i], Starts[i]+Steps[i],
// ... up to but excluding Ends[i]. Negative starts and ends count from
// the end; they are clamped to the axis as ONNX specifies (so an end of
// math.MaxInt64 means "to the end"), and negative steps walk backwards.
// Steps defaults to 1. The gradient goes back to the positions taken.
type Slice struct {
	noParams
	Starts []int `json:"starts"`
	Ends   []int `json:"ends"`
	Axes   []int `json:"axes,omitempty"`
	Steps  []int `json:"steps,omitempty"`
}

// NewSlice returns a slice of axes (nil: the first len(starts)) from
// starts to ends with steps (nil: 1).
func NewSlice(starts, ends, axes, steps []int) *Slice {
	return &Slice{Starts: slices.Clone(starts), Ends: slices.Clone(ends), Axes: slices.Clone(axes), Steps: slices.Clone(steps)}
}

// Kind is "Slice".
func (o *Slice) Kind() string { return "Slice" }

// Saves: nothing (Backward needs the shapes only).
func (o *Slice) Saves() (inputs, outputs bool) { return false, false }

// sliceAxis is one axis of a slice over a concrete size.
type sliceAxis struct{ start, step, n int }

// resolve returns, per axis of s, the start, step and length (-1 where
// the size is unknown), in ax (reused when large enough).
func (o *Slice) resolve(s []int, ax []sliceAxis) ([]sliceAxis, error) {
	if len(o.Starts) != len(o.Ends) {
		return nil, fmt.Errorf("Slice: %d starts and %d ends", len(o.Starts), len(o.Ends))
	}
	if len(o.Axes) > 0 && len(o.Axes) != len(o.Starts) {
		return nil, fmt.Errorf("Slice: %d axes for %d starts", len(o.Axes), len(o.Starts))
	}
	if len(o.Steps) > 0 && len(o.Steps) != len(o.Starts) {
		return nil, fmt.Errorf("Slice: %d steps for %d starts", len(o.Steps), len(o.Starts))
	}
	r := len(s)
	if r > maxBcastRank {
		return nil, fmt.Errorf("Slice: rank %d, at most %d", r, maxBcastRank)
	}
	ax = ax[:0]
	for _, d := range s {
		ax = append(ax, sliceAxis{0, 1, d})
	}
	var seen [maxBcastRank]bool
	for i := range o.Starts {
		a := i
		if len(o.Axes) > 0 {
			a = o.Axes[i]
		}
		k, err := normAxis("Slice", a, r)
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, fmt.Errorf("Slice: axis %d is listed twice", a)
		}
		seen[k] = true
		step := 1
		if len(o.Steps) > 0 {
			step = o.Steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("Slice: step 0 on axis %d", a)
		}
		d := s[k]
		if d < 0 {
			ax[k] = sliceAxis{0, step, -1}
			continue
		}
		st, en := o.Starts[i], o.Ends[i]
		if st < 0 {
			st += d
		}
		if en < 0 {
			en += d
		}
		var n int
		if step > 0 {
			st, en = min(max(st, 0), d), min(max(en, 0), d)
			n = max(0, (en-st+step-1)/step)
		} else {
			st, en = min(max(st, 0), d-1), min(max(en, -1), d-1)
			n = max(0, (st-en-step-1)/(-step))
		}
		ax[k] = sliceAxis{st, step, n}
	}
	return ax, nil
}

func (o *Slice) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Slice takes 1 input, got %d", len(in))
	}
	ax, err := o.resolve(in[0], nil)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(ax))
	for i, a := range ax {
		out[i] = a.n
	}
	return [][]int{out}, nil
}

// walk calls f(o, i) for each output value o and the input value i it
// comes from.
func (o *Slice) walk(c *Call, s []int, f func(o, i int)) error {
	st := stateOf[sliceState](c)
	ax, err := o.resolve(s, st.ax[:])
	if err != nil {
		return err
	}
	r := len(s)
	if r > maxBcastRank {
		return fmt.Errorf("Slice: rank %d, at most %d", r, maxBcastRank)
	}
	n := 1
	for _, a := range ax {
		n *= a.n
	}
	if n == 0 {
		return nil
	}
	var str, cnt [maxBcastRank]int
	stride, base := 1, 0
	for i := r - 1; i >= 0; i-- {
		str[i] = stride * ax[i].step
		base += ax[i].start * stride
		stride *= s[i]
	}
	// The innermost axis runs as a strided loop.
	last := ax[r-1]
	for p := 0; p < n; p += last.n {
		off := base
		for t := range r - 1 {
			off += cnt[t] * str[t]
		}
		for j := range last.n {
			f(p+j, off+j*str[r-1])
		}
		for t := r - 2; t >= 0; t-- {
			if cnt[t]++; cnt[t] < ax[t].n {
				break
			}
			cnt[t] = 0
		}
	}
	return nil
}

func (o *Slice) Forward(c *Call, in, out []*tensor.Tensor) error {
	if len(in[0].Shape) == 0 {
		return fmt.Errorf("Slice: input is a scalar")
	}
	x, y := in[0].Data, out[0].Data
	return o.walk(c, in[0].Shape, func(p, i int) { y[p] = x[i] })
}

func (o *Slice) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	dx, g := din[0].Data, dout[0].Data
	clear(dx)
	return o.walk(c, din[0].Shape, func(p, i int) { dx[i] += g[p] })
}

// sliceState holds a Slice's resolved axes between calls.
type sliceState struct{ ax [maxBcastRank]sliceAxis }

// argExtreme is ArgMax and ArgMin: the index of the largest (smallest)
// value along Axis, the first one unless SelectLastIndex. NaN never wins.
type argExtreme struct {
	noParams
	Axis            int  `json:"axis"`
	KeepDims        bool `json:"keep_dims,omitempty"`
	SelectLastIndex bool `json:"select_last_index,omitempty"`
}

func (o *argExtreme) shapes(kind string, in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s takes 1 input, got %d", kind, len(in))
	}
	s := in[0]
	if len(s) == 0 {
		return nil, fmt.Errorf("%s: input is a scalar", kind)
	}
	a, err := normAxis(kind, o.Axis, len(s))
	if err != nil {
		return nil, err
	}
	out := slices.Clone(s)
	if o.KeepDims {
		out[a] = 1
	} else {
		out = slices.Delete(out, a, a+1)
	}
	return [][]int{out}, nil
}

func (o *argExtreme) forward(kind string, in, out []*tensor.Tensor, larger bool) error {
	s := in[0].Shape
	a, err := normAxis(kind, o.Axis, len(s))
	if err != nil {
		return err
	}
	outer, n, inner := tensor.Numel(s[:a]), s[a], tensor.Numel(s[a+1:])
	if n == 0 {
		return fmt.Errorf("%s: axis %d is empty", kind, o.Axis)
	}
	x, y := in[0].Data, out[0].Data
	for p := range outer {
		for q := range inner {
			best, bi := x[p*n*inner+q], 0
			for i := 1; i < n; i++ {
				v := x[(p*n+i)*inner+q]
				better := v > best
				if !larger {
					better = v < best
				}
				if best != best && v == v { // a NaN start loses to any number
					better = true
				}
				if better || (o.SelectLastIndex && v == best) {
					best, bi = v, i
				}
			}
			y[p*inner+q] = float32(bi)
		}
	}
	return nil
}

// ArgMax is ONNX ArgMax: the index of the largest value along Axis.
type ArgMax struct{ argExtreme }

// NewArgMax returns an ArgMax along axis.
func NewArgMax(axis int, keepDims bool) *ArgMax {
	return &ArgMax{argExtreme{Axis: axis, KeepDims: keepDims}}
}

// Kind is "ArgMax".
func (o *ArgMax) Kind() string { return "ArgMax" }

// NoGrad: an index has no gradient.
func (o *ArgMax) NoGrad(i int) bool { return true }

func (o *ArgMax) Shapes(in [][]int) ([][]int, error) { return o.shapes("ArgMax", in) }

func (o *ArgMax) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.forward("ArgMax", in, out, true)
}

// Backward: ArgMax is not differentiable (NoGrad: it is never asked).
func (o *ArgMax) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		return fmt.Errorf("ArgMax is not differentiable")
	}
	return nil
}

// ArgMin is ONNX ArgMin: the index of the smallest value along Axis.
type ArgMin struct{ argExtreme }

// NewArgMin returns an ArgMin along axis.
func NewArgMin(axis int, keepDims bool) *ArgMin {
	return &ArgMin{argExtreme{Axis: axis, KeepDims: keepDims}}
}

// Kind is "ArgMin".
func (o *ArgMin) Kind() string { return "ArgMin" }

// NoGrad: an index has no gradient.
func (o *ArgMin) NoGrad(i int) bool { return true }

func (o *ArgMin) Shapes(in [][]int) ([][]int, error) { return o.shapes("ArgMin", in) }

func (o *ArgMin) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.forward("ArgMin", in, out, false)
}

// Backward: ArgMin is not differentiable (NoGrad: it is never asked).
func (o *ArgMin) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		return fmt.Errorf("ArgMin is not differentiable")
	}
	return nil
}

// TopK is ONNX TopK with a constant K: the K largest (smallest unless
// Largest) values along Axis and their indices, two outputs. Equal values
// keep the lower index first; with Sorted false the order is the same
// (sorted), which ONNX allows. The values' gradient goes back to where
// they were taken from.
type TopK struct {
	noParams
	K       int  `json:"k"`
	Axis    int  `json:"axis"`
	Largest bool `json:"largest"`
	Sorted  bool `json:"sorted,omitempty"`
}

// NewTopK returns a TopK of k values along axis.
func NewTopK(k, axis int, largest bool) *TopK {
	return &TopK{K: k, Axis: axis, Largest: largest, Sorted: true}
}

// Kind is "TopK".
func (o *TopK) Kind() string { return "TopK" }

// Saves: the outputs (the indices).
func (o *TopK) Saves() (inputs, outputs bool) { return false, true }

func (o *TopK) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("TopK takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) == 0 {
		return nil, fmt.Errorf("TopK: input is a scalar")
	}
	a, err := normAxis("TopK", o.Axis, len(s))
	if err != nil {
		return nil, err
	}
	if o.K < 0 || (s[a] >= 0 && o.K > s[a]) {
		return nil, fmt.Errorf("TopK: k %d for axis %d of size %d", o.K, o.Axis, s[a])
	}
	out := slices.Clone(s)
	out[a] = o.K
	return [][]int{out, slices.Clone(out)}, nil
}

type topKState struct{ idx []int }

func (o *TopK) Forward(c *Call, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	a, err := normAxis("TopK", o.Axis, len(s))
	if err != nil {
		return err
	}
	outer, n, inner := tensor.Numel(s[:a]), s[a], tensor.Numel(s[a+1:])
	if o.K > n {
		return fmt.Errorf("TopK: k %d for axis %d of size %d", o.K, o.Axis, n)
	}
	st := stateOf[topKState](c)
	if cap(st.idx) < n {
		st.idx = make([]int, n)
	}
	idx := st.idx[:n]
	x, vals, ids := in[0].Data, out[0].Data, out[1].Data
	k := o.K
	for p := range outer {
		for q := range inner {
			at := func(i int) float32 { return x[(p*n+i)*inner+q] }
			// first: i comes before j (the wanted values first; NaN as
			// the largest, as NumPy; equal values keep the lower index
			// first, as a stable sort).
			first := func(i, j int) bool {
				u, v := at(i), at(j)
				c := 0
				switch {
				case u != u && v != v:
				case u != u:
					c = o.order(1)
				case v != v:
					c = o.order(-1)
				case u > v:
					c = o.order(1)
				case u < v:
					c = o.order(-1)
				}
				return c < 0 || c == 0 && i < j
			}
			cmp := func(i, j int) int {
				if first(i, j) {
					return -1
				}
				if first(j, i) {
					return 1
				}
				return 0
			}
			if k*16 < n {
				// Few of many (CenterNet's 100 of 1.3M scores): keep
				// the best k in a heap whose root is the worst of them,
				// then sort those; the same order as sorting all.
				var row []float32
				if inner == 1 {
					row = x[p*n : (p+1)*n]
				}
				idx = topKSelect(idx[:0], n, k, first, at, o.Largest, row)
				slices.SortFunc(idx, cmp)
			} else {
				for i := range idx {
					idx[i] = i
				}
				slices.SortFunc(idx, cmp)
			}
			for j := range k {
				vals[(p*k+j)*inner+q] = at(idx[j])
				ids[(p*k+j)*inner+q] = float32(idx[j])
			}
		}
	}
	return nil
}

// topKSelect returns the k of 0..n-1 that come first by first (a strict
// total order), in heap order: a max-heap by first of size k, whose
// root, the last of the kept, is replaced by each better index.
// at and largest let most indices be refused with one comparison with
// the root's value: a later index that is not strictly better. row, when
// not nil, holds the values at(i) contiguously: the refusals then run in
// a loop without calls (CenterNet's 1.3M scores: 12 -> 1.1 ms per run in
// its node profile).
func topKSelect(h []int, n, k int, first func(i, j int) bool, at func(int) float32, largest bool, row []float32) []int {
	down := func(r int) {
		for {
			c := 2*r + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && first(h[c], h[c+1]) {
				c++ // the later of the two children
			}
			if !first(h[r], h[c]) {
				return
			}
			h[r], h[c] = h[c], h[r]
			r = c
		}
	}
	var rv float32 // at(h[0])
	for i := 0; i < n; i++ {
		if len(h) < k {
			h = append(h, i)
			for c := len(h) - 1; c > 0; {
				r := (c - 1) / 2
				if !first(h[r], h[c]) {
					break
				}
				h[r], h[c] = h[c], h[r]
				c = r
			}
			rv = at(h[0])
			continue
		}
		if k == 0 {
			break
		}
		// Refused: v and rv are numbers and v is not better (a NaN
		// fails every comparison and goes to first).
		if row != nil {
			if largest {
				for i < n && row[i] <= rv {
					i++
				}
			} else {
				for i < n && row[i] >= rv {
					i++
				}
			}
			if i == n {
				break
			}
		} else if v := at(i); v == v && rv == rv && (largest && v <= rv || !largest && v >= rv) {
			continue
		}
		if first(i, h[0]) {
			h[0] = i
			down(0)
			rv = at(h[0])
		}
	}
	return h
}

// order turns "u is larger" (1) or "smaller" (-1) into a sort order:
// the wanted values first.
func (o *TopK) order(c int) int {
	if o.Largest {
		return -c
	}
	return c
}

func (o *TopK) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil || dout[0] == nil {
		if din[0] != nil {
			clear(din[0].Data)
		}
		return nil
	}
	s := din[0].Shape
	a, err := normAxis("TopK", o.Axis, len(s))
	if err != nil {
		return err
	}
	outer, n, inner := tensor.Numel(s[:a]), s[a], tensor.Numel(s[a+1:])
	dx, g, ids := din[0].Data, dout[0].Data, out[1].Data
	clear(dx)
	k := o.K
	for p := range outer {
		for j := range k {
			for q := range inner {
				i := int(ids[(p*k+j)*inner+q])
				dx[(p*n+i)*inner+q] += g[(p*k+j)*inner+q]
			}
		}
	}
	return nil
}
