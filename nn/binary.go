package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Element-wise binary ops with NumPy broadcasting (as ONNX, PyTorch and
// TensorFlow): shapes are aligned at the last axis, and a dimension of 1
// (or a missing leading one) stretches to the other's size. Backward sums
// each input's gradient over the axes it was stretched along.

// binary is the shared part of Add, Sub, Mul and Div.
type binary struct{ noParams }

func (binary) InPlace() bool { return true }

func (binary) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("takes 2 inputs, got %d", len(in))
	}
	s, err := BroadcastShapes(in[0], in[1])
	if err != nil {
		return nil, err
	}
	return [][]int{s}, nil
}

// BroadcastShapes returns the shape two shapes broadcast to, or an error
// naming both. -1 (unknown until run time) broadcasts with 1 and matches
// any size.
func BroadcastShapes(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da == -1:
			out[i] = db
		case db == -1:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast (axis %d: %d vs %d)", shapeText(a), shapeText(b), i, da, db)
		}
	}
	return out, nil
}

// bcast describes how two inputs map onto the output: the output shape
// with adjacent axes merged where both inputs agree on being stretched or
// not, and each input's stride per merged axis (0 where stretched).
type bcast struct {
	dims   [8]int
	sa, sb [8]int
	rank   int
	same   bool // no broadcasting at all
	n      int  // output values
}

// makeBcast merges the axes of out for inputs of shapes a and b. Ranks
// beyond 8 after merging are refused.
func makeBcast(a, b, out []int) (bcast, error) {
	var bc bcast
	bc.n = tensor.Numel(out)
	if tensor.EqualShape(a, out) && tensor.EqualShape(b, out) {
		bc.same = true
		return bc, nil
	}
	r := len(out)
	dim := func(s []int, i int) int {
		if j := len(s) - r + i; j >= 0 {
			return s[j]
		}
		return 1
	}
	// Walk from the last axis, merging runs with the same stretch pattern.
	type axis struct{ d, ka, kb int } // ka, kb: 1 when the input spans the axis
	var store [16]axis
	axes := store[:0]
	for i := r - 1; i >= 0; i-- {
		d := out[i]
		if d == 1 {
			continue
		}
		ka, kb := 0, 0
		if dim(a, i) == d {
			ka = 1
		}
		if dim(b, i) == d {
			kb = 1
		}
		if k := len(axes) - 1; k >= 0 && axes[k].ka == ka && axes[k].kb == kb {
			axes[k].d *= d
			continue
		}
		if len(axes) == len(store) {
			return bc, fmt.Errorf("broadcasting %s with %s: too many axes", tensor.ShapeString(a), tensor.ShapeString(b))
		}
		axes = append(axes, axis{d, ka, kb})
	}
	if len(axes) > len(bc.dims) {
		return bc, fmt.Errorf("broadcasting %s with %s needs %d merged axes, at most %d are supported", tensor.ShapeString(a), tensor.ShapeString(b), len(axes), len(bc.dims))
	}
	bc.rank = len(axes)
	strA, strB := 1, 1
	for k, ax := range axes { // axes[0] is the innermost
		bc.dims[k] = ax.d
		if ax.ka == 1 {
			bc.sa[k] = strA
			strA *= ax.d
		}
		if ax.kb == 1 {
			bc.sb[k] = strB
			strB *= ax.d
		}
	}
	return bc, nil
}

// each calls f(o, ia, ib, n, sa, sb) for runs of n output values starting
// at o, reading a from ia with stride sa and b from ib with stride sb
// (strides 0 or 1).
func (bc *bcast) each(f func(o, ia, ib, n, sa, sb int)) {
	if bc.same {
		f(0, 0, 0, bc.n, 1, 1)
		return
	}
	if bc.rank == 0 { // all ones
		f(0, 0, 0, bc.n, 0, 0)
		return
	}
	inner, sa0, sb0 := bc.dims[0], bc.sa[0], bc.sb[0]
	var idx [8]int
	ia, ib := 0, 0
	for o := 0; o < bc.n; o += inner {
		f(o, ia, ib, inner, sa0, sb0)
		for k := 1; k < bc.rank; k++ { // advance the outer counters
			idx[k]++
			ia += bc.sa[k]
			ib += bc.sb[k]
			if idx[k] < bc.dims[k] {
				break
			}
			ia -= bc.sa[k] * bc.dims[k]
			ib -= bc.sb[k] * bc.dims[k]
			idx[k] = 0
		}
	}
}

// binState keeps what the broadcasting ops reuse between calls.
type binState struct {
	bc      bcast
	a, b, o []int
}

// binStates: Forward's and Backward's plans (Backward may see other shapes
// for inputs it has no gradient for).
type binStates struct {
	fwd, bwd binState
	scale    chanScaleTask // Mul on channel scales
}

func (st *binState) plan(a, b, o []int) (*bcast, error) {
	if tensor.EqualShape(st.a, a) && tensor.EqualShape(st.b, b) && tensor.EqualShape(st.o, o) && st.o != nil {
		return &st.bc, nil
	}
	bc, err := makeBcast(a, b, o)
	if err != nil {
		return nil, err
	}
	st.bc = bc
	st.a, st.b, st.o = append(st.a[:0], a...), append(st.b[:0], b...), append(st.o[:0], o...)
	return &st.bc, nil
}

// Add is a + b.
type Add struct{ binary }

// NewAdd returns an Add op.
func NewAdd() *Add { return &Add{} }

func (*Add) Kind() string { return "Add" }

func (*Add) Saves() (inputs, outputs bool) { return false, false }

func (*Add) Forward(c *Call, in, out []*tensor.Tensor) error {
	bc, err := stateOf[binStates](c).fwd.plan(in[0].Shape, in[1].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	a, b, y := in[0].Data, in[1].Data, out[0].Data
	if bc.same {
		if len(y) > 0 && &y[0] != &a[0] {
			copy(y, a)
		}
		kernels.Add(y, b)
		return nil
	}
	bc.each(func(o, ia, ib, n, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			for i := range n {
				y[o+i] = a[ia+i] + b[ib+i]
			}
		case sa == 1:
			v := b[ib]
			for i := range n {
				y[o+i] = a[ia+i] + v
			}
		case sb == 1:
			v := a[ia]
			for i := range n {
				y[o+i] = v + b[ib+i]
			}
		default:
			v := a[ia] + b[ib]
			for i := range n {
				y[o+i] = v
			}
		}
	})
	return nil
}

func (*Add) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return reduceGrads(c, dout[0], din, out[0], 1, 1)
}

// Sub is a - b.
type Sub struct{ binary }

// NewSub returns a Sub op.
func NewSub() *Sub { return &Sub{} }

func (*Sub) Kind() string { return "Sub" }

func (*Sub) Saves() (inputs, outputs bool) { return false, false }

func (*Sub) Forward(c *Call, in, out []*tensor.Tensor) error {
	return binaryForward(c, in, out, func(x, y float32) float32 { return x - y })
}

func (*Sub) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return reduceGrads(c, dout[0], din, out[0], 1, -1)
}

// Mul is a * b.
type Mul struct{ binary }

// NewMul returns a Mul op.
func NewMul() *Mul { return &Mul{} }

func (*Mul) Kind() string { return "Mul" }

func (*Mul) Saves() (inputs, outputs bool) { return true, false }

// Forward multiplies runs of values with the SIMD channel-scale kernel
// rather than binaryForward's call per value: CenterNet's gates and
// squeeze-excite scales took 40 of its 200 ms that way.
func (*Mul) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[binStates](c)
	if x, s, ok := chanScaled(in[0].Shape, in[1].Shape); ok && tensor.EqualShape(out[0].Shape, in[x].Shape) {
		// A feature map times per-image channel scales (a squeeze-excite
		// block): one pass per image over whole rows of pixels, split
		// over the cores, instead of a call per pixel.
		t := &st.scale
		xs := in[x].Shape
		*t = chanScaleTask{x: in[x].Data, s: in[s].Data, y: out[0].Data, c: xs[len(xs)-1], n: xs[0]}
		t.px = len(t.x) / max(1, t.n*t.c)
		kernels.Parallel(t.n*t.px, max(1, ewGrain/max(1, t.c)), t)
		*t = chanScaleTask{}
		return nil
	}
	bc, err := st.fwd.plan(in[0].Shape, in[1].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	a, b, y := in[0].Data, in[1].Data, out[0].Data
	bc.each(func(o, ia, ib, n, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			kernels.ChanScale(y[o:o+n], a[ia:ia+n], b[ib:ib+n])
		case sa == 1:
			v := b[ib]
			for i, x := range a[ia : ia+n] {
				y[o+i] = x * v
			}
		case sb == 1:
			v := a[ia]
			for i, x := range b[ib : ib+n] {
				y[o+i] = v * x
			}
		default:
			v := a[ia] * b[ib]
			for i := range n {
				y[o+i] = v
			}
		}
	})
	return nil
}

// Backward: da = dy * b, db = dy * a, each summed over its stretched axes.
func (*Mul) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return productGrads(c, in, dout[0], din, false)
}

// Div is a / b.
type Div struct{ binary }

// NewDiv returns a Div op.
func NewDiv() *Div { return &Div{} }

func (*Div) Kind() string { return "Div" }

func (*Div) Saves() (inputs, outputs bool) { return true, false }

func (*Div) Forward(c *Call, in, out []*tensor.Tensor) error {
	return binaryForward(c, in, out, func(x, y float32) float32 { return x / y })
}

// Backward: da = dy / b, db = -dy * a / b^2.
func (*Div) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return productGrads(c, in, dout[0], din, true)
}

// binaryForward computes y = f(a, b) with broadcasting.
func binaryForward(c *Call, in, out []*tensor.Tensor, f func(x, y float32) float32) error {
	bc, err := stateOf[binStates](c).fwd.plan(in[0].Shape, in[1].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	a, b, y := in[0].Data, in[1].Data, out[0].Data
	bc.each(func(o, ia, ib, n, sa, sb int) {
		for i := range n {
			y[o+i] = f(a[ia+i*sa], b[ib+i*sb])
		}
	})
	return nil
}

// reduceGrads writes din[0] = ka * dy and din[1] = kb * dy, each summed
// over the axes its input was stretched along.
func reduceGrads(c *Call, dy *tensor.Tensor, din []*tensor.Tensor, out *tensor.Tensor, ka, kb float32) error {
	if din[0] == nil && din[1] == nil {
		return nil
	}
	as, bs := dy.Shape, dy.Shape
	if din[0] != nil {
		as = din[0].Shape
	}
	if din[1] != nil {
		bs = din[1].Shape
	}
	bc, err := stateOf[binStates](c).bwd.plan(as, bs, dy.Shape)
	if err != nil {
		return err
	}
	g := dy.Data
	if bc.same {
		for k, d := range din {
			if d == nil {
				continue
			}
			s := ka
			if k == 1 {
				s = kb
			}
			copy(d.Data, g)
			if s != 1 {
				kernels.Scal(s, d.Data)
			}
		}
		return nil
	}
	for _, d := range din {
		if d != nil {
			clear(d.Data)
		}
	}
	bc.each(func(o, ia, ib, n, sa, sb int) {
		if d := din[0]; d != nil {
			accumulate(d.Data, g[o:o+n], ia, sa, ka)
		}
		if d := din[1]; d != nil {
			accumulate(d.Data, g[o:o+n], ib, sb, kb)
		}
	})
	return nil
}

// accumulate adds k*g into dst starting at i with stride s (0: summed into
// one value).
func accumulate(dst, g []float32, i, s int, k float32) {
	if s == 1 {
		d := dst[i : i+len(g)]
		for j, v := range g {
			d[j] += k * v
		}
		return
	}
	var sum float32
	for _, v := range g {
		sum += v
	}
	dst[i] += k * sum
}

// productGrads is the Backward of Mul (div false) and Div (div true).
func productGrads(c *Call, in []*tensor.Tensor, dy *tensor.Tensor, din []*tensor.Tensor, div bool) error {
	if din[0] == nil && din[1] == nil {
		return nil
	}
	bc, err := stateOf[binStates](c).bwd.plan(in[0].Shape, in[1].Shape, dy.Shape)
	if err != nil {
		return err
	}
	for _, d := range din {
		if d != nil {
			clear(d.Data)
		}
	}
	a, b, g := in[0].Data, in[1].Data, dy.Data
	bc.each(func(o, ia, ib, n, sa, sb int) {
		for i := range n {
			x, y, gy := a[ia+i*sa], b[ib+i*sb], g[o+i]
			if div {
				if d := din[0]; d != nil {
					d.Data[ia+i*sa] += gy / y
				}
				if d := din[1]; d != nil {
					d.Data[ib+i*sb] -= gy * x / (y * y)
				}
				continue
			}
			if d := din[0]; d != nil {
				d.Data[ia+i*sa] += gy * y
			}
			if d := din[1]; d != nil {
				d.Data[ib+i*sb] += gy * x
			}
		}
	})
	return nil
}

// chanScaled reports whether one of two shapes is a feature map (N, ...,
// C) and the other its per-image channel scales (N, 1, ..., 1, C) of the
// same rank (or (1, ..., C) for a batch of one), and which is which.
func chanScaled(a, b []int) (x, s int, ok bool) {
	match := func(m, v []int) bool {
		if len(m) < 3 || len(v) != len(m) || v[0] != m[0] || v[len(v)-1] != m[len(m)-1] || m[len(m)-1] < 1 {
			return false
		}
		for _, d := range v[1 : len(v)-1] {
			if d != 1 {
				return false
			}
		}
		return true
	}
	switch {
	case match(a, b) && !match(b, a):
		return 0, 1, true
	case match(b, a) && !match(a, b):
		return 1, 0, true
	}
	return 0, 0, false
}

// chanScaleTask is Mul's channel-scale pass over pixels [lo, hi) of the
// batch (n images of px pixels of c channels).
type chanScaleTask struct {
	x, s, y  []float32
	c, n, px int
}

func (t *chanScaleTask) Run(lo, hi int) {
	for lo < hi {
		b := lo / t.px
		e := min(hi, (b+1)*t.px) // within image b
		kernels.ChanScale(t.y[lo*t.c:e*t.c], t.x[lo*t.c:e*t.c], t.s[b*t.c:(b+1)*t.c])
		lo = e
	}
}
