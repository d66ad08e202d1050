package onnx

import (
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Reshapes in a permuted layout. A reshape keeps the ONNX (row-major)
// order of the values; when the value is stored permuted, the same
// reshape can still be a view if it only splits and merges axes that lie
// next to each other, in order, in the stored layout (NHWC (N, H, W, C)
// to (N, H, W, g, C/g) is ShuffleNet's channel split). Otherwise the
// value is first stored in ONNX order (one Transpose). Dimensions known
// only at run time are tracked as symbols, so that a target computed
// from Shape (batch, -1) copies the batch size instead of fixing it.

// rdim is one dimension of a reshape: a known size, a symbol, or unknown.
type rdim = sdim

// transposeVal is ONNX Transpose: no data moves, only the layout.
func transposeVal(x *tval, perm []int) *tval {
	inv := invert(perm) // input axis a goes to output axis inv[a]
	p := x.getPerm()
	np := make([]int, len(p))
	for i, a := range p {
		np[i] = inv[a]
	}
	out := &tval{ref: x.ref, shape: x.shape, perm: np, dtype: x.dtype, views: nil}
	if isIdentity(np) {
		out.perm = nil
	}
	if x.konst != nil {
		t := transposeTensor(x.konst.Tensor(), perm)
		d := &Data{Type: x.konst.Type, Shape: t.Shape, Float: t.Data}
		if x.konst.Int != nil {
			d.Int = transposeInts(x.konst.Int, x.konst.Shape, perm)
		}
		out = &tval{konst: d, dtype: x.dtype}
	}
	out.dims = make([]int, len(perm))
	for i, a := range perm {
		if a < len(x.dims) {
			out.dims[i] = x.dims[a]
		}
	}
	return out
}

func transposeInts(v []int64, shape, perm []int) []int64 {
	idx := &tensor.Tensor{Shape: shape, Data: make([]float32, len(v))}
	for i := range v {
		idx.Data[i] = float32(i)
	}
	t := transposeTensor(idx, perm)
	out := make([]int64, len(v))
	for i, k := range t.Data {
		out[i] = v[int(k)]
	}
	return out
}

// reshapeVal reshapes x to target (ONNX order; an entry may be a known
// size, a symbol or unknown, which is inferred).
func (c *converter) reshapeVal(x *tval, target []rdim) (*tval, error) {
	if err := c.plain(x); err != nil {
		return nil, err
	}
	xs := x.onnxShape()
	xd := make([]rdim, len(xs))
	inKnown := true
	prodIn := int64(1)
	for i := range xs {
		xd[i] = x.onnxDim(i)
		if xd[i].known {
			prodIn *= xd[i].v
		} else {
			inKnown = false
		}
	}
	out := slices.Clone(target)
	// Resolve one unknown entry from the totals.
	unk := []int{}
	prodOut := int64(1)
	for j, d := range out {
		switch {
		case d.known:
			prodOut *= d.v
		case d.id == 0:
			unk = append(unk, j)
		}
	}
	if len(unk) > 1 {
		// Symbols that match the input's cancel; what remains must be
		// one unknown.
		return nil, c.errf("reshape of %s to %s: more than one dimension is unknown at import (fix the input sizes with InputShapes)", shapeText(xs), sdimText(target))
	}
	if len(unk) == 1 {
		if inKnown && !hasIDs(out) {
			if prodOut == 0 || prodIn%prodOut != 0 {
				return nil, c.errf("cannot reshape %s (%d values) to %s", shapeText(xs), prodIn, sdimText(target))
			}
			out[unk[0]] = known(prodIn / prodOut)
		} else if v, ok := solveByIDs(xd, out, unk[0]); ok {
			out[unk[0]] = v
		}
	}
	if inKnown && allKnownDims(out) {
		var n int64 = 1
		for _, d := range out {
			n *= d.v
		}
		if n != prodIn {
			return nil, c.errf("cannot reshape %s (%d values) to %s (%d)", shapeText(xs), prodIn, sdimText(out), n)
		}
	}
	if x.ref == "" {
		// A constant: the values do not move.
		shape := make([]int, len(out))
		for i, d := range out {
			if !d.known {
				return nil, c.errf("reshape of a constant to an unknown size")
			}
			shape[i] = int(d.v)
		}
		nd := *x.konst
		nd.Shape = shape
		return &tval{konst: &nd, dtype: x.dtype, sym: x.symOf()}, nil
	}
	if p := x.getPerm(); !isIdentity(p) {
		if v, ok, err := c.reshapePermuted(x, xd, out); err != nil || ok {
			return v, err
		}
		if v, ok, err := c.flattenFeat(x, xd, out); err != nil || ok {
			return v, err
		}
		// Store the value with each group of axes in order, the groups
		// where they are (one transpose, often of a few inner axes), and
		// reshape that.
		if q, ok := groupLayout(x, xd, out); ok {
			ref, err := c.ref(x, q)
			if err != nil {
				return nil, err
			}
			y := &tval{ref: ref, shape: c.shapes[ref], perm: q, dtype: x.dtype, dims: x.dims}
			if v, ok, err := c.reshapePermuted(y, xd, out); err != nil || ok {
				return v, err
			}
		}
	}
	// In ONNX order.
	ref, err := c.ref(x, identity(len(xs)))
	if err != nil {
		return nil, err
	}
	return c.emitReshape(ref, x.shapeIn(identity(len(xs))), xd, out, identity(len(out)), x.dtype)
}

// shapeIn is x's shape in layout perm.
func (x *tval) shapeIn(perm []int) []int {
	s := x.onnxShape()
	out := make([]int, len(perm))
	for i, a := range perm {
		out[i] = s[a]
	}
	return out
}

func hasIDs(s []rdim) bool {
	for _, d := range s {
		if !d.known && d.id > 0 {
			return true
		}
	}
	return false
}

func allKnownDims(s []rdim) bool {
	for _, d := range s {
		if !d.known {
			return false
		}
	}
	return true
}

// solveByIDs finds the unknown entry k of out when the symbols of in and
// out pair up and the known sizes leave one quotient.
func solveByIDs(in, out []rdim, k int) (rdim, bool) {
	count := map[int]int{}
	pin, pout := int64(1), int64(1)
	for _, d := range in {
		if d.known {
			pin *= d.v
		} else if d.id > 0 {
			count[d.id]++
		} else {
			return rdim{}, false
		}
	}
	for j, d := range out {
		if j == k {
			continue
		}
		if d.known {
			pout *= d.v
		} else if d.id > 0 {
			count[d.id]--
		}
	}
	var left []int
	for id, n := range count {
		if n < 0 {
			return rdim{}, false
		}
		for range n {
			left = append(left, id)
		}
	}
	switch {
	case len(left) == 0 && pout > 0 && pin%pout == 0:
		return known(pin / pout), true
	case len(left) == 1 && pin == pout:
		return rdim{id: left[0]}, true
	}
	return rdim{}, false
}

func sdimText(s []rdim) string {
	b := []byte{'('}
	for i, d := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		switch {
		case d.known:
			b = append(b, []byte(itoa(d.v))...)
		case d.id > 0:
			b = append(b, 'd')
			b = append(b, []byte(itoa(int64(d.id)))...)
		default:
			b = append(b, '?')
		}
	}
	return string(append(b, ')'))
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// emitReshape emits a Reshape of ref (dlcv shape from, whose ONNX axes in
// layout order have the dims fromDims) to the ONNX dims out stored in
// layout outPerm.
func (c *converter) emitReshape(ref string, from []int, fromDims []rdim, out []rdim, outPerm []int, dtype int32) (*tval, error) {
	r := len(out)
	spec := make([]int, r)
	infer := false
	for k, a := range outPerm {
		d := out[a]
		switch {
		case d.known:
			spec[k] = int(d.v)
			if d.v == 0 {
				// An empty axis must not read as "copy".
				if k < len(from) && from[k] == 0 {
					continue
				}
				return nil, c.errf("reshape to an empty axis is not supported")
			}
		case d.id > 0 && k < len(fromDims) && fromDims[k].id == d.id:
			spec[k] = 0 // the same symbol at the same index: copy it
		case !infer:
			spec[k], infer = -1, true
		default:
			return nil, c.errf("reshape to %s: more than one dimension is known only at run time and cannot be copied (fix the input sizes with InputShapes)", sdimText(out))
		}
	}
	nref, shape, err := c.emit1("", nn.NewReshape(spec...), ref)
	if err != nil {
		return nil, err
	}
	v := c.value(nref, shape, outPerm, dtype)
	v.dims = make([]int, r)
	for a, d := range out {
		if !d.known {
			v.dims[a] = d.id
			if d.id == 0 {
				v.dims[a] = c.newDim()
			}
		}
	}
	return v, nil
}

// group is a run of input axes that become a run of output axes.
type group struct{ in, out []int }

// groups pairs x's ONNX axes with the target's: symbols match one to one,
// known sizes merge and split by products. Axes of size 1 are left out
// (they go anywhere). ok is false when the axes do not pair up.
func groups(in, out []rdim) ([]group, bool) {
	var ia, oa []int
	for i, d := range in {
		if !(d.known && d.v == 1) {
			ia = append(ia, i)
		}
	}
	for j, d := range out {
		if !(d.known && d.v == 1) {
			oa = append(oa, j)
		}
	}
	var gs []group
	i, j := 0, 0
	for i < len(ia) || j < len(oa) {
		if i == len(ia) || j == len(oa) {
			return nil, false
		}
		a, b := in[ia[i]], out[oa[j]]
		if !a.known || !b.known {
			if a.known || b.known || a.id == 0 || a.id != b.id {
				return nil, false
			}
			gs = append(gs, group{in: []int{ia[i]}, out: []int{oa[j]}})
			i++
			j++
			continue
		}
		g := group{}
		pin, pout := int64(1), int64(1)
		for {
			if len(g.in) == 0 || (pin < pout && i < len(ia)) {
				if i == len(ia) || !in[ia[i]].known {
					return nil, false
				}
				pin *= in[ia[i]].v
				g.in = append(g.in, ia[i])
				i++
				continue
			}
			if len(g.out) == 0 || pout < pin {
				if j == len(oa) || !out[oa[j]].known {
					return nil, false
				}
				pout *= out[oa[j]].v
				g.out = append(g.out, oa[j])
				j++
				continue
			}
			break
		}
		if pin != pout {
			return nil, false
		}
		gs = append(gs, g)
	}
	return gs, true
}

// reshapePermuted does the reshape in x's own layout when the groups of
// axes are stored in order; ok is false when they are not.
func (c *converter) reshapePermuted(x *tval, xd, out []rdim) (*tval, bool, error) {
	gs, ok := groups(xd, out)
	if !ok {
		return nil, false, nil
	}
	p := x.getPerm()
	pos := invert(p) // dlcv position of each ONNX axis
	// Each group's input axes must sit in increasing order with no other
	// (non-1) axis between them.
	type placed struct {
		first int
		g     group
	}
	var ps []placed
	for _, g := range gs {
		for k := 1; k < len(g.in); k++ {
			a, b := pos[g.in[k-1]], pos[g.in[k]]
			if b <= a {
				return nil, false, nil
			}
			for q := a + 1; q < b; q++ {
				if x.shape[q] != 1 {
					return nil, false, nil
				}
			}
		}
		ps = append(ps, placed{pos[g.in[0]], g})
	}
	slices.SortFunc(ps, func(a, b placed) int { return a.first - b.first })
	var order []int // non-1 output axes in stored order
	for _, pl := range ps {
		order = append(order, pl.g.out...)
	}
	var ones []int
	for j, d := range out {
		if d.known && d.v == 1 {
			ones = append(ones, j)
		}
	}
	np := placeOnes(order, ones, len(out))
	v, err := c.emitReshape(x.ref, x.shape, layoutDims(xd, p), out, np, x.dtype)
	if err != nil {
		return nil, false, nil // fall back to ONNX order
	}
	return v, true, nil
}

// groupLayout returns the layout closest to x's in which every group of
// the reshape has its axes adjacent and in order: the groups ordered by
// where their first stored axis is, size-1 axes where they were.
func groupLayout(x *tval, xd, out []rdim) ([]int, bool) {
	gs, ok := groups(xd, out)
	if !ok {
		return nil, false
	}
	p := x.getPerm()
	pos := invert(p)
	type placed struct {
		at int
		in []int
	}
	var ps []placed
	for _, g := range gs {
		at := len(p)
		for _, a := range g.in {
			at = min(at, pos[a])
		}
		ps = append(ps, placed{at, g.in})
	}
	slices.SortFunc(ps, func(a, b placed) int { return a.at - b.at })
	var order []int
	for _, pl := range ps {
		order = append(order, pl.in...)
	}
	var ones []int
	for a, d := range xd {
		if d.known && d.v == 1 {
			ones = append(ones, a)
		}
	}
	return placeOnes(order, ones, len(p)), true
}

// layoutDims lists ONNX dims in layout order.
func layoutDims(d []rdim, perm []int) []rdim {
	out := make([]rdim, len(perm))
	for i, a := range perm {
		out[i] = d[a]
	}
	return out
}

// placeOnes returns a layout of rank r whose non-1 axes come in order and
// whose size-1 axes (ones) go where they make the layout the identity
// or channels-last, if possible, else after their ONNX predecessor.
func placeOnes(order, ones []int, r int) []int {
	for _, cand := range [][]int{identity(r), channelsLast(r)} {
		var f []int
		for _, a := range cand {
			if !slices.Contains(ones, a) {
				f = append(f, a)
			}
		}
		if slices.Equal(f, order) {
			return cand
		}
	}
	res := slices.Clone(order)
	for _, o := range ones {
		at := 0
		for k, a := range res {
			if a < o {
				at = k + 1
			}
		}
		res = slices.Insert(res, at, o)
	}
	return res
}

// flattenFeat handles a (N, ...) -> (N, K) flatten of a permuted value
// whose axes are not in order (an NHWC activation before a classifier):
// the stored values are flattened as they are (a view) and the column
// order is recorded, so that a Gemm with constant weights permutes its
// weight rows once instead of the activation on every call.
func (c *converter) flattenFeat(x *tval, xd, out []rdim) (*tval, bool, error) {
	p := x.getPerm()
	if len(out) != 2 || p[0] != 0 || len(xd) < 2 {
		return nil, false, nil
	}
	if !(out[0] == xd[0] || (out[0].known && xd[0].known && out[0].v == xd[0].v)) {
		return nil, false, nil
	}
	xs := x.onnxShape()
	k := 1
	for _, d := range xs[1:] {
		if d < 0 {
			return nil, false, nil
		}
		k *= d
	}
	if !out[1].known || out[1].v != int64(k) || k > 1<<24 {
		return nil, false, nil
	}
	// ONNX row-major strides of the flattened axes.
	r := len(xs)
	str := make([]int, r)
	s := 1
	for a := r - 1; a >= 1; a-- {
		str[a] = s
		s *= xs[a]
	}
	feat := make([]int, 0, k)
	cnt := make([]int, r) // over stored axes 1..r-1
	for range k {
		col := 0
		for i := 1; i < r; i++ {
			col += cnt[i] * str[p[i]]
		}
		feat = append(feat, col)
		for i := r - 1; i >= 1; i-- {
			if cnt[i]++; cnt[i] < x.shape[i] {
				break
			}
			cnt[i] = 0
		}
	}
	ref, shape, err := c.emit1("", nn.NewReshape(0, k), x.ref)
	if err != nil {
		return nil, false, err
	}
	v := c.value(ref, shape, nil, x.dtype)
	v.feat = feat
	v.dims = []int{0, 0}
	if !out[0].known {
		v.dims[0] = out[0].id
	}
	return v, true, nil
}
