package nn

import (
	"fmt"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Reshape gives its input another shape with the same values in the same
// order. Shape is the full output shape (batch axis first) with ONNX's
// rules: 0 copies the input's dimension at that index, and one -1 is
// inferred from the others. Reshape{Shape: []int{0, -1}} flattens, as
// Flatten does. The output is a view of the input (Aliaser).
type Reshape struct {
	noParams
	Shape []int `json:"shape"`
}

// NewReshape returns a reshape to shape (0: copy the input dimension; -1:
// inferred).
func NewReshape(shape ...int) *Reshape { return &Reshape{Shape: slices.Clone(shape)} }

// Kind implements Op.
func (o *Reshape) Kind() string { return "Reshape" }

// Alias implements Aliaser.
func (o *Reshape) Alias() bool { return true }

// Shapes implements Op. Unknown input dimensions (-1) are carried through
// 0 entries; an inferred dimension is unknown unless the unknown input
// dimensions are all copied.
func (o *Reshape) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	out := slices.Clone(o.Shape)
	infer := -1
	copied := make([]bool, len(s))
	known := 1 // product of the explicit dimensions
	for i, d := range o.Shape {
		switch {
		case d == 0:
			if i >= len(s) {
				return nil, fmt.Errorf("Reshape to %v: entry %d is 0 (copy the input dimension), but input %s has rank %d", o.Shape, i, shapeText(s), len(s))
			}
			out[i] = s[i]
			copied[i] = true
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("Reshape to %v: more than one -1", o.Shape)
			}
			infer = i
		case d < -1:
			return nil, fmt.Errorf("Reshape to %v: dimension %d is negative", o.Shape, d)
		default:
			known *= d
		}
	}
	// The input's values not accounted for by copied dimensions.
	rest, unknown := 1, false
	for i, d := range s {
		if copied[i] {
			continue
		}
		if d < 0 {
			unknown = true
		} else {
			rest *= d
		}
	}
	switch {
	case unknown && infer >= 0:
		out[infer] = -1
	case unknown:
	case infer >= 0:
		if known == 0 || rest%known != 0 {
			return nil, fmt.Errorf("Reshape: input %s cannot be reshaped to %v (%d values do not divide into parts of %d)", shapeText(s), o.Shape, rest, known)
		}
		out[infer] = rest / known
	case rest != known:
		return nil, fmt.Errorf("Reshape: input %s cannot be reshaped to %v (%d values, beyond the copied dimensions, for %d)", shapeText(s), o.Shape, rest, known)
	}
	return [][]int{out}, nil
}

// Forward implements Op: a copy, for callers outside a Session (which
// makes the output a view).
func (o *Reshape) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, in[0].Data)
	return nil
}

// Backward implements Op.
func (o *Reshape) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		copy(din[0].Data, dout[0].Data)
	}
	return nil
}

// Squeeze removes axes of size 1. Axes lists them (negative counts from
// the end); with none, every axis after the batch known to be 1 at build
// time goes (the batch axis is kept, so a batch of one does not change the
// output's rank, and an axis of unknown size there is an error: list the
// axes). A listed axis of unknown size must be 1 at run time. The output
// is a view (Aliaser).
type Squeeze struct {
	noParams
	Axes []int `json:"axes,omitempty"`
}

// NewSqueeze returns a squeeze of axes (none: every size-1 axis but the
// batch).
func NewSqueeze(axes ...int) *Squeeze { return &Squeeze{Axes: slices.Clone(axes)} }

// Kind implements Op.
func (o *Squeeze) Kind() string { return "Squeeze" }

// Alias implements Aliaser.
func (o *Squeeze) Alias() bool { return true }

// Shapes implements Op.
func (o *Squeeze) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	s := in[0]
	drop := make([]bool, len(s))
	if len(o.Axes) == 0 {
		for i, d := range s {
			if i == 0 {
				continue
			}
			if d < 0 {
				return nil, fmt.Errorf("Squeeze: axis %d of input %s has unknown size; list the axes to squeeze", i, shapeText(s))
			}
			drop[i] = d == 1
		}
	} else {
		m, err := normAxes("Squeeze", o.Axes, len(s), s)
		if err != nil {
			return nil, err
		}
		for i, r := range m {
			if r && s[i] != 1 && s[i] != -1 {
				return nil, fmt.Errorf("Squeeze: axis %d of input %s has size %d, not 1", i, shapeText(s), s[i])
			}
		}
		drop = m
	}
	out := []int{}
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return [][]int{out}, nil
}

// Forward implements Op (a copy outside a Session).
func (o *Squeeze) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, in[0].Data)
	return nil
}

// Backward implements Op.
func (o *Squeeze) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		copy(din[0].Data, dout[0].Data)
	}
	return nil
}

// Unsqueeze inserts axes of size 1 at Axes, positions in the output
// (negative counts from the output's end), as ONNX Unsqueeze. The output
// is a view (Aliaser).
type Unsqueeze struct {
	noParams
	Axes []int `json:"axes"`
}

// NewUnsqueeze returns an unsqueeze inserting size-1 axes at axes.
func NewUnsqueeze(axes ...int) *Unsqueeze { return &Unsqueeze{Axes: slices.Clone(axes)} }

// Kind implements Op.
func (o *Unsqueeze) Kind() string { return "Unsqueeze" }

// Alias implements Aliaser.
func (o *Unsqueeze) Alias() bool { return true }

// Shapes implements Op.
func (o *Unsqueeze) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if len(o.Axes) == 0 {
		return nil, fmt.Errorf("Unsqueeze: no axes")
	}
	s := in[0]
	r := len(s) + len(o.Axes)
	ins, err := normAxes("Unsqueeze", o.Axes, r, s)
	if err != nil {
		return nil, fmt.Errorf("%w (the output has rank %d)", err, r)
	}
	out := make([]int, 0, r)
	j := 0
	for _, one := range ins {
		if one {
			out = append(out, 1)
		} else {
			out = append(out, s[j])
			j++
		}
	}
	return [][]int{out}, nil
}

// Forward implements Op (a copy outside a Session).
func (o *Unsqueeze) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, in[0].Data)
	return nil
}

// Backward implements Op.
func (o *Unsqueeze) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		copy(din[0].Data, dout[0].Data)
	}
	return nil
}

// Transpose permutes the axes: output axis i is input axis Perm[i] (ONNX
// Transpose, torch.permute). Perm covers the full shape, batch included;
// an empty Perm reverses the axes (ONNX's default). Transposes that are a
// batch of 2-D transposes after merging axes that stay together (NCHW <->
// NHWC: (N, C, H*W) <-> (N, H*W, C)) run a tiled kernel; the others copy
// runs of the input's innermost axis, or gather. Backward applies the
// inverse permutation.
type Transpose struct {
	noParams
	Perm []int `json:"perm,omitempty"`
}

// NewTranspose returns a transpose by perm.
func NewTranspose(perm ...int) *Transpose { return &Transpose{Perm: slices.Clone(perm)} }

// Kind implements Op.
func (o *Transpose) Kind() string { return "Transpose" }

// Saves: nothing.
func (o *Transpose) Saves() (inputs, outputs bool) { return false, false }

// perm returns the permutation for a rank-r input, checking it.
func (o *Transpose) perm(dst []int, r int, shape []int) ([]int, error) {
	dst = dst[:0]
	if len(o.Perm) == 0 {
		for i := range r {
			dst = append(dst, r-1-i)
		}
		return dst, nil
	}
	if len(o.Perm) != r {
		return nil, fmt.Errorf("Transpose: perm %v has %d entries, input %s has rank %d", o.Perm, len(o.Perm), shapeText(shape), r)
	}
	var seen [64]bool
	for _, p := range o.Perm {
		if p < 0 || p >= r || r > len(seen) || seen[p] {
			return nil, fmt.Errorf("Transpose: perm %v is not a permutation of 0..%d", o.Perm, r-1)
		}
		seen[p] = true
	}
	return append(dst, o.Perm...), nil
}

// Shapes implements Op.
func (o *Transpose) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	p, err := o.perm(nil, len(in[0]), in[0])
	if err != nil {
		return nil, err
	}
	out := make([]int, len(p))
	for i, a := range p {
		out[i] = in[0][a]
	}
	return [][]int{out}, nil
}

// maxTransposeAxes bounds the rank after merging axes that stay adjacent.
const maxTransposeAxes = 8

// transposePlan is a transpose of a concrete shape with size-1 axes
// dropped and axes that stay adjacent merged.
type transposePlan struct {
	shape []int
	inv   bool // the inverse of the op's permutation (Backward)
	perm  [maxTransposeAxes]int
	dims  [maxTransposeAxes]int // merged input dimensions
	ostr  [maxTransposeAxes]int // per output axis: the input stride
	odim  [maxTransposeAxes]int // per output axis: its size
	rank  int
	n     int
	// A batch of 2-D transposes: rows x cols per batch entry.
	batch, rows, cols int
	tiled             bool
	// (A, B, C) -> (C, B, A) (a convolution kernel from OIHW to HWIO):
	// for each index of B, an A x C transpose with strides.
	outer bool
}

func (tp *transposePlan) make(perm []int, shape []int, inv bool) error {
	if tp.shape != nil && tp.inv == inv && tensor.EqualShape(tp.shape, shape) {
		return nil
	}
	r := len(shape)
	if r > 64 || len(perm) != r {
		return fmt.Errorf("Transpose: shape %s with perm %v: rank over 64 or a perm of another rank", tensor.ShapeString(shape), perm)
	}
	var pbuf [64]int
	p := pbuf[:r]
	if inv {
		for i, a := range perm {
			p[a] = i
		}
	} else {
		copy(p, perm)
	}
	// Keep the axes of size > 1, renumbered.
	var keep [64]int
	idx := 0
	for i, d := range shape {
		keep[i] = -1
		if d != 1 {
			keep[i] = idx
			idx++
		}
	}
	var q [64]int // permutation over the kept axes
	var qd [64]int
	nq := 0
	for _, a := range p {
		if keep[a] >= 0 {
			q[nq] = keep[a]
			nq++
		}
	}
	for i, d := range shape {
		if keep[i] >= 0 {
			qd[keep[i]] = d
		}
	}
	// Merge output-adjacent axes that are also input-adjacent.
	var groups [64][2]int // per merged output axis: first input axis, count
	ng := 0
	for i := range nq {
		if ng > 0 && groups[ng-1][0]+groups[ng-1][1] == q[i] {
			groups[ng-1][1]++
			continue
		}
		groups[ng] = [2]int{q[i], 1}
		ng++
	}
	if ng > maxTransposeAxes {
		return fmt.Errorf("Transpose: shape %s with perm %v needs %d axes after merging, at most %d are supported", tensor.ShapeString(shape), perm, ng, maxTransposeAxes)
	}
	*tp = transposePlan{shape: append(tp.shape[:0], shape...), inv: inv, rank: ng, n: tensor.Numel(shape)}
	// Merged input axes in input order: sort groups by first input axis.
	var order [maxTransposeAxes]int // merged input axis of each output axis
	for i := range ng {
		rank := 0
		for j := range ng {
			if groups[j][0] < groups[i][0] {
				rank++
			}
		}
		order[i] = rank
		d := 1
		for k := range groups[i][1] {
			d *= qd[groups[i][0]+k]
		}
		tp.dims[rank] = d
		tp.odim[i] = d
	}
	var istr [maxTransposeAxes]int
	s := 1
	for k := ng - 1; k >= 0; k-- {
		istr[k] = s
		s *= tp.dims[k]
	}
	for i := range ng {
		tp.perm[i] = order[i]
		tp.ostr[i] = istr[order[i]]
	}
	// (B, R, C) -> (B, C, R), or (R, C) -> (C, R).
	switch {
	case ng == 2 && tp.perm[0] == 1:
		tp.tiled, tp.batch, tp.rows, tp.cols = true, 1, tp.dims[0], tp.dims[1]
	case ng == 3 && tp.perm[0] == 0 && tp.perm[1] == 2:
		tp.tiled, tp.batch, tp.rows, tp.cols = true, tp.dims[0], tp.dims[1], tp.dims[2]
	case ng == 3 && tp.perm[0] == 2 && tp.perm[1] == 1:
		// The odometer would gather each output row with a stride of
		// B*C: ResNet-18's weights at load took 45 ms that way.
		tp.outer, tp.batch, tp.rows, tp.cols = true, tp.dims[1], tp.dims[0], tp.dims[2]
	}
	return nil
}

// transposeTask runs a plan over a range of the outermost output axis (or
// of the batch of 2-D transposes, split further into row blocks).
type transposeTask struct {
	p      *transposePlan
	x, y   []float32
	blocks int  // blocks per 2-D transpose
	byCols bool // blocks of source columns rather than rows
}

// A parallel 2-D transpose splits into bands of source rows: a band of 16
// reads 16 sequential streams and writes whole cache lines (16 floats) of
// each destination row. Matrices of fewer rows (an image of few channels
// to NHWC) split into blocks of source columns instead.
const (
	transposeRowBlock = 16
	transposeColBlock = 1024
)

func (t *transposeTask) Run(lo, hi int) {
	p := t.p
	if p.outer { // index b of (A, B, C): y[c][b][a] = x[a][b][c]
		a, b, c := p.rows, p.batch, p.cols
		for u := lo; u < hi; u++ {
			kernels.Transpose(t.y[u*a:], b*a, t.x[u*c:], b*c, a, c)
		}
		return
	}
	if p.tiled {
		m, rows, cols := p.rows*p.cols, p.rows, p.cols
		for u := lo; u < hi; u++ {
			b, k := u/t.blocks, u%t.blocks
			x, y := t.x[b*m:(b+1)*m], t.y[b*m:(b+1)*m]
			if t.byCols { // a block of source columns: destination rows
				c0 := k * transposeColBlock
				c1 := min(c0+transposeColBlock, cols)
				kernels.Transpose(y[c0*rows:], rows, x[c0:], cols, rows, c1-c0)
				continue
			}
			r0 := k * transposeRowBlock
			r1 := min(r0+transposeRowBlock, rows)
			kernels.Transpose(y[r0:], rows, x[r0*cols:], cols, r1-r0, cols)
		}
		return
	}
	r := p.rank
	if r <= 1 {
		copy(t.y[lo:hi], t.x[lo:hi])
		return
	}
	// Odometer over the output's axes 1..r-2 for each outermost index;
	// the innermost output axis is a strided read, or a copy when it is
	// the input's innermost axis too.
	inner, istep := p.odim[r-1], p.ostr[r-1]
	var idx [maxTransposeAxes]int
	outer := p.n / p.odim[0]
	for a := lo; a < hi; a++ {
		o := a * outer
		src := a * p.ostr[0]
		idx = [maxTransposeAxes]int{}
		for end := o + outer; o < end; o += inner {
			y := t.y[o : o+inner]
			if istep == 1 { // the innermost axis stays innermost
				copy(y, t.x[src:src+inner])
			} else {
				s := src
				for j := range y {
					y[j] = t.x[s]
					s += istep
				}
			}
			for k := r - 2; k >= 1; k-- {
				idx[k]++
				src += p.ostr[k]
				if idx[k] < p.odim[k] {
					break
				}
				src -= p.ostr[k] * p.odim[k]
				idx[k] = 0
			}
		}
	}
}

// transposeState is a Transpose's per-session state.
type transposeState struct {
	perm     []int
	fwd, bwd transposePlan
	task     transposeTask
}

func (o *Transpose) run(c *Call, x, y *tensor.Tensor, inv bool) error {
	st := stateOf[transposeState](c)
	// Backward passes dy (of the output's shape) as x: the plan applies
	// the inverse permutation.
	shape := x.Shape
	var err error
	if st.perm, err = o.perm(st.perm, len(shape), shape); err != nil {
		return err
	}
	p := &st.fwd
	if inv {
		p = &st.bwd
	}
	if err := p.make(st.perm, shape, inv); err != nil {
		return err
	}
	if len(y.Data) != p.n || len(x.Data) != p.n {
		return fmt.Errorf("Transpose: %d values in, %d out, shape %s holds %d", len(x.Data), len(y.Data), tensor.ShapeString(shape), p.n)
	}
	t := &st.task
	*t = transposeTask{p: p, x: x.Data, y: y.Data}
	switch {
	case p.outer:
		kernels.Parallel(p.batch, poolGrain(p.rows*p.cols), t)
	case p.tiled:
		work := transposeRowBlock * p.cols
		t.blocks = (p.rows + transposeRowBlock - 1) / transposeRowBlock
		if p.rows < transposeRowBlock {
			t.byCols, work = true, transposeColBlock*p.rows
			t.blocks = (p.cols + transposeColBlock - 1) / transposeColBlock
		}
		kernels.Parallel(p.batch*t.blocks, poolGrain(work), t)
	case p.rank <= 1:
		kernels.Parallel(p.n, ewGrain, t)
	default:
		kernels.Parallel(p.odim[0], poolGrain(p.n/p.odim[0]), t)
	}
	*t = transposeTask{}
	return nil
}

// Forward implements Op.
func (o *Transpose) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.run(c, in[0], out[0], false)
}

// Backward implements Op.
func (o *Transpose) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	return o.run(c, dout[0], din[0], true)
}

func init() {
	mustRegister(
		func() Op { return &Reshape{} },
		func() Op { return &Squeeze{} },
		func() Op { return &Unsqueeze{} },
		func() Op { return &Transpose{} },
	)
}
