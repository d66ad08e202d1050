package onnx

import (
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Matrix products, reductions, softmax, arg-extremes and resizing.

func init() {
	register(1, matmulOp, "MatMul")
	register(1, gemmOp, "Gemm")
	register(1, reduceOp, "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2",
		"ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
	register(1, softmaxOp, "Softmax", "LogSoftmax")
	register(1, argOp, "ArgMax", "ArgMin")
	register(1, topKOp, "TopK")
	register(10, resizeOp, "Resize")
	register(7, resizeOp, "Upsample")
}

// denseVal is x times a constant matrix w (k, n) over x's last ONNX axis,
// plus an optional bias (n): nn.Dense, in x's layout when its last ONNX
// axis is stored last (Dense works on the stored last axis). A value with
// permuted columns (feat) gets w's rows permuted instead.
func (c *converter) denseVal(x *tval, w *tensor.Tensor, bias *tensor.Tensor) (*tval, error) {
	k, n := w.Shape[0], w.Shape[1]
	if x.feat != nil {
		if len(x.feat) != k {
			return nil, c.errf("input has %d features, the weights %d rows", len(x.feat), k)
		}
		pw := tensor.New(k, n)
		for i, src := range x.feat {
			copy(pw.Data[i*n:(i+1)*n], w.Data[src*n:(src+1)*n])
		}
		w = pw
	}
	r := x.rank()
	p := x.getPerm()
	if x.feat == nil && p[len(p)-1] != r-1 {
		p = identity(r)
	}
	in := x.ref
	if x.feat == nil {
		var err error
		if in, err = c.ref(x, p); err != nil {
			return nil, err
		}
	}
	shape := slices.Clone(c.shapes[in])
	if shape[len(shape)-1] >= 0 && shape[len(shape)-1] != k {
		return nil, c.errf("input %s has %d features, the weights %s want %d", shapeText(x.onnxShape()), shape[len(shape)-1], shapeText(w.Shape), k)
	}
	shape[len(shape)-1] = k
	op := &nn.Dense{Units: n, UseBias: bias != nil, Initializer: nn.Zeros}
	if err := c.withWeights(op, [][]int{shape}, w, bias); err != nil {
		return nil, err
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return nil, err
	}
	out := c.value(ref, oshape, p, x.dtype)
	m := identity(r)
	m[r-1] = -1
	keepDims(out, x, m)
	return out, nil
}

// matrix returns a constant as a (rows, cols) tensor, transposed when t.
func matrix(d *Data, t bool) *tensor.Tensor {
	m := d.Tensor()
	if t {
		return transposeTensor(m, []int{1, 0})
	}
	return m
}

func matmulOp(c *converter) error {
	a, err := c.need(0)
	if err != nil {
		return err
	}
	b, err := c.need(1)
	if err != nil {
		return err
	}
	if b.konst != nil && len(b.konst.Shape) == 2 && a.ref != "" && a.rank() >= 2 {
		out, err := c.denseVal(a, matrix(b.konst, false), nil)
		if err != nil {
			return err
		}
		c.setOut(0, out)
		return nil
	}
	// A general product in ONNX order; a stored transpose of the last two
	// axes becomes the op's transpose flag.
	op := nn.NewMatMul()
	refs := make([]string, 2)
	for i, v := range []*tval{a, b} {
		if err := c.plain(v); err != nil {
			return err
		}
		r := v.rank()
		p := identity(r)
		if q := v.getPerm(); r >= 2 && v.ref != "" {
			sw := identity(r)
			sw[r-1], sw[r-2] = r-2, r-1
			if slices.Equal(q, sw) {
				p = sw
				if i == 0 {
					op.TransA = true
				} else {
					op.TransB = true
				}
			}
		}
		if refs[i], err = c.ref(v, p); err != nil {
			return err
		}
	}
	ref, shape, err := c.emit1("", op, refs...)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, nil, a.dtype)
	c.setOut(0, out)
	return nil
}

func gemmOp(c *converter) error {
	a, err := c.need(0)
	if err != nil {
		return err
	}
	b, err := c.need(1)
	if err != nil {
		return err
	}
	cv, err := c.in(2)
	if err != nil {
		return err
	}
	alpha, err := c.attrFloat("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := c.attrFloat("beta", 1)
	if err != nil {
		return err
	}
	ta, err := c.attrInt("transA", 0)
	if err != nil {
		return err
	}
	tb, err := c.attrInt("transB", 0)
	if err != nil {
		return err
	}
	if a.rank() != 2 || b.rank() != 2 {
		return c.errf("A %s and B %s must be matrices", shapeText(a.onnxShape()), shapeText(b.onnxShape()))
	}
	// Constant weights and a bias of one value per output column (or
	// none): a Dense layer, which batch norms and activations fuse into.
	if b.konst != nil && ta == 0 && a.ref != "" && (cv == nil || cv.konst != nil) {
		w := matrix(b.konst, tb != 0)
		n := w.Shape[1]
		var bias *tensor.Tensor
		ok := true
		if cv != nil && beta != 0 {
			d := cv.konst
			switch {
			case len(d.Float) == 1:
				bias = tensor.New(n)
				bias.Fill(d.Float[0] * beta)
			case len(d.Float) == n && (len(d.Shape) == 1 || (len(d.Shape) == 2 && d.Shape[0] == 1)):
				bias = tensor.New(n)
				for i, v := range d.Float {
					bias.Data[i] = v * beta
				}
			default:
				ok = false
			}
		}
		if ok {
			if alpha != 1 {
				w = w.Clone()
				for i := range w.Data {
					w.Data[i] *= alpha
				}
			}
			out, err := c.denseVal(a, w, bias)
			if err != nil {
				return err
			}
			c.setOut(0, out)
			return nil
		}
	}
	op := &nn.Gemm{Alpha: alpha, Beta: beta, TransA: ta != 0, TransB: tb != 0}
	var refs []string
	for _, v := range []*tval{a, b, cv} {
		if v == nil {
			continue
		}
		ref, err := c.ref(v, identity(v.rank()))
		if err != nil {
			return err
		}
		refs = append(refs, ref)
	}
	ref, shape, err := c.emit1("", op, refs...)
	if err != nil {
		return err
	}
	c.setOut(0, c.value(ref, shape, nil, a.dtype))
	return nil
}

func reduceOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	keep, err := c.attrInt("keepdims", 1)
	if err != nil {
		return err
	}
	op := c.node.OpType
	since := int64(18)
	if op == "ReduceSum" {
		since = 13
	}
	axes, ok, err := c.intsAttrOrInput("axes", 1, since)
	if err != nil {
		return err
	}
	r := x.rank()
	var ax []int
	if !ok || len(axes) == 0 {
		if noop, _ := c.attrInt("noop_with_empty_axes", 0); noop != 0 && ok || (noop != 0 && !ok && c.opset >= since) {
			return c.alias(x, x.dtype)
		}
		ax = identity(r)
	} else {
		for _, a := range axes {
			k, err := c.normAxis(a, r)
			if err != nil {
				return err
			}
			if slices.Contains(ax, k) {
				return c.errf("axis %d is listed twice", a)
			}
			ax = append(ax, k)
		}
	}
	kp := keep != 0
	var y *tval
	switch op {
	case "ReduceMean", "ReduceSum", "ReduceMax":
		y, err = c.reduceVal(op, x, ax, kp)
	case "ReduceMin":
		var n *tval
		if n, err = c.unaryVal("neg", nn.NewUnaryMath("Neg"), x); err == nil {
			if y, err = c.reduceVal("ReduceMax", n, ax, kp); err == nil {
				y, err = c.unaryVal("neg_back", nn.NewUnaryMath("Neg"), y)
			}
		}
	case "ReduceL1":
		var t *tval
		if t, err = c.unaryVal("abs", nn.NewUnaryMath("Abs"), x); err == nil {
			y, err = c.reduceVal("ReduceSum", t, ax, kp)
		}
	case "ReduceL2", "ReduceSumSquare":
		var t *tval
		if t, err = c.binary("Mul", x, x); err == nil {
			if y, err = c.reduceVal("ReduceSum", t, ax, kp); err == nil && op == "ReduceL2" {
				y, err = c.unaryVal("sqrt", nn.NewUnaryMath("Sqrt"), y)
			}
		}
	case "ReduceLogSum":
		if y, err = c.reduceVal("ReduceSum", x, ax, kp); err == nil {
			y, err = c.unaryVal("log", nn.NewUnaryMath("Log"), y)
		}
	case "ReduceLogSumExp":
		// max + log(sum(exp(x - max))), stable for large values.
		var m, d, e *tval
		if m, err = c.reduceVal("ReduceMax", x, ax, true); err != nil {
			return err
		}
		if d, err = c.binary("Sub", x, m); err != nil {
			return err
		}
		if e, err = c.unaryVal("exp", nn.NewUnaryMath("Exp"), d); err != nil {
			return err
		}
		if y, err = c.reduceVal("ReduceSum", e, ax, kp); err != nil {
			return err
		}
		if y, err = c.unaryVal("log", nn.NewUnaryMath("Log"), y); err != nil {
			return err
		}
		if !kp {
			if m, err = c.reduceVal("ReduceMax", x, ax, false); err != nil {
				return err
			}
		}
		y, err = c.binary("Add", y, m)
	}
	if err != nil {
		return err
	}
	c.setOut(0, y)
	return nil
}

// softmaxVal is the (log-)softmax of x over ONNX axis a.
func (c *converter) softmaxVal(x *tval, a int, log bool) (*tval, error) {
	if err := c.plain(x); err != nil {
		return nil, err
	}
	r := x.rank()
	p := x.getPerm()
	if invert(p)[a] == 0 {
		// nn.Softmax works after the batch axis: store the axis last.
		q := []int{}
		for _, b := range p {
			if b != a {
				q = append(q, b)
			}
		}
		p = append(q, a)
	}
	in, err := c.ref(x, p)
	if err != nil {
		return nil, err
	}
	da := invert(p)[a]
	xv := c.value(in, c.shapes[in], p, x.dtype)
	sameDims(xv, x)
	if !log {
		ref, shape, err := c.emit1("", &nn.Softmax{Axis: da - r}, in)
		if err != nil {
			return nil, err
		}
		out := c.value(ref, shape, p, x.dtype)
		sameDims(out, x)
		return out, nil
	}
	// x - max - log(sum(exp(x - max))).
	m, err := c.reduceVal("ReduceMax", xv, []int{a}, true)
	if err != nil {
		return nil, err
	}
	d, err := c.binary("Sub", xv, m)
	if err != nil {
		return nil, err
	}
	e, err := c.unaryVal("exp", nn.NewUnaryMath("Exp"), d)
	if err != nil {
		return nil, err
	}
	s, err := c.reduceVal("ReduceSum", e, []int{a}, true)
	if err != nil {
		return nil, err
	}
	l, err := c.unaryVal("log", nn.NewUnaryMath("Log"), s)
	if err != nil {
		return nil, err
	}
	return c.binary("Sub", d, l)
}

func softmaxOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	r := x.rank()
	def := int64(-1)
	if c.opset < 13 {
		def = 1
	}
	axis, err := c.attrInt("axis", def)
	if err != nil {
		return err
	}
	if r == 0 {
		return c.errf("input is a scalar")
	}
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	log := c.node.OpType == "LogSoftmax"
	if c.opset >= 13 || a == r-1 {
		y, err := c.softmaxVal(x, a, log)
		if err != nil {
			return err
		}
		c.setOut(0, y)
		return nil
	}
	// Before opset 13: over the axes from axis on, flattened.
	ds := make([]rdim, r)
	for i := range ds {
		ds[i] = x.onnxDim(i)
	}
	flat, err := c.reshapeVal(x, []rdim{product(ds[:a]), product(ds[a:])})
	if err != nil {
		return err
	}
	y, err := c.softmaxVal(flat, 1, log)
	if err != nil {
		return err
	}
	if y, err = c.reshapeVal(y, ds); err != nil {
		return err
	}
	c.setOut(0, y)
	return nil
}

func argOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	axis, err := c.attrInt("axis", 0)
	if err != nil {
		return err
	}
	keep, err := c.attrInt("keepdims", 1)
	if err != nil {
		return err
	}
	last, err := c.attrInt("select_last_index", 0)
	if err != nil {
		return err
	}
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	p := x.getPerm()
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	da := invert(p)[a]
	var op nn.Op
	if c.node.OpType == "ArgMax" {
		o := nn.NewArgMax(da, keep != 0)
		o.SelectLastIndex = last != 0
		op = o
	} else {
		o := nn.NewArgMin(da, keep != 0)
		o.SelectLastIndex = last != 0
		op = o
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	np := p
	m := identity(r)
	m[a] = -1
	if keep == 0 {
		np = nil
		for _, b := range p {
			if b < a {
				np = append(np, b)
			} else if b > a {
				np = append(np, b-1)
			}
		}
		m = slices.Delete(identity(r), a, a+1)
	}
	out := c.value(ref, shape, np, TypeInt64)
	keepDims(out, x, m)
	c.setOut(0, out)
	return nil
}

func topKOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	var k int64
	if c.opset < 10 {
		if k, err = c.attrInt("k", -1); err != nil {
			return err
		}
	} else {
		ks, err := c.intsIn(1, "K")
		if err != nil {
			return err
		}
		if len(ks) != 1 {
			return c.errf("K has %d values", len(ks))
		}
		k = ks[0]
	}
	axis, err := c.attrInt("axis", -1)
	if err != nil {
		return err
	}
	largest, err := c.attrInt("largest", 1)
	if err != nil {
		return err
	}
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	p := x.getPerm()
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	op := nn.NewTopK(clampInt(k), invert(p)[a], largest != 0)
	refs, shapes, err := c.emit("", op, in)
	if err != nil {
		return err
	}
	for i, dt := range []int32{x.dtype, TypeInt64} {
		out := c.value(refs[i], shapes[i], p, dt)
		m := identity(r)
		m[a] = -1
		keepDims(out, x, m)
		c.setOut(i, out)
	}
	return nil
}

func resizeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if x.rank() != 4 {
		return c.errf("input of rank %d: only 4-D (N, C, H, W) resizes are supported", x.rank())
	}
	mode, err := c.attrString("mode", "nearest")
	if err != nil {
		return err
	}
	coord, err := c.attrString("coordinate_transformation_mode", "half_pixel")
	if err != nil {
		return err
	}
	nearest, err := c.attrString("nearest_mode", "round_prefer_floor")
	if err != nil {
		return err
	}
	upsample := c.node.OpType == "Upsample" || c.opset < 11
	if upsample {
		// Upsample and Resize-10: asymmetric coordinates; nearest picks
		// floor when enlarging.
		coord, nearest = "asymmetric", "floor"
	}
	if ex, _ := c.attrInt("exclude_outside", 0); ex != 0 {
		return c.errf("exclude_outside is not supported")
	}
	switch mode {
	case "nearest":
	case "linear", "bilinear":
		mode = "bilinear"
	default:
		return c.errf("mode %q is not supported (nearest, linear)", mode)
	}
	switch coord {
	case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric":
	default:
		return c.errf("coordinate_transformation_mode %q is not supported", coord)
	}
	var scales []float32
	var sizes []int64
	switch {
	case c.node.OpType == "Upsample" && c.opset < 9:
		s, ok, err := c.attrFloats("scales")
		if err != nil || !ok {
			return orErr(err, c.errf("scales is missing"))
		}
		scales = s
	case c.node.OpType == "Upsample" || c.opset == 10:
		d, err := c.konstIn(1, "scales")
		if err != nil {
			return err
		}
		scales = d.Float
	default:
		if v, _ := c.in(2); v != nil {
			d, err := c.konstIn(2, "scales")
			if err != nil {
				return err
			}
			scales = d.Float
		}
		if v, _ := c.in(3); v != nil {
			if sizes, err = c.intsIn(3, "sizes"); err != nil {
				return err
			}
		}
	}
	xs := x.onnxShape()
	op := &nn.Resize{Mode: mode, CoordinateMode: coord, NearestMode: nearest}
	switch {
	case len(sizes) == 4:
		for i := range 2 {
			if xs[i] >= 0 && int64(xs[i]) != sizes[i] {
				return c.errf("sizes %v resize the batch or channel axis", sizes)
			}
		}
		op.Sizes = []int{clampInt(sizes[2]), clampInt(sizes[3])}
	case len(scales) == 4:
		if scales[0] != 1 || scales[1] != 1 {
			return c.errf("scales %v resize the batch or channel axis", scales)
		}
		op.Scales = []float32{scales[2], scales[3]}
		if scales[2] == 1 && scales[3] == 1 {
			return c.alias(x, x.dtype)
		}
	default:
		return c.errf("want 4 scales or 4 sizes, got scales %v and sizes %v", scales, sizes)
	}
	if upsample && mode == "nearest" && len(op.Scales) == 2 && (op.Scales[0] < 1 || op.Scales[1] < 1) {
		op.NearestMode = "ceil"
	}
	for _, s := range op.Scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return c.errf("scales %v", scales)
		}
	}
	in, err := c.ref(x, channelsLast(4))
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, channelsLast(4), x.dtype)
	keepDims(out, x, []int{0, 1, -1, -1})
	c.setOut(0, out)
	return nil
}
