package nn

import (
	"fmt"
	"slices"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Shape-level ops of imported graphs: Shape (a tensor's dimensions as a
// tensor), Cast, Expand, Tile and Identity. Shape reads only its input's
// shape, so FoldConstants replaces it by a constant wherever that shape
// is fully known: the Shape -> Gather -> Concat -> Reshape chains of
// exported models cost nothing at run time.

func init() {
	mustRegister(
		func() Op { return &Shape{} },
		func() Op { return NewCast("float") },
		func() Op { return &Expand{} },
		func() Op { return &Tile{} },
		func() Op { return NewIdentity() },
	)
}

// shapeOnly is implemented by ops whose output depends on their inputs'
// shapes alone (Shape): FoldConstants folds them when the shapes are
// known.
type shapeOnly interface {
	ShapeOnly() bool
}

// Shape is ONNX Shape: a 1-D tensor of the input's dimensions (as
// float32 values). Perm, when set, reports the dimensions in another
// order, out[i] = shape[Perm[i]] (an importer that stores an NCHW tensor
// as NHWC gives the NCHW order back); Start and End then slice that list
// as ONNX's start and end attributes do (negative from the end, End nil
// for all).
type Shape struct {
	noParams
	Perm  []int `json:"perm,omitempty"`
	Start int   `json:"start,omitempty"`
	End   *int  `json:"end,omitempty"`
}

// NewShape returns a Shape of every dimension in order.
func NewShape() *Shape { return &Shape{} }

// Kind is "Shape".
func (o *Shape) Kind() string { return "Shape" }

// ShapeOnly: the output depends on the input's shape only.
func (o *Shape) ShapeOnly() bool { return true }

// NoGrad: a shape has no gradient.
func (o *Shape) NoGrad(i int) bool { return true }

// Saves: nothing.
func (o *Shape) Saves() (inputs, outputs bool) { return false, false }

// span returns the slice [lo, hi) of the (permuted) dimensions of s
// that the op reports.
func (o *Shape) span(s []int) (lo, hi int, err error) {
	if len(o.Perm) > 0 {
		if len(o.Perm) != len(s) {
			return 0, 0, fmt.Errorf("Shape: perm %v for input %s", o.Perm, shapeText(s))
		}
		for _, p := range o.Perm {
			if p < 0 || p >= len(s) {
				return 0, 0, fmt.Errorf("Shape: perm %v for input %s", o.Perm, shapeText(s))
			}
		}
	}
	r := len(s)
	clamp := func(v int) int {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	lo, hi = clamp(o.Start), r
	if o.End != nil {
		hi = clamp(*o.End)
	}
	return lo, max(hi, lo), nil
}

func (o *Shape) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Shape takes 1 input, got %d", len(in))
	}
	lo, hi, err := o.span(in[0])
	if err != nil {
		return nil, err
	}
	return [][]int{{hi - lo}}, nil
}

func (o *Shape) Forward(c *Call, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	lo, hi, err := o.span(s)
	if err != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		d := s[i]
		if len(o.Perm) > 0 {
			d = s[o.Perm[i]]
		}
		out[0].Data[i-lo] = float32(d)
	}
	return nil
}

// Backward: no gradient (NoGrad).
func (o *Shape) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error { return nil }

// Cast is ONNX Cast to the type To (ONNX's names: "float", "double",
// "float16", "bfloat16", "int8" ... "int64", "uint8" ... "uint64",
// "bool"). Values stay float32: casts to float types round to the type's
// precision, to integer types truncate toward zero, and to bool give 1
// for non-zero. Float casts pass the gradient; integer and bool casts
// have none.
type Cast struct {
	noParams
	To string `json:"to"`
}

// NewCast returns a cast to the type to.
func NewCast(to string) *Cast { return &Cast{To: to} }

// Kind is "Cast".
func (o *Cast) Kind() string { return "Cast" }

// InPlace: the output may be written over the input.
func (o *Cast) InPlace() bool { return true }

// Saves: nothing.
func (o *Cast) Saves() (inputs, outputs bool) { return false, false }

func (o *Cast) floatType() bool {
	switch o.To {
	case "float", "float32", "double", "float64", "float16", "bfloat16":
		return true
	}
	return false
}

// NoGrad: integer and bool casts have no gradient.
func (o *Cast) NoGrad(i int) bool { return !o.floatType() }

func (o *Cast) Shapes(in [][]int) ([][]int, error) {
	switch o.To {
	case "float", "float32", "double", "float64", "float16", "bfloat16", "bool",
		"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
	default:
		return nil, fmt.Errorf("Cast: unknown type %q", o.To)
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("Cast takes 1 input, got %d", len(in))
	}
	return [][]int{slices.Clone(in[0])}, nil
}

func (o *Cast) Forward(c *Call, in, out []*tensor.Tensor) error {
	x, y := in[0].Data, out[0].Data
	switch o.To {
	case "float", "float32", "double", "float64":
		if len(y) > 0 && &y[0] != &x[0] {
			copy(y, x)
		}
	case "float16":
		kernels.Math(kernels.MathFloat16, y, x, 0, 0)
	case "bfloat16":
		kernels.Math(kernels.MathBFloat16, y, x, 0, 0)
	case "bool":
		for i, v := range x {
			if v != 0 {
				y[i] = 1
			} else {
				y[i] = 0
			}
		}
	default:
		kernels.Math(kernels.MathTrunc, y, x, 0, 0)
	}
	return nil
}

// Backward passes the gradient through float casts.
func (o *Cast) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	if !o.floatType() {
		return fmt.Errorf("Cast to %s is not differentiable", o.To)
	}
	copy(din[0].Data, dout[0].Data)
	return nil
}

// Expand is ONNX Expand: the input broadcast with Shape (NumPy's rules
// both ways: an entry of 1 keeps the input's dimension). The gradient is
// summed over the broadcast axes.
type Expand struct {
	noParams
	Shape []int `json:"shape"`
}

// NewExpand returns an Expand to shape.
func NewExpand(shape ...int) *Expand { return &Expand{Shape: slices.Clone(shape)} }

// Kind is "Expand".
func (o *Expand) Kind() string { return "Expand" }

// Saves: nothing.
func (o *Expand) Saves() (inputs, outputs bool) { return false, false }

func (o *Expand) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Expand takes 1 input, got %d", len(in))
	}
	for _, d := range o.Shape {
		if d < 0 {
			return nil, fmt.Errorf("Expand: shape %v has a negative dimension", o.Shape)
		}
	}
	s, err := BroadcastShapes(in[0], o.Shape)
	if err != nil {
		return nil, fmt.Errorf("Expand: %w", err)
	}
	return [][]int{s}, nil
}

type expandState struct {
	b   bcastN
	idx [1]int
}

func (o *Expand) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[expandState](c)
	if err := st.b.plan(out[0].Shape, in[0].Shape); err != nil {
		return fmt.Errorf("Expand: %w", err)
	}
	x, y := in[0].Data, out[0].Data
	st.b.each(st.idx[:], func(i int, ix []int) { y[i] = x[ix[0]] })
	return nil
}

func (o *Expand) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	st := stateOf[expandState](c)
	if err := st.b.plan(dout[0].Shape, din[0].Shape); err != nil {
		return fmt.Errorf("Expand: %w", err)
	}
	dx, g := din[0].Data, dout[0].Data
	clear(dx)
	st.b.each(st.idx[:], func(i int, ix []int) { dx[ix[0]] += g[i] })
	return nil
}

// Tile is ONNX Tile: the input repeated Repeats[i] times along axis i.
// The gradient sums the copies.
type Tile struct {
	noParams
	Repeats []int `json:"repeats"`
}

// NewTile returns a Tile by repeats (one per axis).
func NewTile(repeats ...int) *Tile { return &Tile{Repeats: slices.Clone(repeats)} }

// Kind is "Tile".
func (o *Tile) Kind() string { return "Tile" }

// Saves: nothing.
func (o *Tile) Saves() (inputs, outputs bool) { return false, false }

func (o *Tile) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Tile takes 1 input, got %d", len(in))
	}
	s := in[0]
	if len(o.Repeats) != len(s) {
		return nil, fmt.Errorf("Tile: %d repeats for input %s", len(o.Repeats), shapeText(s))
	}
	out := slices.Clone(s)
	for i, r := range o.Repeats {
		if r < 0 {
			return nil, fmt.Errorf("Tile: repeats %v has a negative entry", o.Repeats)
		}
		if s[i] >= 0 {
			out[i] = s[i] * r
		}
	}
	return [][]int{out}, nil
}

// walk calls f(o, i) for every output value and the input value it
// copies.
func (o *Tile) walk(in, out []int, f func(o, i int)) error {
	r := len(in)
	if r > maxBcastRank {
		return fmt.Errorf("Tile: rank %d, at most %d", r, maxBcastRank)
	}
	n := tensor.Numel(out)
	if n == 0 || r == 0 {
		if n == 1 {
			f(0, 0)
		}
		return nil
	}
	var str, cnt [maxBcastRank]int
	s := 1
	for i := r - 1; i >= 0; i-- {
		str[i] = s
		s *= in[i]
	}
	for p := range n {
		off := 0
		for t := range r {
			off += (cnt[t] % in[t]) * str[t]
		}
		f(p, off)
		for t := r - 1; t >= 0; t-- {
			if cnt[t]++; cnt[t] < out[t] {
				break
			}
			cnt[t] = 0
		}
	}
	return nil
}

func (o *Tile) Forward(c *Call, in, out []*tensor.Tensor) error {
	x, y := in[0].Data, out[0].Data
	return o.walk(in[0].Shape, out[0].Shape, func(p, i int) { y[p] = x[i] })
}

func (o *Tile) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	dx, g := din[0].Data, dout[0].Data
	clear(dx)
	return o.walk(din[0].Shape, dout[0].Shape, func(p, i int) { dx[i] += g[p] })
}

// Identity passes its input on unchanged (ONNX Identity, an inference
// Dropout); the output is a view (Aliaser).
type Identity struct{ noParams }

// NewIdentity returns an Identity.
func NewIdentity() *Identity { return &Identity{} }

// Kind is "Identity".
func (o *Identity) Kind() string { return "Identity" }

// Alias implements Aliaser.
func (o *Identity) Alias() bool { return true }

func (o *Identity) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Identity takes 1 input, got %d", len(in))
	}
	return [][]int{slices.Clone(in[0])}, nil
}

// Forward copies (only outside a Session, which makes the output a view).
func (o *Identity) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, in[0].Data)
	return nil
}

func (o *Identity) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] != nil {
		copy(din[0].Data, dout[0].Data)
	}
	return nil
}
