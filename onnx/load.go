package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Opset range the importer accepts for the default domain.
const (
	MinOpset = 6
	MaxOpset = 17
)

// Options adjust an import. The zero value imports the model as declared,
// optimised for inference.
type Options struct {
	// InputShapes replaces declared input shapes (ONNX order, -1 for a
	// size known only at run time), by input name: fixing the batch or
	// image size lets every shape computation fold at import.
	InputShapes map[string][]int
	// Bind turns graph inputs into constants, by name (ONNX test data
	// feeds a Reshape's shape or a convolution's weights as inputs).
	Bind map[string]*Data
	// NoOptimize keeps the imported graph as it is for inference
	// (Imported.Exec is then Graph): no constant folding, batch-norm
	// folding or activation fusion.
	NoOptimize bool
	// Trainable gives the imported weights gradients, so the graph can be
	// fine-tuned; by default they are frozen (no gradient memory).
	Trainable bool
	// KeepNCHW keeps 4-D inputs in ONNX's layout: the graph then takes
	// NCHW tensors and transposes them itself (by default images enter
	// as NHWC, dlcv's layout).
	KeepNCHW bool

	// forceShapes lets InputShapes change an input's rank (the checker:
	// ONNX's test data is the truth).
	forceShapes bool
	// noFuse keeps decomposed activations as they are (tests).
	noFuse bool
}

// IOInfo describes a graph input or output.
type IOInfo struct {
	// Name is the ONNX name.
	Name string
	// Shape is the ONNX shape, -1 where the size is given at run time
	// (DimNames holds the symbolic name, if any).
	Shape    []int
	DimNames []string
	// Type is the ONNX element type (TypeFloat, TypeInt64, ...). Values
	// are float32 either way.
	Type int32
	// Perm is the layout of the dlcv value: its axis i is ONNX axis
	// Perm[i] (nil: the same order). A 4-D image input is NHWC:
	// Perm (0, 2, 3, 1).
	Perm []int
	// Node is the dlcv node name of the value.
	Node string
}

// Layout names an input's layout: "NHWC" for an NCHW tensor stored
// channels last, "" when it keeps the ONNX order.
func (io IOInfo) Layout() string {
	if len(io.Perm) == 4 && slices.Equal(io.Perm, []int{0, 2, 3, 1}) {
		return "NHWC"
	}
	if io.Perm != nil && !isIdentity(io.Perm) {
		return fmt.Sprint(io.Perm)
	}
	return ""
}

// Imported is an ONNX model converted to a dlcv graph.
type Imported struct {
	// Graph is the model as imported (layout transposes included): it
	// trains and saves as any nn.Graph.
	Graph *nn.Graph
	// Inputs and Outputs are the ONNX graph's, in order; the graph's own
	// inputs and outputs are in the same order.
	Inputs, Outputs []IOInfo
	Opset           int64
	IRVersion       int64
	Producer        string
	// Metadata holds the model's metadata_props.
	Metadata map[string]string
	// Preprocess is what the metadata says about the expected input.
	Preprocess Preprocess
	// Path is the file the model was read from.
	Path string

	exec *nn.Graph
	mu   sync.Mutex
	sess *nn.Session
	bufs []*tensor.Tensor
}

// Exec is the graph that inference runs: Graph optimised (constants and
// batch norms folded, activations fused), unless NoOptimize.
func (m *Imported) Exec() *nn.Graph { return m.exec }

// Load reads and converts an ONNX model file. External data files must lie
// in the model's folder. Errors name the file and, for conversion errors,
// the node, its op and the opset; unsupported ops are all listed at once.
func Load(path string, opts *Options) (*Imported, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if k := modelfile.Sniff(b[:min(len(b), modelfile.HeadSize)]); k != modelfile.Unknown && k != modelfile.ONNX {
		return nil, fmt.Errorf("%s is %s, not an ONNX model", path, k.Describe())
	}
	m, err := Convert(b, filepath.Dir(path), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	// The file's bytes are garbage now: collected at once, their memory
	// takes the packed weights of the first run (nn.Graph.SetFrozen)
	// instead of the heap growing past both. ResNet-18's peak RSS fell
	// from 241-253 to 195-196 MB; the load took 9 ms longer, the first
	// run 26 ms less (medians of 6).
	b = nil
	runtime.GC()
	return m, nil
}

// Convert converts the bytes of an ONNX model; dir is where its external
// data lives ("" to refuse external data).
func Convert(b []byte, dir string, opts *Options) (*Imported, error) {
	mp, err := DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("not a readable ONNX model: %w", err)
	}
	return ConvertModel(mp, dir, opts)
}

// opsetOf returns the default domain's opset of a model.
func opsetOf(mp *ModelProto) (int64, error) {
	var opset int64 = -1
	for _, o := range mp.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			opset = o.Version
		}
	}
	if opset < 0 {
		if len(mp.Opsets) == 0 && mp.IRVersion > 0 && mp.IRVersion < 3 {
			return 1, nil // IR version 1 and 2 files had no opset_import
		}
		return 0, fmt.Errorf("the model imports no opset of the default ONNX domain")
	}
	return opset, nil
}

// ConvertModel converts a decoded model.
func ConvertModel(mp *ModelProto, dir string, opts *Options) (*Imported, error) {
	if opts == nil {
		opts = &Options{}
	}
	if mp.Graph == nil {
		return nil, fmt.Errorf("the model has no graph")
	}
	opset, err := opsetOf(mp)
	if err != nil {
		return nil, err
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, fmt.Errorf("opset %d of the default domain is not supported (dlcv imports opsets %d to %d)", opset, MinOpset, MaxOpset)
	}
	if err := checkSupported(mp.Graph, opset); err != nil {
		return nil, err
	}
	c := &converter{dir: dir, opset: opset, opts: *opts, vals: map[string]*tval{}, byName: map[string]*enode{},
		names: map[string]bool{}, shapes: map[string][]int{}, dimIDs: map[string]int{}, noFuse: opts.noFuse}
	if err := c.convertGraph(mp.Graph); err != nil {
		return nil, err
	}
	g, err := c.build()
	if err != nil {
		return nil, err
	}
	if !opts.noFuse {
		// x*sigmoid(x), x*clip(x+3, 0, 6)/6, ...: one activation each.
		if g, err = nn.FuseDecomposed(g); err != nil {
			return nil, err
		}
	}
	m := &Imported{Graph: g, Opset: opset, IRVersion: mp.IRVersion, Producer: strings.TrimSpace(mp.ProducerName + " " + mp.ProducerVersion),
		Metadata: map[string]string{}}
	for _, io := range c.inputs {
		m.Inputs = append(m.Inputs, io.info)
	}
	for _, io := range c.outputs {
		m.Outputs = append(m.Outputs, io.info)
	}
	for _, kv := range mp.Metadata {
		m.Metadata[kv.Key] = kv.Value
	}
	m.Preprocess = ParsePreprocess(m.Metadata)
	m.exec = g
	if !opts.NoOptimize {
		if m.exec, err = nn.Optimize(g); err != nil {
			return nil, fmt.Errorf("optimising the imported graph: %w", err)
		}
	}
	return m, nil
}

// unsupported collects the ops a graph uses that the importer lacks.
type unsupported struct {
	nodes map[string][]string // op -> node names
}

func (u *unsupported) add(op, node string) {
	if u.nodes == nil {
		u.nodes = map[string][]string{}
	}
	u.nodes[op] = append(u.nodes[op], node)
}

// checkSupported lists every unsupported op of the graph at once.
func checkSupported(g *GraphProto, opset int64) error {
	var u unsupported
	walkNodes(g, func(n *NodeProto) {
		name := n.Name
		if name == "" && len(n.Outputs) > 0 {
			name = n.Outputs[0]
		}
		if !Supported(n.Domain, n.OpType, opset) {
			op := n.OpType
			if n.Domain != "" && n.Domain != "ai.onnx" {
				op = n.Domain + "." + op
			}
			u.add(op, name)
		}
	})
	if len(u.nodes) == 0 {
		return nil
	}
	ops := make([]string, 0, len(u.nodes))
	for op := range u.nodes {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var parts []string
	for _, op := range ops {
		ns := u.nodes[op]
		shown := ns
		if len(shown) > 3 {
			shown = shown[:3]
		}
		s := fmt.Sprintf("%s (%d node(s): %s", op, len(ns), strings.Join(quoteAll(shown), ", "))
		if len(ns) > len(shown) {
			s += ", ..."
		}
		parts = append(parts, s+")")
	}
	return &UnsupportedError{Ops: ops, Opset: opset, msg: fmt.Sprintf("unsupported op(s) at opset %d: %s", opset, strings.Join(parts, "; "))}
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return q
}

// UnsupportedError lists the ops of a model the importer does not
// support.
type UnsupportedError struct {
	Ops   []string
	Opset int64
	msg   string
}

func (e *UnsupportedError) Error() string { return e.msg }

// walkNodes calls f for every node, those of subgraphs (If, Loop bodies)
// included.
func walkNodes(g *GraphProto, f func(n *NodeProto)) {
	for _, n := range g.Nodes {
		f(n)
		for _, a := range n.Attrs {
			if a.G != nil {
				walkNodes(a.G, f)
			}
			for _, sg := range a.Graphs {
				walkNodes(sg, f)
			}
		}
	}
}

// convertGraph converts the main graph.
func (c *converter) convertGraph(g *GraphProto) error {
	if g.SparseInitializers > 0 {
		return fmt.Errorf("the graph has sparse initializers, which dlcv does not support")
	}
	for i, t := range g.Initializers {
		d, err := t.Decode(c.dir)
		if err != nil {
			return fmt.Errorf("initializer %d: %w", i, err)
		}
		if t.Name == "" {
			return fmt.Errorf("initializer %d has no name", i)
		}
		c.vals[t.Name] = &tval{name: t.Name, konst: d, dtype: d.Type}
	}
	for name, d := range c.opts.Bind {
		c.vals[name] = &tval{name: name, konst: d, dtype: d.Type}
	}
	c.producers = map[string]*NodeProto{}
	c.uses = map[string]int{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			c.producers[o] = n
		}
		for _, in := range n.Inputs {
			c.uses[in]++
		}
	}
	for _, o := range g.Outputs {
		c.uses[o.Name]++
	}
	layouts := inputLayouts(g, c.opts.KeepNCHW)
	for _, in := range g.Inputs {
		if _, isConst := c.vals[in.Name]; isConst {
			continue // an initializer listed as an input (IR < 4): a constant
		}
		if err := c.addInput(in, layouts[in.Name]); err != nil {
			return err
		}
	}
	for i, n := range g.Nodes {
		c.node, c.nodeIdx = n, i
		if err := c.convertNode(n); err != nil {
			return err
		}
	}
	c.node = nil
	for _, o := range g.Outputs {
		if err := c.addOutput(o); err != nil {
			return err
		}
	}
	if len(c.outputs) == 0 {
		return fmt.Errorf("the graph has no outputs")
	}
	return nil
}

// addInput declares a graph input in its dlcv layout.
func (c *converter) addInput(in *ValueInfo, channelsLastIn bool) error {
	if in.Kind != "tensor" {
		kind := in.Kind
		if kind == "" {
			kind = "an untyped value"
		}
		return fmt.Errorf("graph input %q is %s; dlcv takes tensors", in.Name, kind)
	}
	if !in.HasShape {
		return fmt.Errorf("graph input %q has no declared shape (give one with Options.InputShapes)", in.Name)
	}
	shape := make([]int, len(in.Dims))
	names := make([]string, len(in.Dims))
	dims := make([]int, len(in.Dims))
	for i, d := range in.Dims {
		switch {
		case d.Known && d.Value > 0:
			shape[i] = int(d.Value)
		default:
			shape[i] = -1
			names[i] = d.Param
		}
	}
	if s, ok := c.opts.InputShapes[in.Name]; ok && c.opts.forceShapes && len(s) != len(shape) {
		shape = slices.Clone(s)
		names = make([]string, len(s))
		dims = make([]int, len(s))
	} else if ok {
		if len(s) != len(shape) {
			return fmt.Errorf("input %q: Options.InputShapes gives rank %d, the model declares %s", in.Name, len(s), shapeText(shape))
		}
		for i, d := range s {
			if d < -1 {
				return fmt.Errorf("input %q: Options.InputShapes dimension %d is %d", in.Name, i, d)
			}
			if shape[i] > 0 && d > 0 && d != shape[i] {
				return fmt.Errorf("input %q: Options.InputShapes sets dimension %d to %d, the model declares %d", in.Name, i, d, shape[i])
			}
			shape[i] = d
		}
	}
	for i, d := range shape {
		if d < 0 {
			if names[i] != "" {
				if id, ok := c.dimIDs[names[i]]; ok {
					dims[i] = id
					continue
				}
				c.dimIDs[names[i]] = c.newDim()
				dims[i] = c.dimIDs[names[i]]
			} else {
				dims[i] = c.newDim()
			}
		}
	}
	perm := identity(len(shape))
	if channelsLastIn {
		perm = channelsLast(len(shape))
	}
	dshape := make([]int, len(shape))
	for i, a := range perm {
		dshape[i] = shape[a]
		if dshape[i] == 0 {
			dshape[i] = -1 // an empty axis: the graph takes any size
		}
	}
	name := c.uniqueName(in.Name)
	ref := name
	if len(shape) == 0 {
		// A scalar enters as (1) (graph inputs have a batch axis).
		dshape = []int{1}
	}
	c.shapes[name] = dshape
	if len(shape) == 0 {
		c.node = &NodeProto{Name: in.Name, OpType: "input"}
		var err error
		if ref, _, err = c.emit1("scalar", nn.NewReshape(), name); err != nil {
			return err
		}
		c.node = nil
	}
	v := c.value(ref, c.shapes[ref], perm, in.ElemType)
	v.name, v.dims = in.Name, dims
	c.vals[in.Name] = v
	info := IOInfo{Name: in.Name, Shape: shape, DimNames: names, Type: in.ElemType, Node: name}
	if v.perm != nil {
		info.Perm = slices.Clone(v.perm)
	}
	c.inputs = append(c.inputs, &ioVal{info: info, ref: name})
	return nil
}

// addOutput makes a graph output, in the ONNX layout.
func (c *converter) addOutput(o *ValueInfo) error {
	v := c.vals[o.Name]
	if v == nil {
		return fmt.Errorf("graph output %q is not produced by any node", o.Name)
	}
	c.node = &NodeProto{Name: o.Name, OpType: "output"}
	defer func() { c.node = nil }()
	ref, err := c.ref(v, identity(v.rank()))
	if err != nil {
		return err
	}
	// An output that is a graph input, or the same value as another
	// output, gets a node of its own (outputs are named by node).
	taken := false
	for _, p := range c.outputs {
		taken = taken || p.ref == ref
	}
	for _, p := range c.inputs {
		taken = taken || p.ref == ref
	}
	if taken {
		if ref, _, err = c.emit1("", nn.NewIdentity(), ref); err != nil {
			return err
		}
	}
	info := IOInfo{Name: o.Name, Shape: v.onnxShape(), Type: v.dtype, Node: ref}
	if info.Type == 0 {
		info.Type = o.ElemType
	}
	c.outputs = append(c.outputs, &ioVal{info: info, ref: ref})
	return nil
}

// inputLayouts decides which inputs enter channels last: those that reach
// a spatial op (convolution, pooling, batch norm, resize) through
// element-wise ops only.
func inputLayouts(g *GraphProto, keep bool) map[string]bool {
	out := map[string]bool{}
	if keep {
		return out
	}
	users := map[string][]*NodeProto{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	}
	var reaches func(name string, depth int) bool
	reaches = func(name string, depth int) bool {
		if depth > 16 {
			return false
		}
		for _, n := range users[name] {
			if spatialOps[n.OpType] && len(n.Inputs) > 0 && n.Inputs[0] == name {
				return true
			}
			if elementwiseOps[n.OpType] && len(n.Outputs) > 0 && reaches(n.Outputs[0], depth+1) {
				return true
			}
		}
		return false
	}
	for _, in := range g.Inputs {
		if len(in.Dims) >= 3 && len(in.Dims) <= 4 && reaches(in.Name, 0) {
			out[in.Name] = true
		}
	}
	return out
}

// spatialOps are the ops that compute channels last.
var spatialOps = map[string]bool{
	"Conv": true, "ConvTranspose": true, "MaxPool": true, "AveragePool": true, "GlobalAveragePool": true,
	"GlobalMaxPool": true, "BatchNormalization": true, "Resize": true, "Upsample": true, "InstanceNormalization": true,
	"LpPool": true, "DepthToSpace": true, "SpaceToDepth": true, "LRN": true,
}

// elementwiseOps keep any layout.
var elementwiseOps = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Relu": true, "Clip": true, "Sigmoid": true,
	"Tanh": true, "LeakyRelu": true, "Cast": true, "Identity": true, "Pad": true, "Neg": true, "Abs": true,
	"HardSigmoid": true, "HardSwish": true, "Elu": true, "Selu": true, "Pow": true, "Sqrt": true, "Exp": true,
	"Dropout": true, "PRelu": true, "Max": true, "Min": true, "Sum": true, "Mean": true,
}
