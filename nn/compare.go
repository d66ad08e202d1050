package nn

import (
	"fmt"
	"slices"

	"github.com/dlcv-go/dlcv/tensor"
)

// Comparisons and selection: Compare gives booleans as 0 and 1 (dlcv's
// tensors are float32; a boolean is 1 where true), with NumPy
// broadcasting and no gradient; Where picks from two inputs by a
// condition, broadcasting all three.

var compareFuncs = map[string]func(x, y float32) bool{
	"Equal":          func(x, y float32) bool { return x == y },
	"Less":           func(x, y float32) bool { return x < y },
	"LessOrEqual":    func(x, y float32) bool { return x <= y },
	"Greater":        func(x, y float32) bool { return x > y },
	"GreaterOrEqual": func(x, y float32) bool { return x >= y },
	"And":            func(x, y float32) bool { return x != 0 && y != 0 },
	"Or":             func(x, y float32) bool { return x != 0 || y != 0 },
	"Xor":            func(x, y float32) bool { return (x != 0) != (y != 0) },
}

// CompareFuncs lists Compare's functions, sorted.
func CompareFuncs() []string {
	fs := make([]string, 0, len(compareFuncs))
	for f := range compareFuncs {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}

func init() {
	for _, fn := range CompareFuncs() {
		mustRegister(func() Op { return &Compare{Func: fn} })
	}
	mustRegister(func() Op { return NewWhere() })
}

// Compare is an element-wise comparison or logical operator, named as
// ONNX's: Equal, Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor
// (logical operators treat non-zero as true). The result is 1 where true
// and 0 elsewhere. Kind is Func. The inputs have no gradient.
type Compare struct {
	binary
	Func string `json:"func"`
}

// NewCompare returns the comparison fn (an ONNX name).
func NewCompare(fn string) *Compare { return &Compare{Func: fn} }

// Kind is Func.
func (o *Compare) Kind() string { return o.Func }

// NoGrad: a comparison passes no gradient.
func (o *Compare) NoGrad(i int) bool { return true }

// Saves: nothing.
func (o *Compare) Saves() (inputs, outputs bool) { return false, false }

func (o *Compare) Shapes(in [][]int) ([][]int, error) {
	if compareFuncs[o.Func] == nil {
		return nil, fmt.Errorf("Compare: unknown function %q (want one of %v)", o.Func, CompareFuncs())
	}
	return o.binary.Shapes(in)
}

func (o *Compare) Forward(c *Call, in, out []*tensor.Tensor) error {
	f := compareFuncs[o.Func]
	if f == nil {
		return fmt.Errorf("Compare: unknown function %q", o.Func)
	}
	if a, b := in[0], in[1]; o.Func == "Equal" && tensor.EqualShape(a.Shape, b.Shape) {
		// CenterNet's peak test, scores == maxpool(scores) over 1.3M
		// values: two calls a value took 7.6 of its ~110 ms, this loop
		// 2.1.
		y := out[0].Data[:len(a.Data)]
		b := b.Data[:len(a.Data)]
		for i, v := range a.Data {
			y[i] = 0
			if v == b[i] {
				y[i] = 1
			}
		}
		return nil
	}
	return binaryForward(c, in, out, func(x, y float32) float32 {
		if f(x, y) {
			return 1
		}
		return 0
	})
}

// Backward: no input has a gradient (NoGrad).
func (o *Compare) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error { return nil }

// Where is ONNX Where: y = x where cond is non-zero, else other, with the
// three inputs (cond, x, other) broadcast together. The gradient flows to
// x where cond holds and to other elsewhere; cond has none.
type Where struct{ noParams }

// NewWhere returns a Where.
func NewWhere() *Where { return &Where{} }

// Kind is "Where".
func (o *Where) Kind() string { return "Where" }

// NoGrad: the condition has no gradient.
func (o *Where) NoGrad(i int) bool { return i == 0 }

// Saves: the inputs (Backward reads the condition).
func (o *Where) Saves() (inputs, outputs bool) { return true, false }

func (o *Where) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("Where takes 3 inputs (condition, x, y), got %d", len(in))
	}
	s, err := BroadcastShapes(in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("Where: %w", err)
	}
	s, err = BroadcastShapes(s, in[2])
	if err != nil {
		return nil, fmt.Errorf("Where: %w", err)
	}
	return [][]int{s}, nil
}

// maxBcastRank bounds the rank of the n-input broadcasts (Where, Expand).
const maxBcastRank = 16

// bcastN walks an output shape with the strides of inputs broadcast onto
// it: each input's stride is 0 along the axes it is stretched over.
type bcastN struct {
	out     []int
	strides [][maxBcastRank]int
	n       int
}

// plan sets up the walk of out for inputs of shapes ins.
func (b *bcastN) plan(out []int, ins ...[]int) error {
	r := len(out)
	if r > maxBcastRank {
		return fmt.Errorf("broadcasting to rank %d: at most %d axes", r, maxBcastRank)
	}
	b.out = append(b.out[:0], out...)
	b.n = tensor.Numel(out)
	b.strides = b.strides[:0]
	for _, s := range ins {
		var st [maxBcastRank]int
		stride := 1
		for i := r - 1; i >= 0; i-- {
			j := len(s) - r + i
			d := 1
			if j >= 0 {
				d = s[j]
			}
			switch {
			case d == out[i]:
				if d != 1 {
					st[i] = stride
				}
			case d == 1:
			default:
				return fmt.Errorf("shape %s does not broadcast to %s", shapeText(s), shapeText(out))
			}
			stride *= d
		}
		b.strides = append(b.strides, st)
	}
	return nil
}

// each calls f with the flat output index and each input's index, in
// order, for every output value.
func (b *bcastN) each(idx []int, f func(o int, ix []int)) {
	r := len(b.out)
	if b.n == 0 {
		return
	}
	var cnt [maxBcastRank]int
	for k := range idx {
		idx[k] = 0
	}
	for o := 0; o < b.n; o++ {
		f(o, idx)
		for i := r - 1; i >= 0; i-- {
			cnt[i]++
			for k := range idx {
				idx[k] += b.strides[k][i]
			}
			if cnt[i] < b.out[i] {
				break
			}
			for k := range idx {
				idx[k] -= b.strides[k][i] * b.out[i]
			}
			cnt[i] = 0
		}
	}
}

type whereState struct {
	b   bcastN
	idx [3]int
}

func (o *Where) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[whereState](c)
	if err := st.b.plan(out[0].Shape, in[0].Shape, in[1].Shape, in[2].Shape); err != nil {
		return fmt.Errorf("Where: %w", err)
	}
	cond, x, y, z := in[0].Data, in[1].Data, in[2].Data, out[0].Data
	st.b.each(st.idx[:], func(i int, ix []int) {
		if cond[ix[0]] != 0 {
			z[i] = x[ix[1]]
		} else {
			z[i] = y[ix[2]]
		}
	})
	return nil
}

func (o *Where) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[1] == nil && din[2] == nil {
		return nil
	}
	st := stateOf[whereState](c)
	if err := st.b.plan(dout[0].Shape, in[0].Shape, in[1].Shape, in[2].Shape); err != nil {
		return fmt.Errorf("Where: %w", err)
	}
	for _, d := range din[1:] {
		if d != nil {
			clear(d.Data)
		}
	}
	cond, g := in[0].Data, dout[0].Data
	dx, dy := din[1], din[2]
	st.b.each(st.idx[:], func(i int, ix []int) {
		if cond[ix[0]] != 0 {
			if dx != nil {
				dx.Data[ix[1]] += g[i]
			}
		} else if dy != nil {
			dy.Data[ix[2]] += g[i]
		}
	})
	return nil
}
