package onnx

import (
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
)

// Shape and layout ops. Each maps ONNX axes to the stored layout, so
// none needs a transpose unless its semantics force the ONNX order.

func init() {
	register(5, reshapeOp, "Reshape")
	register(1, flattenOp, "Flatten")
	register(1, transposeOp, "Transpose")
	register(1, squeezeOp, "Squeeze")
	register(1, unsqueezeOp, "Unsqueeze")
	register(4, concatOp, "Concat")
	register(2, splitOp, "Split")
	register(1, sliceOp, "Slice")
	register(1, gatherOp, "Gather")
	register(11, gatherElementsOp, "GatherElements")
	register(1, shapeOp, "Shape")
	register(1, sizeOp, "Size")
	register(8, expandOp, "Expand")
	register(6, tileOp, "Tile")
	register(2, padOp, "Pad")
	register(9, constantOfShapeOp, "ConstantOfShape")
	register(11, rangeOp, "Range")
	register(1, depthToSpaceOp, "DepthToSpace", "SpaceToDepth")
}

func reshapeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	s, err := c.need(1)
	if err != nil {
		return err
	}
	allow, err := c.attrInt("allowzero", 0)
	if err != nil {
		return err
	}
	tgt := s.symOf()
	if tgt == nil || s.rank() != 1 {
		return c.errf("the target shape (input 1 %q) must be a 1-D tensor known at import or computed from shapes; it is computed from data", s.name)
	}
	xs := x.onnxShape()
	out := make([]rdim, len(tgt))
	inferred := -1
	for j, d := range tgt {
		switch {
		case d.known && d.v == 0 && allow == 0:
			if j >= len(xs) {
				return c.errf("target shape entry %d is 0 (copy), but the input %s has rank %d", j, shapeText(xs), len(xs))
			}
			out[j] = x.onnxDim(j)
		case d.known && d.v == -1:
			if inferred >= 0 {
				return c.errf("target shape %s has more than one -1", sdimText(tgt))
			}
			inferred = j
			out[j] = rdim{}
		case d.known && d.v < -1:
			return c.errf("target shape %s has a negative entry", sdimText(tgt))
		default:
			out[j] = d
		}
	}
	v, err := c.reshapeVal(x, out)
	if err != nil {
		return err
	}
	if x.rank() <= 1 && len(out) <= 1 {
		v.sym = x.symOf()
	}
	c.setOut(0, v)
	return nil
}

// product is the product of some dims as one rdim: known when all are,
// a symbol when it is the only unknown among 1s, else unknown.
func product(ds []rdim) rdim {
	p := int64(1)
	var sym *rdim
	for i := range ds {
		d := ds[i]
		switch {
		case d.known:
			p *= d.v
		case d.id > 0 && sym == nil:
			sym = &ds[i]
		default:
			return rdim{}
		}
	}
	if sym == nil {
		return known(p)
	}
	if p == 1 {
		return *sym
	}
	return rdim{}
}

func flattenOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	axis, err := c.attrInt("axis", 1)
	if err != nil {
		return err
	}
	r := x.rank()
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis > int64(r) {
		return c.errf("axis %d is out of range for rank %d", axis, r)
	}
	ds := make([]rdim, r)
	for i := range ds {
		ds[i] = x.onnxDim(i)
	}
	v, err := c.reshapeVal(x, []rdim{product(ds[:axis]), product(ds[axis:])})
	if err != nil {
		return err
	}
	c.setOut(0, v)
	return nil
}

func transposeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	r := x.rank()
	p, ok, err := c.attrInts("perm")
	if err != nil {
		return err
	}
	perm := make([]int, r)
	if !ok {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	} else {
		if len(p) != r {
			return c.errf("perm %v for rank %d", p, r)
		}
		seen := make([]bool, r)
		for i, a := range p {
			if a < 0 || a >= int64(r) || seen[a] {
				return c.errf("perm %v is not a permutation", p)
			}
			seen[a] = true
			perm[i] = int(a)
		}
	}
	c.setOut(0, transposeVal(x, perm))
	return nil
}

// axesArg reads Squeeze/Unsqueeze/reduction axes: an attribute before
// opset since, input 1 from it on.
func (c *converter) axesArg(since int64) ([]int64, bool, error) {
	return c.intsAttrOrInput("axes", 1, since)
}

func squeezeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	axes, ok, err := c.axesArg(13)
	if err != nil {
		return err
	}
	xs := x.onnxShape()
	r := len(xs)
	drop := make([]bool, r)
	if !ok {
		for i, d := range xs {
			if d < 0 {
				return c.errf("squeeze without axes of %s: axis %d has a size known only at run time", shapeText(xs), i)
			}
			drop[i] = d == 1
		}
	} else {
		for _, a := range axes {
			k, err := c.normAxis(a, r)
			if err != nil {
				return err
			}
			if xs[k] != 1 && xs[k] != -1 {
				return c.errf("axis %d of %s has size %d, not 1", a, shapeText(xs), xs[k])
			}
			drop[k] = true
		}
	}
	// New ONNX numbering of the kept axes.
	renum := make([]int, r)
	n := 0
	var m []int
	for a := range r {
		renum[a] = n
		if !drop[a] {
			m = append(m, a)
			n++
		}
	}
	if x.ref == "" {
		nd := *x.konst
		nd.Shape = nil
		for _, a := range m {
			nd.Shape = append(nd.Shape, xs[a])
		}
		c.setOut(0, &tval{konst: &nd, dtype: x.dtype})
		return nil
	}
	p := x.getPerm()
	var dl []int // dlcv axes to drop
	var np []int
	for i, a := range p {
		if drop[a] {
			dl = append(dl, i)
		} else {
			np = append(np, renum[a])
		}
	}
	ref, shape, err := c.emit1("", nn.NewSqueeze(dl...), x.ref)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, np, x.dtype)
	keepDims(out, x, m)
	out.sym = x.symOf()
	c.setOut(0, out)
	return nil
}

func unsqueezeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	axes, ok, err := c.axesArg(13)
	if err != nil {
		return err
	}
	if !ok || len(axes) == 0 {
		return c.errf("no axes")
	}
	r := x.rank() + len(axes)
	isNew := make([]bool, r)
	for _, a := range axes {
		k, err := c.normAxis(a, r)
		if err != nil {
			return err
		}
		if isNew[k] {
			return c.errf("axis %d is listed twice", a)
		}
		isNew[k] = true
	}
	var ones, m []int
	old := make([]int, 0, x.rank()) // new index of each old axis
	for a := range r {
		if isNew[a] {
			ones = append(ones, a)
			m = append(m, -1)
		} else {
			m = append(m, len(old))
			old = append(old, a)
		}
	}
	if x.ref == "" {
		nd := *x.konst
		nd.Shape = make([]int, r)
		for a := range r {
			nd.Shape[a] = 1
			if !isNew[a] {
				nd.Shape[a] = x.konst.Shape[m[a]]
			}
		}
		c.setOut(0, &tval{konst: &nd, dtype: x.dtype})
		return nil
	}
	p := x.getPerm()
	order := make([]int, len(p))
	for i, a := range p {
		order[i] = old[a]
	}
	np := placeOnes(order, ones, r)
	var at []int
	for i, a := range np {
		if isNew[a] {
			at = append(at, i)
		}
	}
	ref, shape, err := c.emit1("", nn.NewUnsqueeze(at...), x.ref)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, np, x.dtype)
	keepDims(out, x, m)
	out.sym = x.symOf()
	c.setOut(0, out)
	return nil
}

func concatOp(c *converter) error {
	n := c.nin()
	if n == 0 {
		return c.errf("no inputs")
	}
	var vs []*tval
	for i := range n {
		v, err := c.need(i)
		if err != nil {
			return err
		}
		if err := c.plain(v); err != nil {
			return err
		}
		vs = append(vs, v)
	}
	r := vs[0].rank()
	axis, err := c.attrInt("axis", 0)
	if err != nil {
		return err
	}
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	var lead *tval
	for _, v := range vs {
		if v.rank() != r {
			return c.errf("input %q has rank %d, input 0 rank %d", v.name, v.rank(), r)
		}
		if lead == nil && v.ref != "" {
			lead = v
		}
	}
	perm := identity(r)
	if lead != nil {
		perm = lead.getPerm()
	}
	refs := make([]string, len(vs))
	for i, v := range vs {
		if refs[i], err = c.ref(v, perm); err != nil {
			return err
		}
	}
	ref, shape, err := c.emit1("", nn.NewConcat(invert(perm)[a]), refs...)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, perm, vs[0].dtype)
	if lead != nil {
		m := identity(r)
		m[a] = -1
		keepDims(out, lead, m)
	}
	if r == 1 {
		var sym []sdim
		for _, v := range vs {
			s := v.symOf()
			if s == nil {
				sym = nil
				break
			}
			sym = append(sym, s...)
		}
		out.sym = sym
	}
	c.setOut(0, out)
	return nil
}

func splitOp(c *converter) error {
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
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	sizes, ok, err := c.intsAttrOrInput("split", 1, 13)
	if err != nil {
		return err
	}
	nout := len(c.node.Outputs)
	var op *nn.Split
	p := x.getPerm()
	da := invert(p)[a]
	if ok {
		if len(sizes) != nout {
			return c.errf("%d split sizes for %d outputs", len(sizes), nout)
		}
		op = nn.NewSplit(da, intsList(sizes)...)
	} else {
		op = nn.NewSplitParts(da, nout)
	}
	if x.ref == "" {
		if _, err := c.ref(x, p); err != nil {
			return err
		}
	}
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	refs, shapes, err := c.emit("", op, in)
	if err != nil {
		return err
	}
	sym := x.symOf()
	off := 0
	for i := range refs {
		out := c.value(refs[i], shapes[i], x.perm, x.dtype)
		m := identity(r)
		m[a] = -1
		keepDims(out, x, m)
		if sym != nil && r == 1 {
			n := shapes[i][0]
			if off+n <= len(sym) {
				out.sym = sym[off : off+n]
			}
			off += n
		}
		c.setOut(i, out)
	}
	return nil
}

// sliceParams reads Slice's starts, ends, axes and steps.
func (c *converter) sliceParams() (starts, ends, axes, steps []int64, err error) {
	if c.opset < 10 {
		var ok bool
		if starts, ok, err = c.attrInts("starts"); err != nil || !ok {
			return nil, nil, nil, nil, orErr(err, c.errf("starts is missing"))
		}
		if ends, ok, err = c.attrInts("ends"); err != nil || !ok {
			return nil, nil, nil, nil, orErr(err, c.errf("ends is missing"))
		}
		axes, _, err = c.attrInts("axes")
		return starts, ends, axes, nil, err
	}
	if starts, err = c.intsIn(1, "starts"); err != nil {
		return
	}
	if ends, err = c.intsIn(2, "ends"); err != nil {
		return
	}
	if v, _ := c.in(3); v != nil {
		if axes, err = c.intsIn(3, "axes"); err != nil {
			return
		}
	}
	if v, _ := c.in(4); v != nil {
		if steps, err = c.intsIn(4, "steps"); err != nil {
			return
		}
	}
	return
}

func orErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

func sliceOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	starts, ends, axes, steps, err := c.sliceParams()
	if err != nil {
		return err
	}
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return c.errf("%d starts, %d ends, %d axes and %d steps", len(starts), len(ends), len(axes), len(steps))
	}
	r := x.rank()
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	p := x.getPerm()
	pos := invert(p)
	dax := make([]int, len(axes))
	for i, a := range axes {
		k, err := c.normAxis(a, r)
		if err != nil {
			return err
		}
		dax[i] = pos[k]
	}
	op := nn.NewSlice(toInts(starts), toInts(ends), dax, toInts(steps))
	// Shape arithmetic on a tracked vector.
	var sym []sdim
	if s := x.symOf(); s != nil && r == 1 {
		ax, err := op.Shapes([][]int{{len(s)}})
		if err == nil {
			st, en := clampInt(starts[0]), clampInt(ends[0])
			step := 1
			if steps != nil {
				step = clampInt(steps[0])
			}
			n := len(s)
			if st < 0 {
				st += n
			}
			if en < 0 {
				en += n
			}
			if step > 0 {
				st, en = min(max(st, 0), n), min(max(en, 0), n)
				for i := st; i < en; i += step {
					sym = append(sym, s[i])
				}
			} else if step < 0 {
				st, en = min(max(st, 0), n-1), min(max(en, -1), n-1)
				for i := st; i > en; i += step {
					sym = append(sym, s[i])
				}
			}
			if len(sym) != ax[0][0] {
				sym = nil
			}
		}
	}
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, x.perm, x.dtype)
	m := identity(r)
	for _, a := range axes {
		k, _ := c.normAxis(a, r)
		m[k] = -1
	}
	keepDims(out, x, m)
	out.sym = sym
	if out.sym == nil && r == 1 && shape[0] == 0 {
		out.sym = []sdim{}
	}
	c.setOut(0, out)
	return nil
}

func gatherOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	ind, err := c.need(1)
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
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	q := ind.rank()
	// Shape arithmetic: picking elements of a tracked vector.
	var sym []sdim
	if s := x.symOf(); s != nil && r == 1 && ind.konst != nil {
		for _, f := range ind.konst.Float {
			i := int(f)
			if i < 0 {
				i += len(s)
			}
			if i < 0 || i >= len(s) {
				return c.errf("index %v is out of range for %d values", f, len(s))
			}
			sym = append(sym, s[i])
		}
	}
	p := x.getPerm()
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	iref, err := c.ref(ind, identity(q))
	if err != nil {
		return err
	}
	da := invert(p)[a]
	ref, shape, err := c.emit1("", nn.NewGather(da), in, iref)
	if err != nil {
		return err
	}
	// The output's layout: the data's, with the indices' axes (in order)
	// where the gathered axis was.
	var np []int
	renum := func(b int) int {
		if b < a {
			return b
		}
		return b + q - 1
	}
	for i, b := range p {
		if i == da {
			for k := range q {
				np = append(np, a+k)
			}
			continue
		}
		np = append(np, renum(b))
	}
	out := c.value(ref, shape, np, x.dtype)
	m := make([]int, 0, r+q-1)
	for b := range r {
		if b == a {
			for range q {
				m = append(m, -1)
			}
			continue
		}
		m = append(m, b)
	}
	keepDims(out, x, m)
	for k := range q {
		if k < len(ind.dims) && out.dims[a+k] == 0 && shape[da+k] < 0 {
			out.dims[a+k] = ind.dims[k]
		}
	}
	out.sym = sym
	c.setOut(0, out)
	return nil
}

func gatherElementsOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	ind, err := c.need(1)
	if err != nil {
		return err
	}
	axis, err := c.attrInt("axis", 0)
	if err != nil {
		return err
	}
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	p := x.getPerm()
	if x.ref == "" && ind.ref != "" {
		p = ind.getPerm()
	}
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	iref, err := c.ref(ind, p)
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", nn.NewGatherElements(invert(p)[a]), in, iref)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, p, x.dtype)
	sameDims(out, ind)
	c.setOut(0, out)
	return nil
}

func shapeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	start, err := c.attrInt("start", 0)
	if err != nil {
		return err
	}
	r := x.rank()
	end := int64(r)
	if a := c.attr("end"); a != nil {
		if end, err = c.attrInt("end", 0); err != nil {
			return err
		}
	}
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(r)
		}
		return int(min(max(v, 0), int64(r)))
	}
	lo, hi := clamp(start), max(clamp(end), clamp(start))
	sym := make([]sdim, 0, hi-lo)
	for a := lo; a < hi; a++ {
		sym = append(sym, x.onnxDim(a))
	}
	if vals, ok := allKnown(sym); ok || len(sym) == 0 {
		d := &Data{Type: TypeInt64, Shape: []int{len(vals)}, Int: vals, Float: make([]float32, len(vals))}
		for i, v := range vals {
			d.Float[i] = float32(v)
		}
		c.setOut(0, &tval{konst: d, dtype: TypeInt64})
		return nil
	}
	if err := c.plain(x); err != nil {
		return err
	}
	op := &nn.Shape{Start: lo}
	e := hi
	op.End = &e
	if p := x.getPerm(); !isIdentity(p) {
		op.Perm = invert(p)
	}
	ref, shape, err := c.emit1("", op, x.ref)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, nil, TypeInt64)
	out.sym = sym
	c.setOut(0, out)
	return nil
}

func sizeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	n := int64(1)
	for _, d := range x.onnxShape() {
		if d < 0 {
			return c.errf("the size of %s is known only at run time (fix the input sizes with InputShapes)", shapeText(x.onnxShape()))
		}
		n *= int64(d)
	}
	c.setOut(0, &tval{konst: &Data{Type: TypeInt64, Shape: []int{}, Int: []int64{n}, Float: []float32{float32(n)}}, dtype: TypeInt64})
	return nil
}

func expandOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	sv, err := c.need(1)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	tgt := sv.symOf()
	if tgt == nil {
		return c.errf("the shape (input 1) must be known at import or computed from shapes")
	}
	rx := x.rank()
	r := max(rx, len(tgt))
	// The target per output axis, as nn.Expand takes it: a known size, or
	// 1 where the input's own size is kept.
	want := make([]int, r)
	for i := range r {
		want[i] = 1
		j := i - (r - len(tgt))
		if j < 0 {
			continue
		}
		d := tgt[j]
		k := i - (r - rx)
		switch {
		case d.known:
			if d.v < 0 {
				return c.errf("shape %s has a negative entry", sdimText(tgt))
			}
			want[i] = int(d.v)
		case k >= 0 && x.onnxDim(k) == d:
			want[i] = 1
		default:
			return c.errf("shape entry %d of %s is known only at run time and is not the input's own size", j, sdimText(tgt))
		}
	}
	perm := padPerm(x.getPerm(), r)
	in, err := c.ref(x, perm)
	if err != nil {
		return err
	}
	dw := make([]int, r)
	for i, a := range perm {
		dw[i] = want[a]
	}
	ref, shape, err := c.emit1("", nn.NewExpand(dw...), in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, perm, x.dtype)
	broadcastDims(out, x)
	c.setOut(0, out)
	return nil
}

func tileOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	reps, err := c.intsIn(1, "repeats")
	if err != nil {
		return err
	}
	if len(reps) != x.rank() {
		return c.errf("%d repeats for rank %d", len(reps), x.rank())
	}
	p := x.getPerm()
	dr := make([]int, len(p))
	for i, a := range p {
		dr[i] = clampInt(reps[a])
	}
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("", nn.NewTile(dr...), in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, x.perm, x.dtype)
	m := identity(x.rank())
	for a, rp := range reps {
		if rp != 1 {
			m[a] = -1
		}
	}
	keepDims(out, x, m)
	c.setOut(0, out)
	return nil
}

func padOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if err := c.plain(x); err != nil {
		return err
	}
	mode, err := c.attrString("mode", "constant")
	if err != nil {
		return err
	}
	switch mode {
	case "constant", "reflect", "edge":
	default:
		return c.errf("mode %q is not supported (constant, reflect, edge)", mode)
	}
	var pads []int64
	var value float32
	if c.opset < 11 {
		var ok bool
		name := "pads"
		if c.opset < 2 {
			name = "paddings"
		}
		if pads, ok, err = c.attrInts(name); err != nil || !ok {
			return orErr(err, c.errf("pads is missing"))
		}
		if value, err = c.attrFloat("value", 0); err != nil {
			return err
		}
	} else {
		if pads, err = c.intsIn(1, "pads"); err != nil {
			return err
		}
		if v, _ := c.in(2); v != nil {
			d, err := c.konstIn(2, "constant_value")
			if err != nil {
				return err
			}
			if len(d.Float) != 1 {
				return c.errf("constant_value has %d values", len(d.Float))
			}
			value = d.Float[0]
		}
		if v, _ := c.in(3); v != nil {
			return c.errf("the axes input is not supported")
		}
	}
	r := x.rank()
	if len(pads) != 2*r {
		return c.errf("%d pads for rank %d", len(pads), r)
	}
	p := x.getPerm()
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	shape := c.shapes[in]
	// Negative pads crop: a Slice first.
	var starts, ends, axes []int
	dp := make([]int, 2*r)
	for i, a := range p {
		lo, hi := clampInt(pads[a]), clampInt(pads[r+a])
		if lo < 0 || hi < 0 {
			axes = append(axes, i)
			starts = append(starts, max(-lo, 0))
			end := math.MaxInt
			if hi < 0 {
				end = hi
			}
			ends = append(ends, end)
		}
		dp[i], dp[r+i] = max(lo, 0), max(hi, 0)
	}
	if len(axes) > 0 {
		if in, shape, err = c.emit1("crop", nn.NewSlice(starts, ends, axes, nil), in); err != nil {
			return err
		}
	}
	ref := in
	if slices.ContainsFunc(dp, func(v int) bool { return v != 0 }) {
		op := nn.NewPad(mode, dp...)
		op.Value = value
		if ref, shape, err = c.emit1("", op, in); err != nil {
			return err
		}
	}
	out := c.value(ref, shape, x.perm, x.dtype)
	m := identity(r)
	for a := range r {
		if pads[a] != 0 || pads[r+a] != 0 {
			m[a] = -1
		}
	}
	keepDims(out, x, m)
	c.setOut(0, out)
	return nil
}

func constantOfShapeOp(c *converter) error {
	shape, err := c.intsIn(0, "shape")
	if err != nil {
		return err
	}
	var fill float32
	dtype := int32(TypeFloat)
	if a := c.attr("value"); a != nil {
		if a.T == nil {
			return c.errf("value is not a tensor")
		}
		d, err := a.T.Decode(c.dir)
		if err != nil {
			return c.errf("%v", err)
		}
		if len(d.Float) != 1 {
			return c.errf("value has %d elements, want 1", len(d.Float))
		}
		fill, dtype = d.Float[0], d.Type
	}
	s := toInts(shape)
	n := 1
	for _, d := range s {
		if d < 0 || (d > 0 && n > maxConstElements/d) {
			return c.errf("shape %v: more than %d values", shape, maxConstElements)
		}
		n *= d
	}
	d := &Data{Type: dtype, Shape: s, Float: make([]float32, n)}
	for i := range d.Float {
		d.Float[i] = fill
	}
	if isInteger(dtype) {
		d.Int = make([]int64, n)
		for i := range d.Int {
			d.Int[i] = int64(fill)
		}
	}
	out := &tval{konst: d, dtype: dtype}
	c.setOut(0, out)
	return nil
}

func rangeOp(c *converter) error {
	var v [3]float64
	var dtype int32
	for i := range 3 {
		d, err := c.konstIn(i, []string{"start", "limit", "delta"}[i])
		if err != nil {
			return err
		}
		if len(d.Float) != 1 {
			return c.errf("%s is not a scalar", []string{"start", "limit", "delta"}[i])
		}
		v[i] = float64(d.Float[0])
		if d.Int != nil {
			v[i] = float64(d.Int[0])
		}
		dtype = d.Type
	}
	if v[2] == 0 {
		return c.errf("delta is 0")
	}
	n := int(max(math.Ceil((v[1]-v[0])/v[2]), 0))
	if !(float64(n) <= maxConstElements) {
		return c.errf("%d values", n)
	}
	d := &Data{Type: dtype, Shape: []int{n}, Float: make([]float32, n)}
	if isInteger(dtype) {
		d.Int = make([]int64, n)
	}
	for i := range n {
		x := v[0] + float64(i)*v[2]
		d.Float[i] = float32(x)
		if d.Int != nil {
			d.Int[i] = int64(x)
		}
	}
	c.setOut(0, &tval{konst: d, dtype: dtype})
	return nil
}

// depthToSpaceOp composes DepthToSpace and SpaceToDepth from reshapes
// and a transpose, as the ONNX specification defines them.
func depthToSpaceOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	bs, err := c.attrInt("blocksize", 0)
	if err != nil {
		return err
	}
	if bs < 1 || x.rank() != 4 {
		return c.errf("blocksize %d on rank %d (want >= 1 on 4-D)", bs, x.rank())
	}
	mode, err := c.attrString("mode", "DCR")
	if err != nil {
		return err
	}
	n, ch, h, w := x.onnxDim(0), x.onnxDim(1), x.onnxDim(2), x.onnxDim(3)
	b := known(bs)
	mul := func(a rdim, k int64) rdim {
		if a.known {
			return known(a.v * k)
		}
		return rdim{}
	}
	div := func(a rdim, k int64) (rdim, error) {
		if !a.known || a.v%k != 0 {
			return rdim{}, c.errf("channels %s are not known or not a multiple of %d", sdimText([]rdim{a}), k)
		}
		return known(a.v / k), nil
	}
	var steps []struct {
		shape []rdim
		perm  []int
	}
	if c.node.OpType == "DepthToSpace" {
		cc, err := div(ch, bs*bs)
		if err != nil {
			return err
		}
		if mode == "CRD" {
			steps = append(steps, struct {
				shape []rdim
				perm  []int
			}{[]rdim{n, cc, b, b, h, w}, []int{0, 1, 4, 2, 5, 3}})
		} else if mode == "DCR" {
			steps = append(steps, struct {
				shape []rdim
				perm  []int
			}{[]rdim{n, b, b, cc, h, w}, []int{0, 3, 4, 1, 5, 2}})
		} else {
			return c.errf("mode %q (want DCR or CRD)", mode)
		}
		v, err := c.reshapeVal(x, steps[0].shape)
		if err != nil {
			return err
		}
		v = transposeVal(v, steps[0].perm)
		if v, err = c.reshapeVal(v, []rdim{n, cc, mul(h, bs), mul(w, bs)}); err != nil {
			return err
		}
		c.setOut(0, v)
		return nil
	}
	if !h.known || !w.known || h.v%bs != 0 || w.v%bs != 0 {
		return c.errf("height and width must be known multiples of the block size %d", bs)
	}
	v, err := c.reshapeVal(x, []rdim{n, ch, known(h.v / bs), b, known(w.v / bs), b})
	if err != nil {
		return err
	}
	v = transposeVal(v, []int{0, 3, 5, 1, 2, 4})
	if v, err = c.reshapeVal(v, []rdim{n, mul(ch, bs*bs), known(h.v / bs), known(w.v / bs)}); err != nil {
		return err
	}
	c.setOut(0, v)
	return nil
}
