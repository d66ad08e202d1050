package nn

import (
	"fmt"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Concat joins its inputs along Axis (of the full shape: 0 is the batch;
// negative counts from the end), as ONNX Concat, torch.cat and Keras'
// Concatenate. The other axes must agree. Backward cuts dy into the
// inputs' parts.
type Concat struct {
	noParams
	Axis int `json:"axis"`
}

// NewConcat returns a concatenation along axis (-1: the channels of NHWC).
func NewConcat(axis int) *Concat { return &Concat{Axis: axis} }

// Kind implements Op.
func (o *Concat) Kind() string { return "Concat" }

// Saves: nothing.
func (o *Concat) Saves() (inputs, outputs bool) { return false, false }

// resolveAxis turns a possibly negative axis into an index of a rank-r
// shape.
func resolveAxis(kind string, axis int, shape []int) (int, error) {
	r := len(shape)
	a := axis
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		return 0, fmt.Errorf("%s: axis %d is out of range for shape %s (rank %d)", kind, axis, shapeText(shape), r)
	}
	return a, nil
}

// Shapes implements Op.
func (o *Concat) Shapes(in [][]int) ([][]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("Concat: no inputs")
	}
	a, err := resolveAxis("Concat", o.Axis, in[0])
	if err != nil {
		return nil, err
	}
	out := slices.Clone(in[0])
	for i, s := range in[1:] {
		if len(s) != len(out) {
			return nil, fmt.Errorf("Concat: input %d has shape %s, input 0 %s: ranks differ", i+1, shapeText(s), shapeText(in[0]))
		}
		for k, d := range s {
			switch {
			case k == a:
				if d < 0 || out[k] < 0 {
					out[k] = -1
				} else {
					out[k] += d
				}
			case d == out[k] || d == -1:
			case out[k] == -1:
				out[k] = d
			default:
				return nil, fmt.Errorf("Concat along axis %d: input %d has shape %s, input 0 %s (axis %d differs)", o.Axis, i+1, shapeText(s), shapeText(in[0]), k)
			}
		}
	}
	return [][]int{out}, nil
}

// concatTask copies between a whole tensor and its parts along an axis,
// over a range of the outer index (the axes before it).
type concatTask struct {
	parts   []*tensor.Tensor // nil entries: zeros (a Split output without gradient)
	blocks  []int            // per part: values per outer index
	whole   []float32
	row     int // whole values per outer index
	toWhole bool
}

func (t *concatTask) Run(lo, hi int) {
	for o := lo; o < hi; o++ {
		w := t.whole[o*t.row : (o+1)*t.row]
		for i, p := range t.parts {
			b := t.blocks[i]
			switch {
			case !t.toWhole:
				if p != nil {
					copy(p.Data[o*b:(o+1)*b], w[:b])
				}
			case p == nil:
				clear(w[:b])
			default:
				copy(w[:b], p.Data[o*b:(o+1)*b])
			}
			w = w[b:]
		}
	}
}

// concatState is what Concat and Split reuse between calls.
type concatState struct {
	ext    []int // per part: its extent along the axis (Concat: from Forward)
	blocks []int
	task   concatTask
}

// copyParts copies parts (of extents ext along axis a) into whole, or
// whole into parts.
func copyParts(st *concatState, whole *tensor.Tensor, parts []*tensor.Tensor, ext []int, a int, toWhole bool) error {
	st.blocks = st.blocks[:0]
	inner := tensor.Numel(whole.Shape[a+1:])
	outer := tensor.Numel(whole.Shape[:a])
	row := 0
	for i, e := range ext {
		b := e * inner
		if p := parts[i]; p != nil && len(p.Data) != outer*b {
			return fmt.Errorf("part %d has shape %s, %d values; the whole %s needs %d", i, tensor.ShapeString(p.Shape), len(p.Data), tensor.ShapeString(whole.Shape), outer*b)
		}
		st.blocks = append(st.blocks, b)
		row += b
	}
	if row*outer != len(whole.Data) {
		return fmt.Errorf("parts of extents %v along axis %d do not fill %s", ext, a, tensor.ShapeString(whole.Shape))
	}
	t := &st.task
	*t = concatTask{parts: parts, blocks: st.blocks, whole: whole.Data, row: row, toWhole: toWhole}
	kernels.Parallel(outer, poolGrain(row), t)
	*t = concatTask{}
	return nil
}

// Forward implements Op.
func (o *Concat) Forward(c *Call, in, out []*tensor.Tensor) error {
	a, err := resolveAxis("Concat", o.Axis, out[0].Shape)
	if err != nil {
		return err
	}
	st := stateOf[concatState](c)
	st.ext = st.ext[:0]
	for i, x := range in {
		if len(x.Shape) != len(out[0].Shape) {
			return fmt.Errorf("Concat: input %d has shape %s, the output %s", i, tensor.ShapeString(x.Shape), tensor.ShapeString(out[0].Shape))
		}
		st.ext = append(st.ext, x.Shape[a])
	}
	if err := copyParts(st, out[0], in, st.ext, a, true); err != nil {
		return fmt.Errorf("Concat: %w", err)
	}
	return nil
}

// Backward implements Op: each din[i] is its part of dy. The parts'
// extents come from Forward (a din[i] that is nil has no shape).
func (o *Concat) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	a, err := resolveAxis("Concat", o.Axis, dout[0].Shape)
	if err != nil {
		return err
	}
	st := stateOf[concatState](c)
	if len(st.ext) != len(din) {
		return fmt.Errorf("Concat: Backward without a Forward of %d inputs before it", len(din))
	}
	if err := copyParts(st, dout[0], din, st.ext, a, false); err != nil {
		return fmt.Errorf("Concat backward: %w", err)
	}
	return nil
}

// Split cuts its input along Axis into several outputs: of extents Sizes,
// or into Parts equal parts (ONNX Split's split input and num_outputs;
// when the axis does not divide evenly the last part is smaller, as ONNX
// opset 18). Exactly one of the two must be set. Backward joins the
// outputs' gradients, zeros where an output has none.
type Split struct {
	noParams
	Axis  int   `json:"axis"`
	Sizes []int `json:"sizes,omitempty"`
	Parts int   `json:"parts,omitempty"`
}

// NewSplit returns a split along axis into parts of the given extents.
func NewSplit(axis int, sizes ...int) *Split { return &Split{Axis: axis, Sizes: slices.Clone(sizes)} }

// NewSplitParts returns a split along axis into parts equal parts.
func NewSplitParts(axis, parts int) *Split { return &Split{Axis: axis, Parts: parts} }

// Kind implements Op.
func (o *Split) Kind() string { return "Split" }

// Saves: nothing.
func (o *Split) Saves() (inputs, outputs bool) { return false, false }

// extents appends the parts' extents along an axis of size d (-1: unknown).
func (o *Split) extents(dst []int, d int) ([]int, error) {
	switch {
	case len(o.Sizes) > 0 && o.Parts != 0:
		return nil, fmt.Errorf("Split: both sizes %v and parts %d are set; give one", o.Sizes, o.Parts)
	case len(o.Sizes) > 0:
		sum := 0
		for _, s := range o.Sizes {
			if s < 1 {
				return nil, fmt.Errorf("Split: sizes %v must be >= 1", o.Sizes)
			}
			sum += s
		}
		if d >= 0 && sum != d {
			return nil, fmt.Errorf("Split: sizes %v add up to %d, the axis has %d", o.Sizes, sum, d)
		}
		return append(dst, o.Sizes...), nil
	case o.Parts < 1:
		return nil, fmt.Errorf("Split: parts %d; give parts >= 1 or sizes", o.Parts)
	case d < 0:
		for range o.Parts {
			dst = append(dst, -1)
		}
		return dst, nil
	}
	chunk := (d + o.Parts - 1) / o.Parts
	if last := d - chunk*(o.Parts-1); last < 1 {
		return nil, fmt.Errorf("Split: an axis of %d cannot be cut into %d parts of %d (the last would be %d)", d, o.Parts, chunk, last)
	}
	for i := range o.Parts {
		dst = append(dst, min(chunk, d-i*chunk))
	}
	return dst, nil
}

// Shapes implements Op.
func (o *Split) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	a, err := resolveAxis("Split", o.Axis, in[0])
	if err != nil {
		return nil, err
	}
	ext, err := o.extents(nil, in[0][a])
	if err != nil {
		return nil, fmt.Errorf("%w (input %s, axis %d)", err, shapeText(in[0]), o.Axis)
	}
	outs := make([][]int, len(ext))
	for i, e := range ext {
		outs[i] = slices.Clone(in[0])
		outs[i][a] = e
	}
	return outs, nil
}

// Forward implements Op.
func (o *Split) Forward(c *Call, in, out []*tensor.Tensor) error {
	return o.run(c, in[0], out, false)
}

// Backward implements Op.
func (o *Split) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	return o.run(c, din[0], dout, true)
}

func (o *Split) run(c *Call, whole *tensor.Tensor, parts []*tensor.Tensor, toWhole bool) error {
	a, err := resolveAxis("Split", o.Axis, whole.Shape)
	if err != nil {
		return err
	}
	st := stateOf[concatState](c)
	if st.ext, err = o.extents(st.ext[:0], whole.Shape[a]); err != nil {
		return err
	}
	if len(st.ext) != len(parts) {
		return fmt.Errorf("Split: %d parts for %d outputs", len(st.ext), len(parts))
	}
	if err := copyParts(st, whole, parts, st.ext, a, toWhole); err != nil {
		return fmt.Errorf("Split: %w", err)
	}
	return nil
}

func init() {
	mustRegister(
		func() Op { return NewConcat(-1) },
		func() Op { return &Split{} },
	)
}
