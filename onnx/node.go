package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// opDef is how the importer converts one ONNX op.
type opDef struct {
	// since is the first opset whose version of the op the handler
	// implements (the default domain's opsets MinOpset to MaxOpset).
	since int64
	fn    func(c *converter) error
	// random ops (none yet) must not be folded at import.
	random bool
}

// opTable maps op types of the default domain to their handlers; it is
// filled by the ops_*.go files.
var opTable = map[string]opDef{}

func register(since int64, fn func(c *converter) error, ops ...string) {
	for _, op := range ops {
		if _, dup := opTable[op]; dup {
			panic("onnx: op " + op + " registered twice")
		}
		opTable[op] = opDef{since: since, fn: fn}
	}
}

// Supported reports whether the importer converts op of domain at opset.
func Supported(domain, op string, opset int64) bool {
	if domain != "" && domain != "ai.onnx" {
		return false
	}
	d, ok := opTable[op]
	return ok && opset >= d.since
}

// SupportedOps lists the op types the importer converts, sorted.
func SupportedOps() []string {
	ops := make([]string, 0, len(opTable))
	for op := range opTable {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// maxConstElements bounds a tensor the importer makes at import time
// (ConstantOfShape, Range, a folded node): 256 MiB of float32.
const maxConstElements = 1 << 26

// convertNode converts one node. A node whose inputs are all known at
// import is evaluated at once: its outputs become constants.
func (c *converter) convertNode(n *NodeProto) error {
	def := opTable[n.OpType]
	if def.fn == nil {
		return c.errf("unsupported op")
	}
	consts := true
	present := 0
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		present++
		v, err := c.in(i)
		if err != nil {
			return err
		}
		consts = consts && v.konst != nil
	}
	start := len(c.nodes)
	if !consts && !c.noFuse {
		if ok, err := c.fuse(n); err != nil || ok {
			return err
		}
	}
	if err := def.fn(c); err != nil {
		return err
	}
	if !consts || present == 0 || def.random {
		return nil
	}
	// Fold: evaluate what the handler emitted.
	memo := map[string]*tensor.Tensor{}
	for _, name := range n.Outputs {
		v := c.vals[name]
		if name == "" || v == nil || v.konst != nil {
			continue
		}
		if err := c.plain(v); err != nil {
			return err
		}
		t, err := c.eval(v.ref, memo)
		if err != nil {
			return c.errf("evaluating at import: %v", err)
		}
		d := &Data{Name: name, Type: v.dtype, Shape: t.Shape, Float: t.Data}
		if p := v.getPerm(); !isIdentity(p) {
			ot := transposeTensor(t, invert(p))
			d.Shape, d.Float = ot.Shape, ot.Data
		}
		if isInteger(d.Type) {
			d.Int = make([]int64, len(d.Float))
			for i, f := range d.Float {
				d.Int[i] = int64(math.Trunc(float64(f)))
			}
		}
		dims := v.dims
		*v = tval{name: name, konst: d, dtype: v.dtype, dims: dims}
	}
	// The emitted nodes stay only if something else reads them; the
	// final dead-code pass drops them otherwise.
	_ = start
	return nil
}

// eval computes a value of constant nodes at import.
func (c *converter) eval(ref string, memo map[string]*tensor.Tensor) (*tensor.Tensor, error) {
	if t, ok := memo[ref]; ok {
		return t, nil
	}
	name, idx := splitRef(ref)
	n := c.byName[name]
	if n == nil {
		return nil, fmt.Errorf("value %q is not an emitted node (it depends on a graph input)", ref)
	}
	if k, ok := n.op.(*nn.Constant); ok {
		memo[ref] = k.Value.Value
		return k.Value.Value, nil
	}
	ins := make([]*tensor.Tensor, len(n.inputs))
	shapes := make([][]int, len(n.inputs))
	for i, r := range n.inputs {
		t, err := c.eval(r, memo)
		if err != nil {
			return nil, err
		}
		ins[i], shapes[i] = t, t.Shape
	}
	outShapes, err := n.op.Shapes(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", n.op.Kind(), err)
	}
	outs := make([]*tensor.Tensor, len(outShapes))
	for i, s := range outShapes {
		if k := tensor.Numel(s); k > maxConstElements || k < 0 {
			return nil, fmt.Errorf("%s: a constant of shape %s is too large to compute at import", n.op.Kind(), shapeText(s))
		}
		outs[i] = tensor.New(s...)
	}
	if err := n.op.Forward(&nn.Call{}, ins, outs); err != nil {
		return nil, fmt.Errorf("%s: %v", n.op.Kind(), err)
	}
	for i, t := range outs {
		r := name
		if i > 0 {
			r = fmt.Sprintf("%s:%d", name, i)
		}
		memo[r] = t
	}
	if idx >= len(outs) {
		return nil, fmt.Errorf("%s has no output %d", name, idx)
	}
	return outs[idx], nil
}

func splitRef(ref string) (string, int) {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			k := 0
			for _, ch := range ref[i+1:] {
				if ch < '0' || ch > '9' {
					return ref, 0
				}
				k = k*10 + int(ch-'0')
			}
			return ref[:i], k
		}
	}
	return ref, 0
}

// unusedInput names the input of a graph that has none.
const unusedInput = "dlcv_no_input"

// build keeps the nodes the outputs need and builds the nn graph.
func (c *converter) build() (*nn.Graph, error) {
	live := map[string]bool{}
	var mark func(ref string)
	mark = func(ref string) {
		name, _ := splitRef(ref)
		if live[name] {
			return
		}
		live[name] = true
		if n := c.byName[name]; n != nil {
			for _, r := range n.inputs {
				mark(r)
			}
		}
	}
	for _, o := range c.outputs {
		mark(o.ref)
	}
	g := nn.NewGraph()
	for _, in := range c.inputs {
		g.InputBatch(in.ref, c.shapes[in.ref]...)
	}
	if len(c.inputs) == 0 {
		// A graph of constants: nn graphs have an input, so it gets an
		// unused one (Imported.Run feeds it).
		g.InputBatch(unusedInput, 1)
	}
	for _, n := range c.nodes {
		if !live[n.name] {
			continue
		}
		if _, err := g.AddNode(n.name, n.op, n.inputs...); err != nil {
			return nil, err
		}
	}
	refs := make([]string, len(c.outputs))
	for i, o := range c.outputs {
		refs[i] = o.ref
	}
	g.OutputRefs(refs...)
	if err := g.Build(0); err != nil {
		return nil, fmt.Errorf("building the imported graph: %w", err)
	}
	return g, nil
}

// withWeights builds op (which has weights) for input shapes in and
// copies the given values into its params, in Params order; nil entries
// keep what Build made. Random initialisation is skipped (the
// Initializer is set to zeros by the caller). Unless Trainable, the
// params are frozen: no gradient memory.
func (c *converter) withWeights(op nn.Op, in [][]int, ws ...*tensor.Tensor) error {
	return c.withKernel(op, in, nil, nil, ws...)
}

// withKernel is withWeights with the op's first parameter taken from k
// transposed by perm, written straight into the parameter's storage (a
// convolution kernel from OIHW), without an intermediate transposed
// tensor and its copy: ResNet-18's 47 MB of kernels loaded in 110-115 ms
// before (repeated loads in one process), 77-86 after.
func (c *converter) withKernel(op nn.Op, in [][]int, k *tensor.Tensor, perm []int, ws ...*tensor.Tensor) error {
	if k != nil {
		ws = append([]*tensor.Tensor{k}, ws...)
	}
	// The kernel is overwritten below: skip its random initialisation
	// (a tenth of ResNet-18's load).
	if len(ws) > 0 && ws[0] != nil {
		if init := initializerOf(op); init != nil {
			*init = func([]float32, int, int, *rand.Rand) {}
			defer func() { *init = nil }()
		}
	}
	if err := op.Build(in, nn.NewRNG(0)); err != nil {
		return c.errf("%s: %v", op.Kind(), err)
	}
	ps := op.Params()
	for i, w := range ws {
		if i >= len(ps) && w == nil {
			continue
		}
		if i >= len(ps) {
			return c.errf("internal error: %s has %d params, %d values given", op.Kind(), len(ps), len(ws))
		}
		p := ps[i]
		if w != nil {
			if tensor.Numel(w.Shape) != len(p.Value.Data) {
				return c.errf("%s %s: %d values for shape %s", op.Kind(), p.Name, tensor.Numel(w.Shape), shapeText(p.Value.Shape))
			}
			if !allFinite(w.Data) {
				return c.errf("%s %s holds NaN or infinite values", op.Kind(), p.Name)
			}
			if i == 0 && perm != nil {
				transposeInto(&tensor.Tensor{Shape: p.Value.Shape, Data: p.Value.Data}, w, perm)
			} else {
				copy(p.Value.Data, w.Data)
			}
		}
	}
	if !c.opts.Trainable {
		for _, p := range ps {
			p.Grad, p.Trainable = nil, false
		}
	}
	return nil
}

// allFinite reports whether d holds no NaN or infinity: v - v is 0 for
// a finite v and NaN otherwise, summed in four independent chains.
func allFinite(d []float32) bool {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(d); i += 4 {
		v := (*[4]float32)(d[i:])
		s0 += v[0] - v[0]
		s1 += v[1] - v[1]
		s2 += v[2] - v[2]
		s3 += v[3] - v[3]
	}
	for ; i < len(d); i++ {
		s0 += d[i] - d[i]
	}
	return s0+s1+s2+s3 == 0
}

// initializerOf returns the kernel initialiser field of the ops that
// have one, or nil.
func initializerOf(op nn.Op) *nn.Initializer {
	switch o := op.(type) {
	case *nn.Conv2D:
		return &o.Initializer
	case *nn.DepthwiseConv2D:
		return &o.Initializer
	case *nn.Dense:
		return &o.Initializer
	case *nn.ConvTranspose2D:
		return &o.Initializer
	}
	return nil
}

// attribute access with checks.

func (c *converter) attr(name string) *Attribute {
	for _, a := range c.node.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func (c *converter) attrInt(name string, def int64) (int64, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrInt {
		return 0, c.errf("attribute %s is %s, want an int", name, a.Type)
	}
	return a.I, nil
}

func (c *converter) attrFloat(name string, def float32) (float32, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrFloat {
		return 0, c.errf("attribute %s is %s, want a float", name, a.Type)
	}
	return a.F, nil
}

func (c *converter) attrInts(name string) ([]int64, bool, error) {
	a := c.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if a.Type != AttrInts {
		return nil, false, c.errf("attribute %s is %s, want ints", name, a.Type)
	}
	return a.Ints, true, nil
}

func (c *converter) attrFloats(name string) ([]float32, bool, error) {
	a := c.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if a.Type != AttrFloats {
		return nil, false, c.errf("attribute %s is %s, want floats", name, a.Type)
	}
	return a.Floats, true, nil
}

func (c *converter) attrString(name, def string) (string, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrString {
		return "", c.errf("attribute %s is %s, want a string", name, a.Type)
	}
	return string(a.S), nil
}

// intsAttrOrInput reads a list given as attribute name before opset
// since and as input i from it on (axes, pads, splits). ok is false when
// neither is given.
func (c *converter) intsAttrOrInput(name string, i int, since int64) ([]int64, bool, error) {
	if c.opset < since {
		return c.attrInts(name)
	}
	v, err := c.in(i)
	if err != nil || v == nil {
		return nil, false, err
	}
	vals, err := c.intsIn(i, name)
	return vals, err == nil, err
}

// intsList converts []int64 to []int.
func intsList(v []int64) []int { return toInts(v) }

// checkNoAttr refuses attributes the handler does not implement when
// they are set to anything but their default.
func (c *converter) checkAttrs(allowed ...string) error {
	for _, a := range c.node.Attrs {
		if !slices.Contains(allowed, a.Name) {
			return c.errf("attribute %s is not supported", a.Name)
		}
	}
	return nil
}
