package onnx

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The converter walks an ONNX graph node by node (ONNX lists nodes in
// topological order) and emits nn ops. Every ONNX tensor becomes a tval:
// a reference to a dlcv value plus its layout, a permutation of the ONNX
// axes (perm[i] is the ONNX axis that dlcv axis i holds), so an NCHW
// activation lives as NHWC and a Transpose costs nothing at all (it only
// changes the permutation). Constants stay at import time (they are
// emitted as Constant nodes, in the layout their reader wants, only when
// an op reads them as a graph value), and so do the small integer
// tensors of shape arithmetic (Shape -> Gather -> Concat -> Reshape):
// they are tracked element by element, each a known value or a symbolic
// dimension, so that a Reshape with a computed shape becomes a static
// nn.Reshape that still accepts any batch or image size.

// sdim is one element of a shape-like integer tensor: a known value, a
// symbolic dimension (id > 0), or unknown.
type sdim struct {
	v     int64
	id    int
	known bool
}

func known(v int64) sdim { return sdim{v: v, known: true} }

// tval is the importer's record of one ONNX tensor.
type tval struct {
	name  string
	ref   string // the dlcv value; "" for a constant not emitted yet
	shape []int  // dlcv shape (in dlcv axis order), -1 where unknown
	perm  []int  // dlcv axis i holds ONNX axis perm[i]; nil is the identity
	dtype int32
	konst *Data  // the value (ONNX layout), when known at import
	sym   []sdim // shape-like integer vectors (rank <= 1): per element
	dims  []int  // per ONNX axis: a symbolic dimension id, 0 when none
	// feat: a rank-2 value (N, K) whose columns are stored permuted:
	// dlcv column i holds ONNX column feat[i]. A Flatten of an NHWC
	// activation gives it; a Gemm with constant weights permutes its
	// weight rows instead of the activation.
	feat []int
	// views caches the value in other layouts (key: the permutation).
	views map[string]string
}

func identity(r int) []int {
	p := make([]int, r)
	for i := range p {
		p[i] = i
	}
	return p
}

func isIdentity(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

func invert(p []int) []int {
	q := make([]int, len(p))
	for i, v := range p {
		q[v] = i
	}
	return q
}

func permKey(p []int) string {
	var b strings.Builder
	for i, v := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
	}
	return b.String()
}

// channelsLast is the perm that stores an ONNX (N, C, D1, ...) tensor as
// (N, D1, ..., C).
func channelsLast(r int) []int {
	if r < 3 {
		return identity(r)
	}
	p := []int{0}
	for i := 2; i < r; i++ {
		p = append(p, i)
	}
	return append(p, 1)
}

// rank is the ONNX rank.
func (v *tval) rank() int {
	if v.konst != nil && v.ref == "" {
		return len(v.konst.Shape)
	}
	return len(v.shape)
}

// getPerm returns the layout (identity when unset).
func (v *tval) getPerm() []int {
	if v.perm == nil {
		return identity(v.rank())
	}
	return v.perm
}

// onnxShape returns the ONNX shape (-1 where unknown).
func (v *tval) onnxShape() []int {
	if v.konst != nil {
		return slices.Clone(v.konst.Shape)
	}
	p := v.getPerm()
	s := make([]int, len(p))
	for i, a := range p {
		s[a] = v.shape[i]
	}
	return s
}

// isInt reports whether the tensor holds integers or bools.
func (v *tval) isInt() bool { return isInteger(v.dtype) }

// enode is an emitted node.
type enode struct {
	name   string
	op     nn.Op
	inputs []string
	nout   int
}

// converter holds the state of one import.
type converter struct {
	path    string // the model file, for errors
	dir     string
	opset   int64
	opts    Options
	vals    map[string]*tval
	nodes   []*enode
	byName  map[string]*enode
	names   map[string]bool
	shapes  map[string][]int // dlcv shape of every emitted value
	dimIDs  map[string]int   // dim_param -> id
	nextDim int
	node    *NodeProto // the node being converted
	nodeIdx int
	// producers maps each value name to the node that makes it (fusion
	// patterns walk back through it).
	producers map[string]*NodeProto
	// uses counts the readers of each value (nodes and graph outputs).
	uses map[string]int
	// NoFuse turns the import-time fusions off (tests of the unfused
	// ops).
	noFuse bool
	// inputs and outputs of the graph, as the importer made them.
	inputs  []*ioVal
	outputs []*ioVal
}

type ioVal struct {
	info IOInfo
	ref  string
}

// errf returns an error naming the node being converted, its op and the
// opset.
func (c *converter) errf(format string, args ...any) error {
	n := c.node
	name := n.Name
	if name == "" && len(n.Outputs) > 0 {
		name = n.Outputs[0]
	}
	return fmt.Errorf("node %d %q (%s, opset %d): %s", c.nodeIdx, name, n.OpType, c.opset, fmt.Sprintf(format, args...))
}

// newDim returns a fresh symbolic dimension id.
func (c *converter) newDim() int {
	c.nextDim++
	return c.nextDim
}

// sanitize makes an ONNX name usable as a node name (no ':').
func sanitize(s string) string {
	s = strings.ReplaceAll(s, ":", "_")
	if s == "" {
		s = "node"
	}
	return s
}

// uniqueName returns base, or base_k, not used yet.
func (c *converter) uniqueName(base string) string {
	base = sanitize(base)
	name := base
	for k := 1; c.names[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	c.names[name] = true
	return name
}

// baseName is the name new nodes of the current node derive from.
func (c *converter) baseName() string {
	if c.node == nil {
		return "const"
	}
	if c.node.Name != "" {
		return c.node.Name
	}
	if len(c.node.Outputs) > 0 && c.node.Outputs[0] != "" {
		return c.node.Outputs[0]
	}
	return c.node.OpType
}

// emit adds a node running op on the values ins and returns its output
// references and dlcv shapes. suffix distinguishes helper nodes
// ("transpose") from the node's main op ("").
func (c *converter) emit(suffix string, op nn.Op, ins ...string) ([]string, [][]int, error) {
	shapes := make([][]int, len(ins))
	for i, r := range ins {
		s, ok := c.shapes[r]
		if !ok {
			return nil, nil, fmt.Errorf("internal error: value %q has no shape", r)
		}
		shapes[i] = s
	}
	outs, err := op.Shapes(shapes)
	if err != nil {
		return nil, nil, c.errf("%s on %s: %v", op.Kind(), shapeList(shapes), err)
	}
	base := c.baseName()
	if suffix != "" {
		base += "/" + suffix
	}
	name := c.uniqueName(base)
	n := &enode{name: name, op: op, inputs: slices.Clone(ins), nout: len(outs)}
	c.nodes = append(c.nodes, n)
	c.byName[name] = n
	refs := make([]string, len(outs))
	for i, s := range outs {
		refs[i] = name
		if i > 0 {
			refs[i] = name + ":" + strconv.Itoa(i)
		}
		c.shapes[refs[i]] = s
	}
	return refs, outs, nil
}

// emit1 is emit for single-output ops.
func (c *converter) emit1(suffix string, op nn.Op, ins ...string) (string, []int, error) {
	refs, shapes, err := c.emit(suffix, op, ins...)
	if err != nil {
		return "", nil, err
	}
	return refs[0], shapes[0], nil
}

func shapeList(s [][]int) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = strings.ReplaceAll(tensor.ShapeString(x), "-1", "?")
	}
	return strings.Join(parts, ", ")
}

// constData returns a constant's values in dlcv layout perm (its ONNX
// shape permuted).
func permuteData(d *Data, perm []int) *tensor.Tensor {
	t := d.Tensor()
	if perm == nil || isIdentity(perm) {
		return t
	}
	return transposeTensor(t, perm)
}

// transposeTensor returns t with output axis i = input axis perm[i].
func transposeTensor(t *tensor.Tensor, perm []int) *tensor.Tensor { return transposeInto(nil, t, perm) }

// transposeInto is transposeTensor writing into y's storage where it is
// large enough (y may be nil), and returns the result.
func transposeInto(y *tensor.Tensor, t *tensor.Tensor, perm []int) *tensor.Tensor {
	r := len(t.Shape)
	out := make([]int, r)
	for i, a := range perm {
		out[i] = t.Shape[a]
	}
	if n := tensor.Numel(out); y != nil && cap(y.Data) >= n {
		y = &tensor.Tensor{Shape: out, Data: y.Data[:n]}
	} else {
		y = tensor.New(out...)
	}
	if len(y.Data) == 0 {
		return y
	}
	// The engine's Transpose (tiled and parallel where the permutation
	// is a batch of matrix transposes, as NCHW <-> NHWC at every run's
	// inputs and outputs); the walk below only where its plan refuses
	// the shape (more than 8 axes left after merging adjacent ones).
	if err := nn.NewTranspose(perm...).Forward(&nn.Call{}, []*tensor.Tensor{t}, []*tensor.Tensor{y}); err == nil {
		return y
	}
	instr := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		instr[i] = s
		s *= t.Shape[i]
	}
	cnt := make([]int, r)
	for o := range y.Data {
		off := 0
		for i := range r {
			off += cnt[i] * instr[perm[i]]
		}
		y.Data[o] = t.Data[off]
		for i := r - 1; i >= 0; i-- {
			if cnt[i]++; cnt[i] < out[i] {
				break
			}
			cnt[i] = 0
		}
	}
	return y
}

// constRef emits (once per layout) a constant's value as a Constant node
// in layout perm, padded with leading size-1 axes to rank r (for
// broadcasting against a higher-rank operand).
func (c *converter) constRef(v *tval, perm []int) (string, error) {
	key := "const:" + permKey(perm)
	if ref, ok := v.views[key]; ok {
		return ref, nil
	}
	t := permuteData(v.konst, perm)
	name := c.uniqueName(sanitize(v.name))
	k := nn.NewConstant(t)
	n := &enode{name: name, op: k, nout: 1}
	c.nodes = append(c.nodes, n)
	c.byName[name] = n
	c.shapes[name] = slices.Clone(t.Shape)
	if v.views == nil {
		v.views = map[string]string{}
	}
	v.views[key] = name
	return name, nil
}

// padRank returns v's layout and shape with leading size-1 ONNX axes
// added up to rank r: the view broadcasting aligns (the new axes lead in
// both orders).
func padPerm(p []int, r int) []int {
	k := r - len(p)
	if k <= 0 {
		return p
	}
	q := identity(k)
	for _, a := range p {
		q = append(q, a+k)
	}
	return q
}

// ref returns a reference to v's data stored in layout perm (ONNX axes
// of v, or of v padded with leading axes when len(perm) is larger).
// Layouts that differ only in where size-1 axes sit are views (a
// Reshape); others are a Transpose, made once per layout.
func (c *converter) ref(v *tval, perm []int) (string, error) {
	if v.feat != nil {
		if err := c.plain(v); err != nil {
			return "", err
		}
	}
	if v.ref == "" {
		if v.konst == nil {
			return "", c.errf("internal error: tensor %q has no value", v.name)
		}
		r := len(perm)
		d := v.konst
		if r > len(d.Shape) {
			s := make([]int, r-len(d.Shape), r)
			for i := range s {
				s[i] = 1
			}
			d = &Data{Type: d.Type, Shape: append(s, d.Shape...), Float: d.Float, Int: d.Int}
		}
		tmp := *v
		tmp.konst = d
		ref, err := c.constRef(&tmp, perm)
		if tmp.views != nil && v.views == nil {
			v.views = tmp.views
		}
		return ref, err
	}
	cur := v.getPerm()
	r := len(perm)
	base, shape := v.ref, v.shape
	if r > len(cur) {
		// Leading size-1 axes (broadcasting against a higher rank).
		k := r - len(cur)
		cur = padPerm(cur, r)
		var err error
		if base, shape, err = c.emit1("unsqueeze", nn.NewUnsqueeze(identity(k)...), base); err != nil {
			return "", err
		}
	}
	if slices.Equal(cur, perm) {
		return base, nil
	}
	key := permKey(perm)
	if ref, ok := v.views[key]; ok {
		return ref, nil
	}
	// t[i]: the axis of the current layout that goes to position i.
	inv := invert(cur)
	t := make([]int, r)
	out := make([]int, r)
	for i, a := range perm {
		t[i] = inv[a]
		out[i] = shape[inv[a]]
	}
	var ref string
	var err error
	if onlyOnesMove(shape, t) {
		ref, err = c.reshapeTo(base, shape, t)
	}
	if ref == "" || err != nil {
		ref, _, err = c.emit1("transpose", nn.NewTranspose(t...), base)
	}
	if err != nil {
		return "", err
	}
	if v.views == nil {
		v.views = map[string]string{}
	}
	v.views[key] = ref
	return ref, nil
}

// onlyOnesMove reports whether transposing a tensor of shape s by t only
// moves axes of size 1 (so it is a reshape).
func onlyOnesMove(s, t []int) bool {
	last := -1
	for _, a := range t {
		if s[a] == 1 {
			continue
		}
		if a < last {
			return false
		}
		last = a
	}
	return true
}

// reshapeTo emits a view of ref (dlcv shape from) whose axis i is axis
// t[i] of from, where only size-1 axes move (so the values keep their
// order): known dimensions literally, unknown ones copied (0) where they
// stay at their index, else one inferred (-1).
func (c *converter) reshapeTo(ref string, from, t []int) (string, error) {
	if isIdentity(t) {
		return ref, nil
	}
	spec := make([]int, len(t))
	infer := false
	for i, a := range t {
		d := from[a]
		switch {
		case d > 0:
			spec[i] = d
		case d == 0:
			return "", c.errf("cannot reshape %s: an empty dimension", shapeText(from))
		case a == i:
			spec[i] = 0
		case !infer:
			spec[i], infer = -1, true
		default:
			return "", c.errf("cannot reshape %s: more than one unknown dimension moves", shapeText(from))
		}
	}
	r, _, err := c.emit1("reshape", nn.NewReshape(spec...), ref)
	return r, err
}

func shapeText(s []int) string { return strings.ReplaceAll(tensor.ShapeString(s), "-1", "?") }

// plain materialises a value whose columns are stored permuted (feat):
// a Gather puts them back in ONNX order.
func (c *converter) plain(v *tval) error {
	if v.feat == nil {
		return nil
	}
	inv := invert(v.feat)
	idx := make([]float32, len(inv))
	for i, p := range inv {
		idx[i] = float32(p)
	}
	k := &tval{name: v.name + "/order", konst: &Data{Type: TypeInt64, Shape: []int{len(idx)}, Float: idx}}
	kref, err := c.ref(k, []int{0})
	if err != nil {
		return err
	}
	ref, shape, err := c.emit1("order", nn.NewGather(1), v.ref, kref)
	if err != nil {
		return err
	}
	v.ref, v.shape, v.feat, v.views = ref, shape, nil, nil
	return nil
}

// in returns input i of the current node (nil when absent: an optional
// input left empty).
func (c *converter) in(i int) (*tval, error) {
	if i >= len(c.node.Inputs) || c.node.Inputs[i] == "" {
		return nil, nil
	}
	v := c.vals[c.node.Inputs[i]]
	if v == nil {
		return nil, c.errf("input %d %q is not produced by any earlier node, initializer or graph input", i, c.node.Inputs[i])
	}
	return v, nil
}

// need returns input i, which must be present.
func (c *converter) need(i int) (*tval, error) {
	v, err := c.in(i)
	if err == nil && v == nil {
		err = c.errf("input %d is missing", i)
	}
	return v, err
}

// nin is the number of inputs given (trailing empty ones dropped).
func (c *converter) nin() int {
	n := len(c.node.Inputs)
	for n > 0 && c.node.Inputs[n-1] == "" {
		n--
	}
	return n
}

// konstIn returns input i's value, which must be known at import (an
// initializer, a Constant, or computed from them).
func (c *converter) konstIn(i int, what string) (*Data, error) {
	v, err := c.need(i)
	if err != nil {
		return nil, err
	}
	if v.konst == nil {
		return nil, c.errf("%s (input %d %q) must be constant (an initializer or computed from them); it is computed at run time", what, i, v.name)
	}
	return v.konst, nil
}

// setOut records output i of the current node.
func (c *converter) setOut(i int, v *tval) {
	if i >= len(c.node.Outputs) || c.node.Outputs[i] == "" {
		return
	}
	v.name = c.node.Outputs[i]
	if v.dims == nil {
		v.dims = c.freshDims(v)
	}
	c.vals[v.name] = v
}

// freshDims gives every unknown ONNX dimension a new symbolic id.
func (c *converter) freshDims(v *tval) []int {
	s := v.onnxShape()
	d := make([]int, len(s))
	for i, x := range s {
		if x < 0 {
			d[i] = c.newDim()
		}
	}
	return d
}

// value makes a tval for an emitted value in layout perm.
func (c *converter) value(ref string, shape, perm []int, dtype int32) *tval {
	if perm != nil && isIdentity(perm) {
		perm = nil
	}
	return &tval{ref: ref, shape: shape, perm: perm, dtype: dtype}
}

// keepDims copies the symbolic ids of in's ONNX axes to out's where the
// axis maps (m[i] is the input axis of output axis i, -1 for none).
func keepDims(out, in *tval, m []int) {
	s := out.onnxShape()
	out.dims = make([]int, len(s))
	for i, a := range m {
		if a >= 0 && a < len(in.dims) && s[i] < 0 {
			out.dims[i] = in.dims[a]
		}
	}
}

// sameDims: out has in's ONNX shape (an element-wise op).
func sameDims(out, in *tval) {
	out.dims = slices.Clone(in.dims)
}

// onnxDim returns ONNX axis a of v as an sdim (known size or id).
func (v *tval) onnxDim(a int) sdim {
	s := v.onnxShape()
	if s[a] >= 0 {
		return known(int64(s[a]))
	}
	if a < len(v.dims) && v.dims[a] > 0 {
		return sdim{id: v.dims[a]}
	}
	return sdim{}
}

// symOf returns the elements of a shape-like integer vector (rank 0 or
// 1): known values for constants, tracked ones otherwise; nil when not
// tracked.
func (v *tval) symOf() []sdim {
	if v.konst != nil {
		if len(v.konst.Shape) > 1 {
			return nil
		}
		s := make([]sdim, len(v.konst.Float))
		for i := range s {
			if v.konst.Int != nil {
				s[i] = known(v.konst.Int[i])
			} else {
				f := float64(v.konst.Float[i])
				if f != math.Trunc(f) {
					return nil
				}
				s[i] = known(int64(f))
			}
		}
		return s
	}
	return v.sym
}

// allKnown returns the values when every element is known.
func allKnown(s []sdim) ([]int64, bool) {
	out := make([]int64, len(s))
	for i, d := range s {
		if !d.known {
			return nil, false
		}
		out[i] = d.v
	}
	return out, s != nil
}

// intsIn returns input i as integers, known at import: a constant or a
// shape computation whose values are all known.
func (c *converter) intsIn(i int, what string) ([]int64, error) {
	v, err := c.need(i)
	if err != nil {
		return nil, err
	}
	if vals, ok := allKnown(v.symOf()); ok {
		return vals, nil
	}
	return nil, c.errf("%s (input %d %q) must be known at import (a constant or a shape computation of known sizes); it depends on the data or on sizes known only at run time", what, i, v.name)
}

func toInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = clampInt(x)
	}
	return out
}

// clampInt converts an int64 to int, saturating (INT64_MAX ends).
func clampInt(x int64) int {
	if x > math.MaxInt {
		return math.MaxInt
	}
	if x < math.MinInt {
		return math.MinInt
	}
	return int(x)
}

// normAxis resolves an ONNX axis for rank r.
func (c *converter) normAxis(a int64, r int) (int, error) {
	k := a
	if k < 0 {
		k += int64(r)
	}
	if k < 0 || k >= int64(r) {
		return 0, c.errf("axis %d is out of range for rank %d", a, r)
	}
	return int(k), nil
}

// dlcvAxis is the dlcv position of ONNX axis a of v.
func (v *tval) dlcvAxis(a int) int {
	if v.perm == nil {
		return a
	}
	return invert(v.perm)[a]
}
