package onnx

import (
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Element-wise ops: they work in whatever layout their inputs are in, so
// an NHWC activation stays NHWC through them; constants are emitted in
// the activation's layout.

func init() {
	register(1, unaryOp, "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal",
		"Floor", "Ceil", "Softplus", "Softsign", "Erf", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
		"Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "IsNaN", "Not", "Round", "HardSwish", "IsInf",
		"LeakyRelu", "Elu", "Selu", "Celu", "ThresholdedRelu", "HardSigmoid")
	register(1, binaryOp, "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "LessOrEqual",
		"GreaterOrEqual", "And", "Or", "Xor", "Mod")
	register(1, variadicOp, "Max", "Min", "Sum", "Mean")
	register(1, clipOp, "Clip")
	register(1, whereOp, "Where")
	register(1, preluOp, "PRelu")
	register(1, castOp, "Cast", "CastLike")
	register(1, identityOp, "Identity", "Dropout")
	register(1, constantOp, "Constant")
}

// unaryAct makes the nn op of a unary ONNX op.
func (c *converter) unaryAct() (nn.Op, error) {
	var ferr error
	f := func(name string, def float32) float32 {
		v, err := c.attrFloat(name, def)
		if err != nil && ferr == nil {
			ferr = err
		}
		return v
	}
	var res nn.Op
	switch op := c.node.OpType; op {
	case "Relu":
		res = nn.NewReLU()
	case "Sigmoid":
		res = nn.NewSigmoid()
	case "Tanh":
		res = nn.NewTanh()
	case "HardSwish":
		res = nn.NewHardSwish()
	case "HardSigmoid":
		h := nn.NewHardSigmoid()
		h.Alpha, h.Beta = f("alpha", 0.2), f("beta", 0.5)
		res = h
	case "LeakyRelu":
		a := f("alpha", 0.01)
		if a >= 0 {
			res = nn.NewLeakyReLU(a)
			break
		}
		// A negative slope: PReLU with one shared slope.
		p := nn.NewPReLU(true)
		if err := c.withWeights(p, [][]int{{1}}, &tensor.Tensor{Shape: []int{1}, Data: []float32{a}}); err != nil {
			return nil, err
		}
		res = p
	case "Elu":
		a := f("alpha", 1)
		if a < 0 {
			return nil, c.errf("alpha %v < 0 is not supported", a)
		}
		res = nn.NewELU(a)
	case "Selu":
		u := nn.NewUnaryMath("Selu")
		u.Alpha, u.Gamma = f("alpha", 1.67326319217681884765625), f("gamma", 1.05070102214813232421875)
		res = u
	case "Celu", "ThresholdedRelu":
		u := nn.NewUnaryMath(op)
		u.Alpha = f("alpha", 1)
		res = u
	case "IsInf":
		u := nn.NewUnaryMath("IsInf")
		pos, err := c.attrInt("detect_positive", 1)
		if err != nil {
			return nil, err
		}
		neg, err := c.attrInt("detect_negative", 1)
		if err != nil {
			return nil, err
		}
		if pos != 0 {
			u.Alpha = 1
		}
		if neg != 0 {
			u.Gamma = 1
		}
		res = u
	default:
		res = nn.NewUnaryMath(op)
	}
	return res, ferr
}

// boolOut reports whether an op gives booleans.
func boolOut(op string) bool {
	switch op {
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf":
		return true
	}
	return false
}

func unaryOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	op, err := c.unaryAct()
	if err != nil {
		return err
	}
	// Rounding integers changes nothing.
	switch c.node.OpType {
	case "Floor", "Ceil", "Round":
		if x.isInt() {
			return c.alias(x, x.dtype)
		}
	}
	in := x.ref
	if x.ref == "" || x.feat == nil {
		if in, err = c.ref(x, x.getPerm()); err != nil {
			return err
		}
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	dtype := x.dtype
	if boolOut(c.node.OpType) {
		dtype = TypeBool
	}
	out := c.value(ref, shape, x.perm, dtype)
	out.feat = x.feat
	sameDims(out, x)
	c.setOut(0, out)
	return nil
}

// alias makes output 0 the same value as x (with another type).
func (c *converter) alias(x *tval, dtype int32) error {
	out := *x
	out.dtype = dtype
	out.views = x.views
	if x.konst != nil {
		d := *x.konst
		d.Type = dtype
		if isInteger(dtype) && d.Int == nil {
			d.Int = make([]int64, len(d.Float))
			for i, f := range d.Float {
				d.Int[i] = int64(math.Trunc(float64(f)))
			}
			d.Float = make([]float32, len(d.Int))
			for i, v := range d.Int {
				d.Float[i] = float32(v)
			}
		} else if !isInteger(dtype) {
			d.Int = nil
		}
		out.konst = &d
	}
	c.setOut(0, &out)
	return nil
}

// align returns the operands in one layout for broadcasting: the layout
// of the highest-rank activation (constants are emitted in it), with
// lower ranks padded by leading axes, as NumPy aligns them.
func (c *converter) align(vs ...*tval) ([]string, []int, *tval, error) {
	r := 0
	for _, v := range vs {
		r = max(r, v.rank())
	}
	var lead *tval
	for _, v := range vs {
		if v.ref == "" {
			continue
		}
		if lead == nil || (v.rank() == r && lead.rank() < r) {
			lead = v
		}
	}
	perm := identity(r)
	if lead != nil {
		perm = padPerm(lead.getPerm(), r)
	}
	refs := make([]string, len(vs))
	for i, v := range vs {
		ref, err := c.ref(v, perm)
		if err != nil {
			return nil, nil, nil, err
		}
		refs[i] = ref
	}
	return refs, perm, lead, nil
}

// broadcastDims sets out's symbolic dims from the operands (NumPy's
// alignment: a size-1 axis takes the other's).
func broadcastDims(out *tval, vs ...*tval) {
	s := out.onnxShape()
	out.dims = make([]int, len(s))
	for i := range s {
		if s[i] >= 0 {
			continue
		}
		for _, v := range vs {
			k := i - (len(s) - v.rank())
			if k >= 0 && k < len(v.dims) && v.dims[k] > 0 {
				out.dims[i] = v.dims[k]
				break
			}
		}
	}
}

// binaryNN is the nn op of a binary ONNX op.
func (c *converter) binaryNN(op string) (nn.Op, error) {
	switch op {
	case "Add", "Sum":
		return nn.NewAdd(), nil
	case "Sub":
		return nn.NewSub(), nil
	case "Mul":
		return nn.NewMul(), nil
	case "Div", "Mean":
		return nn.NewDiv(), nil
	case "Pow", "Max", "Min":
		return nn.NewBinaryMath(op), nil
	case "Mod":
		fmod, err := c.attrInt("fmod", 0)
		if err != nil {
			return nil, err
		}
		m := nn.NewBinaryMath("Mod")
		m.Fmod = fmod != 0
		return m, nil
	}
	return nn.NewCompare(op), nil
}

// binaryRef emits a broadcasting binary op on a and b.
func (c *converter) binary(op string, a, b *tval) (*tval, error) {
	nop, err := c.binaryNN(op)
	if err != nil {
		return nil, err
	}
	// A column-permuted value times a scalar keeps its order.
	if a.feat != nil && b.konst != nil && len(b.konst.Float) == 1 {
		bref, err := c.ref(b, []int{0, 1})
		if err != nil {
			return nil, err
		}
		ref, shape, err := c.emit1("", nop, a.ref, bref)
		if err != nil {
			return nil, err
		}
		out := c.value(ref, shape, nil, a.dtype)
		out.feat = a.feat
		sameDims(out, a)
		return out, nil
	}
	refs, perm, _, err := c.align(a, b)
	if err != nil {
		return nil, err
	}
	ref, shape, err := c.emit1("", nop, refs...)
	if err != nil {
		return nil, err
	}
	dtype := a.dtype
	if dtype == 0 {
		dtype = b.dtype
	}
	if boolOut(op) {
		dtype = TypeBool
	}
	out := c.value(ref, shape, perm, dtype)
	broadcastDims(out, a, b)
	// Integer division truncates toward zero (ONNX Div of ints).
	if op == "Div" && a.isInt() && b.isInt() {
		ref, shape, err = c.emit1("trunc", nn.NewUnaryMath("Trunc"), ref)
		if err != nil {
			return nil, err
		}
		out.ref, out.shape = ref, shape
	}
	return out, nil
}

func binaryOp(c *converter) error {
	a0, err := c.need(0)
	a := a0
	if err != nil {
		return err
	}
	b, err := c.need(1)
	if err != nil {
		return err
	}
	if c.opset < 7 {
		// Opset 6 broadcasts only with broadcast=1: b aligned with a at
		// axis (default: at the end, as NumPy).
		bc, err := c.attrInt("broadcast", 0)
		if err != nil {
			return err
		}
		if a := c.attr("axis"); bc != 0 && a != nil {
			axis, err := c.normAxis(a.I, a0.rank())
			if err != nil {
				return err
			}
			pad := a0.rank() - axis - b.rank()
			if pad < 0 {
				return c.errf("broadcast axis %d: B of rank %d does not fit A of rank %d", a.I, b.rank(), a0.rank())
			}
			if pad > 0 {
				dims := make([]rdim, b.rank()+pad)
				for i := range dims {
					dims[i] = known(1)
					if i < b.rank() {
						dims[i] = b.onnxDim(i)
					}
				}
				if b, err = c.reshapeVal(b, dims); err != nil {
					return err
				}
			}
		}
	}
	if op := c.node.OpType; !c.noFuse && (op == "Add" || op == "Mul" || op == "Sub" || op == "Div") {
		pairs := [][2]*tval{{a, b}, {b, a}}
		if op == "Sub" || op == "Div" {
			pairs = pairs[:1] // x - k and x / k only
		}
		for _, p := range pairs {
			if out, ok, err := c.foldAffine(op, p[0], p[1]); err != nil || ok {
				if ok {
					c.setOut(0, out)
				}
				return err
			}
		}
	}
	out, err := c.binary(c.node.OpType, a, b)
	if err != nil {
		return err
	}
	out.sym = symBinary(c.node.OpType, a, b)
	c.setOut(0, out)
	return nil
}

// symBinary does shape arithmetic on tracked integer vectors.
func symBinary(op string, a, b *tval) []sdim {
	sa, sb := a.symOf(), b.symOf()
	if sa == nil || sb == nil || a.rank() > 1 || b.rank() > 1 {
		return nil
	}
	n := max(len(sa), len(sb))
	if (len(sa) != n && len(sa) != 1) || (len(sb) != n && len(sb) != 1) {
		return nil
	}
	out := make([]sdim, n)
	for i := range out {
		x, y := sa[min(i, len(sa)-1)], sb[min(i, len(sb)-1)]
		switch {
		case x.known && y.known:
			var v int64
			switch op {
			case "Add":
				v = x.v + y.v
			case "Sub":
				v = x.v - y.v
			case "Mul":
				v = x.v * y.v
			case "Div":
				if y.v == 0 {
					return nil
				}
				v = x.v / y.v
			case "Equal":
				v = b2i(x.v == y.v)
			default:
				return nil
			}
			out[i] = known(v)
		case op == "Mul" && y.known && y.v == 1:
			out[i] = x
		case op == "Mul" && x.known && x.v == 1:
			out[i] = y
		case (op == "Div" || op == "Sub" || op == "Add") && y.known && y.v == map[string]int64{"Div": 1, "Sub": 0, "Add": 0}[op]:
			out[i] = x
		case op == "Equal" && ((x.id > 0 && y.known && y.v < 0) || (y.id > 0 && x.known && x.v < 0)):
			out[i] = known(0) // a dimension is never negative
		case op == "Equal" && x.id > 0 && x.id == y.id:
			out[i] = known(1)
		}
	}
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// variadicOp folds Max, Min, Sum and Mean over their inputs pairwise.
func variadicOp(c *converter) error {
	n := c.nin()
	if n == 0 {
		return c.errf("no inputs")
	}
	acc, err := c.need(0)
	if err != nil {
		return err
	}
	op := c.node.OpType
	if n == 1 {
		return c.alias(acc, acc.dtype)
	}
	for i := 1; i < n; i++ {
		v, err := c.need(i)
		if err != nil {
			return err
		}
		bop := op
		if op == "Mean" {
			bop = "Sum"
		}
		if acc, err = c.binary(bop, acc, v); err != nil {
			return err
		}
	}
	if op == "Mean" {
		k := &tval{name: c.baseName() + "/count", konst: &Data{Type: TypeFloat, Shape: []int{}, Float: []float32{float32(n)}}}
		if acc, err = c.binary("Div", acc, k); err != nil {
			return err
		}
	}
	c.setOut(0, acc)
	return nil
}

// clipOp: bounds from attributes (opset < 11) or constant inputs.
func clipOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
	if c.opset < 11 {
		if lo, err = c.attrFloat("min", lo); err != nil {
			return err
		}
		if hi, err = c.attrFloat("max", hi); err != nil {
			return err
		}
	} else {
		for i, dst := range []*float32{&lo, &hi} {
			v, err := c.in(i + 1)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			d, err := c.konstIn(i+1, []string{"min", "max"}[i])
			if err != nil {
				return err
			}
			if len(d.Float) != 1 {
				return c.errf("%s has %d values, want a scalar", []string{"min", "max"}[i], len(d.Float))
			}
			*dst = d.Float[0]
		}
	}
	lo = max(lo, -math.MaxFloat32)
	hi = min(hi, math.MaxFloat32)
	if lo > hi {
		// ONNX: every value becomes max (min > max is allowed).
		lo = hi
	}
	var op nn.Op = nn.NewClip(lo, hi)
	if lo == 0 && hi == 6 {
		op = nn.NewReLU6()
	} else if lo == 0 && hi == math.MaxFloat32 {
		op = nn.NewReLU()
	}
	in := x.ref
	if x.ref == "" || x.feat == nil {
		if in, err = c.ref(x, x.getPerm()); err != nil {
			return err
		}
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, x.perm, x.dtype)
	out.feat = x.feat
	sameDims(out, x)
	c.setOut(0, out)
	return nil
}

func whereOp(c *converter) error {
	var vs []*tval
	for i := range 3 {
		v, err := c.need(i)
		if err != nil {
			return err
		}
		vs = append(vs, v)
	}
	refs, perm, _, err := c.align(vs...)
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", nn.NewWhere(), refs...)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, perm, vs[1].dtype)
	broadcastDims(out, vs...)
	// Shape arithmetic: Where on tracked vectors with a known condition.
	if cs, xs, ys := vs[0].symOf(), vs[1].symOf(), vs[2].symOf(); cs != nil && xs != nil && ys != nil && vs[0].rank() <= 1 {
		n := max(len(cs), len(xs), len(ys))
		sym := make([]sdim, n)
		ok := true
		for i := range sym {
			cv := cs[min(i, len(cs)-1)]
			if !cv.known {
				ok = false
				break
			}
			if cv.v != 0 {
				sym[i] = xs[min(i, len(xs)-1)]
			} else {
				sym[i] = ys[min(i, len(ys)-1)]
			}
		}
		if ok {
			out.sym = sym
		}
	}
	c.setOut(0, out)
	return nil
}

// preluOp: a slope per channel (shape (C), (C,1,1) or (1,C,1,1) for
// channel axis 1) or one slope maps to nn.PReLU; any other slope shape
// is x where x >= 0, else x*slope.
func preluOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	s, err := c.need(1)
	if err != nil {
		return err
	}
	r := x.rank()
	if c.opset < 7 && s.konst != nil && len(s.konst.Shape) == 1 && r >= 2 && len(s.konst.Float) > 1 {
		// Opset 6: a 1-D slope is per channel (axis 1).
		nd := *s.konst
		nd.Shape = append([]int{len(nd.Float)}, slices.Repeat([]int{1}, r-2)...)
		s = &tval{name: s.name, konst: &nd, dtype: s.dtype}
	}
	if s.konst != nil && x.ref != "" {
		d := s.konst
		n := len(d.Float)
		xs := x.onnxShape()
		perm := x.getPerm()
		// The slope's shape aligned to x's trailing axes.
		chanAxis := -1
		if n > 1 {
			aligned := make([]int, r)
			for i := range aligned {
				aligned[i] = 1
			}
			copy(aligned[r-len(d.Shape):], d.Shape)
			for a, dd := range aligned {
				if dd != 1 {
					if chanAxis >= 0 {
						chanAxis = -2
						break
					}
					chanAxis = a
				}
			}
		}
		lastOK := chanAxis >= 0 && perm[len(perm)-1] == chanAxis && xs[chanAxis] == n
		if n == 1 || lastOK {
			p := nn.NewPReLU(n == 1)
			in := [][]int{x.shape}
			if err := c.withWeights(p, in, &tensor.Tensor{Shape: []int{n}, Data: d.Float}); err != nil {
				return err
			}
			ref, err := c.ref(x, x.getPerm())
			if err != nil {
				return err
			}
			ref, shape, err := c.emit1("", p, ref)
			if err != nil {
				return err
			}
			out := c.value(ref, shape, x.perm, x.dtype)
			sameDims(out, x)
			c.setOut(0, out)
			return nil
		}
	}
	zero := &tval{name: c.baseName() + "/zero", konst: &Data{Type: TypeFloat, Shape: []int{}, Float: []float32{0}}}
	neg, err := c.binary("Less", x, zero)
	if err != nil {
		return err
	}
	scaled, err := c.binary("Mul", x, s)
	if err != nil {
		return err
	}
	refs, perm, _, err := c.align(neg, scaled, x)
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("where", nn.NewWhere(), refs...)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, perm, x.dtype)
	broadcastDims(out, x, s)
	c.setOut(0, out)
	return nil
}

// castNames maps ONNX types to nn.Cast's names.
var castNames = map[int32]string{
	TypeFloat: "float", TypeDouble: "double", TypeFloat16: "float16", TypeBFloat16: "bfloat16",
	TypeInt8: "int8", TypeInt16: "int16", TypeInt32: "int32", TypeInt64: "int64",
	TypeUint8: "uint8", TypeUint16: "uint16", TypeUint32: "uint32", TypeUint64: "uint64", TypeBool: "bool",
}

func castOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	var to int32
	if c.node.OpType == "CastLike" {
		t, err := c.need(1)
		if err != nil {
			return err
		}
		to = t.dtype
	} else {
		t, err := c.attrInt("to", 0)
		if err != nil {
			return err
		}
		to = int32(t)
	}
	name, ok := castNames[to]
	if !ok {
		return c.errf("cast to %s is not supported", TypeName(to))
	}
	// Casts that cannot change a float32-carried value are free: between
	// float32 and double, from integers to wider or float types, and
	// from bool.
	from := x.dtype
	free := false
	switch {
	case from == to:
		free = true
	case (to == TypeFloat || to == TypeDouble) && from != TypeFloat16 && from != TypeBFloat16:
		free = true
	case isInteger(from) && (to == TypeInt32 || to == TypeInt64 || to == TypeFloat16 && false):
		free = true
	case from == TypeBool && isInteger(to):
		free = true
	}
	if free {
		if err := c.alias(x, to); err != nil {
			return err
		}
		c.vals[c.node.Outputs[0]].sym = x.symOf()
		return nil
	}
	ref, err := c.ref(x, x.getPerm())
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", nn.NewCast(name), ref)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, x.perm, to)
	sameDims(out, x)
	c.setOut(0, out)
	return nil
}

// identityOp: Identity, and Dropout at inference (the mask output is
// not supported).
func identityOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if c.node.OpType == "Dropout" {
		if len(c.node.Outputs) > 1 && c.node.Outputs[1] != "" {
			return c.errf("the mask output is not supported (dlcv imports models for inference)")
		}
		if v, _ := c.in(2); v != nil {
			if v.konst == nil || len(v.konst.Float) != 1 || v.konst.Float[0] != 0 {
				return c.errf("training_mode must be a constant false")
			}
		}
	}
	if err := c.alias(x, x.dtype); err != nil {
		return err
	}
	out := c.vals[c.node.Outputs[0]]
	out.sym = x.symOf()
	return nil
}

// constantOp: the value of any of its attributes.
func constantOp(c *converter) error {
	if len(c.node.Attrs) != 1 {
		return c.errf("Constant needs exactly one value attribute, got %d", len(c.node.Attrs))
	}
	a := c.node.Attrs[0]
	var d *Data
	switch a.Name {
	case "value":
		if a.T == nil {
			return c.errf("value is not a tensor")
		}
		var err error
		if d, err = a.T.Decode(c.dir); err != nil {
			return c.errf("%v", err)
		}
	case "value_float":
		d = &Data{Type: TypeFloat, Shape: []int{}, Float: []float32{a.F}}
	case "value_floats":
		d = &Data{Type: TypeFloat, Shape: []int{len(a.Floats)}, Float: slices.Clone(a.Floats)}
	case "value_int":
		d = &Data{Type: TypeInt64, Shape: []int{}, Float: []float32{float32(a.I)}, Int: []int64{a.I}}
	case "value_ints":
		d = &Data{Type: TypeInt64, Shape: []int{len(a.Ints)}, Int: slices.Clone(a.Ints)}
		d.Float = make([]float32, len(a.Ints))
		for i, v := range a.Ints {
			d.Float[i] = float32(v)
		}
	default:
		return c.errf("attribute %s is not supported (sparse or string constants)", a.Name)
	}
	c.setOut(0, &tval{konst: d, dtype: d.Type})
	return nil
}
