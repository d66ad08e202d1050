package nn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dlcv-go/dlcv/tensor"
)

// Graph is a model as a directed acyclic graph of ops: named nodes, each an
// Op applied to the outputs of earlier nodes. It is built the way Keras'
// functional API reads:
//
//	g := nn.NewGraph()
//	x := g.Input("image", 32, 32, 16)
//	y := g.Apply(nn.NewConv2D(16, 3, 1, nn.Same), x)
//	y = g.Apply(nn.NewReLU(), g.Add(y, x)) // a residual connection
//	g.Output(y)
//	err := g.Build(seed)
//
// Build sorts the nodes topologically, infers every shape and creates the
// weights. A built Graph is a Model (Forward, Backward, TrainStep, ...);
// NewSession gives independent executors that share its weights, one per
// goroutine, for concurrent inference.
//
// Mistakes made while building (a shape that does not fit, a value from
// another graph) are recorded and returned by Build, naming the node, its
// inputs and their shapes; the builder methods never panic.
type Graph struct {
	nodes   []*Node // in the order they were added
	byName  map[string]*Node
	counts  map[string]int // per base name, for automatic names
	inputs  []*Value
	outputs []*Value
	outRefs []string // outputs given by reference (OutputRefs)
	err     error

	built  bool
	order  []*Node // topological order, after Build
	values []*Value
	params []*Param
	seed   uint64

	frozen   atomic.Uint64 // the freeze generation (frozen.go); 0: not frozen
	exec     *Graph        // what the Model methods run: this graph with activations fused
	sess     *Session      // the Model methods' session
	trainOut *tensor.Tensor
}

// Node is one op in a graph.
type Node struct {
	Name    string
	Op      Op
	Inputs  []*Value
	Outputs []*Value

	refs  []string // input references, resolved by Build
	g     *Graph
	index int // position in the topological order
}

// Value is one output of a node: an edge of the graph.
type Value struct {
	node  *Node
	index int
	shape []int
	id    int // index in Graph.values, after Build
}

// Node is the node that produces v.
func (v *Value) Node() *Node { return v.node }

// Index is which output of its node v is.
func (v *Value) Index() int { return v.index }

// Shape is v's shape with the batch axis first (-1 where unknown until run
// time); nil when it could not be inferred.
func (v *Value) Shape() []int { return v.shape }

// Name is "node" for a node's first output and "node:i" for output i.
func (v *Value) Name() string {
	if v.index == 0 {
		return v.node.Name
	}
	return v.node.Name + ":" + strconv.Itoa(v.index)
}

// Out returns output i of the node (nil when out of range).
func (n *Node) Out(i int) *Value {
	if i < 0 || i >= len(n.Outputs) {
		return nil
	}
	return n.Outputs[i]
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{byName: map[string]*Node{}, counts: map[string]int{}}
}

// fail records the first building error.
func (g *Graph) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// Err is the first error recorded while building, if any.
func (g *Graph) Err() error { return g.err }

// uniqueName returns name, or a Keras-style name made from the op kind
// (conv2d, conv2d_1, ...) when name is empty. A name already in use is an
// error.
func (g *Graph) uniqueName(name, kind string) (string, error) {
	if name != "" {
		if _, dup := g.byName[name]; dup {
			return "", fmt.Errorf("graph: two nodes named %q", name)
		}
		if strings.ContainsAny(name, ":") {
			return "", fmt.Errorf("graph: node name %q contains ':'", name)
		}
		return name, nil
	}
	base := snakeCase(kind)
	for {
		name = base
		if k := g.counts[base]; k > 0 {
			name = base + "_" + strconv.Itoa(k)
		}
		g.counts[base]++
		if _, dup := g.byName[name]; !dup {
			return name, nil
		}
	}
}

// addNode appends a node without inputs resolved.
func (g *Graph) addNode(name string, op Op) (*Node, error) {
	if g.built {
		return nil, fmt.Errorf("graph: adding node %q after Build", name)
	}
	if op == nil {
		return nil, fmt.Errorf("graph: node %q has a nil op", name)
	}
	name, err := g.uniqueName(name, op.Kind())
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, Op: op, g: g}
	g.nodes = append(g.nodes, n)
	g.byName[name] = n
	return n, nil
}

// Input adds a graph input of per-sample shape dims (without the batch
// axis, as Keras' Input): Input("image", 28, 28, 1) takes (batch, 28, 28, 1)
// tensors. A dimension of -1 accepts any size. An empty name is made from
// "input".
func (g *Graph) Input(name string, dims ...int) *Value {
	return g.InputBatch(name, append([]int{-1}, dims...)...)
}

// InputBatch adds a graph input of full shape (batch axis first, -1 where
// any size is accepted), as ONNX and TensorFlow graphs declare theirs.
func (g *Graph) InputBatch(name string, shape ...int) *Value {
	for _, d := range shape {
		if d < -1 || d == 0 {
			g.fail(fmt.Errorf("graph: input %q has shape %s; dimensions must be >= 1, or -1 for any size", name, tensor.ShapeString(shape)))
		}
	}
	if len(shape) == 0 {
		g.fail(fmt.Errorf("graph: input %q has no batch axis", name))
	}
	op := &InputOp{Shape: slices.Clone(shape)}
	n, err := g.addNode(name, op)
	if err != nil {
		g.fail(err)
		return &Value{shape: shape, node: &Node{Name: name, Op: op}}
	}
	v := &Value{node: n, shape: slices.Clone(shape)}
	n.Outputs = []*Value{v}
	g.inputs = append(g.inputs, v)
	return v
}

// Apply adds a node running op on the values in and returns its first
// output (see Node for ops with several).
func (g *Graph) Apply(op Op, in ...*Value) *Value {
	return g.Node("", op, in...).Outputs[0]
}

// Node adds a node called name (made from the op kind when empty) running
// op on the values in, and infers its output shapes at once; a mistake is
// recorded for Build to return. The node always has at least one output
// value, so building can go on after an error.
func (g *Graph) Node(name string, op Op, in ...*Value) *Node {
	n, err := g.addNode(name, op)
	if err != nil {
		g.fail(err)
		n = &Node{Name: name, Op: op, g: g}
	}
	shapes := make([][]int, len(in))
	valid, known := err == nil, err == nil
	for i, v := range in {
		switch {
		case v == nil:
			g.fail(fmt.Errorf("graph: node %q (%s): input %d is nil", n.Name, opKind(op), i))
			valid = false
		case v.node == nil || v.node.g != g:
			g.fail(fmt.Errorf("graph: node %q (%s): input %d (%s) belongs to another graph", n.Name, opKind(op), i, v.Name()))
			valid = false
		default:
			shapes[i] = v.shape
			n.refs = append(n.refs, v.Name())
			// A value of a node added by reference has no shape before
			// Build, which infers this node's shapes then.
			known = known && v.shape != nil
		}
	}
	known = known && valid
	var outs [][]int
	if known {
		var serr error
		if outs, serr = op.Shapes(shapes); serr != nil {
			g.fail(nodeError(n, shapes, serr))
			outs = nil
		}
	}
	if len(outs) == 0 {
		outs = [][]int{nil}
	}
	for i, s := range outs {
		n.Outputs = append(n.Outputs, &Value{node: n, index: i, shape: s})
	}
	if valid {
		n.Inputs = slices.Clone(in)
	}
	return n
}

// AddNode adds a node whose inputs are given by reference, "node" or
// "node:i", resolved when the graph is built: the way importers add nodes
// of a file in whatever order it lists them. Its outputs exist after Build.
func (g *Graph) AddNode(name string, op Op, inputs ...string) (*Node, error) {
	n, err := g.addNode(name, op)
	if err != nil {
		g.fail(err)
		return nil, err
	}
	n.refs = slices.Clone(inputs)
	return n, nil
}

// Output sets the graph's outputs.
func (g *Graph) Output(vs ...*Value) {
	for i, v := range vs {
		if v == nil || v.node == nil || v.node.g != g {
			g.fail(fmt.Errorf("graph: output %d is not a value of this graph", i))
			return
		}
	}
	g.outputs = slices.Clone(vs)
	g.outRefs = nil
	for _, v := range vs {
		g.outRefs = append(g.outRefs, v.Name())
	}
}

// OutputRefs sets the graph's outputs by reference ("node" or "node:i"),
// resolved by Build.
func (g *Graph) OutputRefs(refs ...string) {
	g.outputs = nil
	g.outRefs = slices.Clone(refs)
}

// parseRef splits "node:i" into the node name and the output index.
func parseRef(ref string) (string, int, error) {
	name, idx, found := strings.Cut(ref, ":")
	if !found {
		return ref, 0, nil
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return "", 0, fmt.Errorf("bad reference %q (want node or node:index)", ref)
	}
	return name, i, nil
}

// nodeError wraps err with the node, its inputs and their shapes.
func nodeError(n *Node, shapes [][]int, err error) error {
	var b strings.Builder
	for i, s := range shapes {
		if i > 0 {
			b.WriteString(", ")
		}
		ref := "?"
		if i < len(n.refs) {
			ref = n.refs[i]
		}
		b.WriteString(ref + " " + shapeText(s))
	}
	return fmt.Errorf("node %q (%s) on inputs [%s]: %w", n.Name, opKind(n.Op), b.String(), err)
}

func opKind(op Op) string {
	if op == nil {
		return "nil op"
	}
	return op.Kind()
}

// shapeText formats a shape with -1 shown as "?": (?, 28, 28, 1).
func shapeText(s []int) string {
	if s == nil {
		return "(unknown)"
	}
	return strings.ReplaceAll(tensor.ShapeString(s), "-1", "?")
}

// batchText is shapeText with an unknown first axis shown as "batch":
// (batch, 28, 28, 1).
func batchText(s []int) string {
	if len(s) > 0 && s[0] == -1 {
		return strings.Replace(shapeText(s), "?", "batch", 1)
	}
	return shapeText(s)
}

// Build resolves references, sorts the nodes topologically (a cycle is an
// error naming its nodes), infers every shape and creates the weights from
// a generator seeded with seed, node by node in order. It fails with the
// first error recorded while building.
func (g *Graph) Build(seed uint64) error {
	if g.built {
		return fmt.Errorf("graph: Build called twice")
	}
	if g.err != nil {
		return g.err
	}
	if len(g.inputs) == 0 {
		return fmt.Errorf("graph: no inputs")
	}
	if err := g.resolve(); err != nil {
		return err
	}
	if err := g.sort(); err != nil {
		return err
	}
	if err := g.inferShapes(); err != nil {
		return err
	}
	outs, err := g.lookupOutputs(g.outRefs)
	if err != nil {
		return err
	}
	if len(outs) == 0 {
		return fmt.Errorf("graph: no outputs (call Output)")
	}
	g.outputs = outs
	rng := NewRNG(seed)
	for _, n := range g.order {
		// An op that has weights already is shared with another node or
		// graph: it keeps them (Keras' shared layers).
		if len(n.Op.Params()) == 0 {
			if err := n.Op.Build(inputShapes(n), rng); err != nil {
				return nodeError(n, inputShapes(n), err)
			}
		}
	}
	g.collectParams()
	g.values = g.values[:0]
	for _, n := range g.order {
		for _, v := range n.Outputs {
			v.id = len(g.values)
			g.values = append(g.values, v)
		}
	}
	g.seed = seed
	g.built = true
	return nil
}

// resolve turns every node's references into values. Values of nodes not
// yet resolved are created on demand: the number of outputs of a node is
// not known before its shapes are, so references make placeholders that
// inferShapes checks.
func (g *Graph) resolve() error {
	for _, n := range g.nodes {
		if _, isInput := n.Op.(*InputOp); isInput {
			continue
		}
		vs, err := g.lookupRefs(n.refs, fmt.Sprintf("node %q (%s)", n.Name, n.Op.Kind()))
		if err != nil {
			return err
		}
		n.Inputs = vs
	}
	return nil
}

// lookupRefs resolves references, growing a node's output list when a
// reference names an output that shape inference has not made yet.
func (g *Graph) lookupRefs(refs []string, what string) ([]*Value, error) {
	return g.lookup(refs, what, true)
}

// lookupOutputs resolves references once shapes are known: an output index
// beyond what the node gives is an error.
func (g *Graph) lookupOutputs(refs []string) ([]*Value, error) {
	return g.lookup(refs, "graph output", false)
}

func (g *Graph) lookup(refs []string, what string, grow bool) ([]*Value, error) {
	vs := make([]*Value, len(refs))
	for i, r := range refs {
		name, idx, err := parseRef(r)
		if err != nil {
			return nil, fmt.Errorf("graph: %s: input %d: %v", what, i, err)
		}
		src := g.byName[name]
		if src == nil {
			return nil, fmt.Errorf("graph: %s: input %d refers to %q, which is not a node of the graph (dangling input)", what, i, r)
		}
		if !grow && idx >= len(src.Outputs) {
			return nil, fmt.Errorf("graph: %s %q: node %q (%s) has %d output(s), there is no output %d", what, r, name, src.Op.Kind(), len(src.Outputs), idx)
		}
		for len(src.Outputs) <= idx {
			src.Outputs = append(src.Outputs, &Value{node: src, index: len(src.Outputs)})
		}
		vs[i] = src.Outputs[idx]
	}
	return vs, nil
}

// sort orders the nodes so that every node comes after its inputs (Kahn's
// algorithm, ties in insertion order, so the order is deterministic).
func (g *Graph) sort() error {
	pos := make(map[*Node]int, len(g.nodes))
	for i, n := range g.nodes {
		pos[n] = i
	}
	indeg := make([]int, len(g.nodes))
	users := make([][]int, len(g.nodes))
	for i, n := range g.nodes {
		for _, v := range n.Inputs {
			j := pos[v.node]
			indeg[i]++
			users[j] = append(users[j], i)
		}
	}
	g.order = g.order[:0]
	ready := []int{}
	for i := range g.nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		i := ready[0]
		ready = ready[1:]
		n := g.nodes[i]
		n.index = len(g.order)
		g.order = append(g.order, n)
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(g.order) < len(g.nodes) {
		var stuck []string
		for i, n := range g.nodes {
			if indeg[i] > 0 {
				stuck = append(stuck, fmt.Sprintf("%q (%s, inputs %s)", n.Name, n.Op.Kind(), strings.Join(n.refs, ", ")))
			}
		}
		return fmt.Errorf("graph: the nodes form a cycle: %s", strings.Join(stuck, "; "))
	}
	return nil
}

// inferShapes runs every op's Shapes in topological order.
func (g *Graph) inferShapes() error {
	for _, n := range g.order {
		if in, ok := n.Op.(*InputOp); ok {
			n.Outputs[0].shape = slices.Clone(in.Shape)
			continue
		}
		shapes := inputShapes(n)
		outs, err := n.Op.Shapes(shapes)
		if err != nil {
			return nodeError(n, shapes, err)
		}
		if len(n.Outputs) > len(outs) {
			return fmt.Errorf("graph: a node reads output %d of node %q (%s), which has %d", len(n.Outputs)-1, n.Name, n.Op.Kind(), len(outs))
		}
		for i, s := range outs {
			if i < len(n.Outputs) {
				n.Outputs[i].shape = s
			} else {
				n.Outputs = append(n.Outputs, &Value{node: n, index: i, shape: s})
			}
		}
	}
	return nil
}

func inputShapes(n *Node) [][]int {
	s := make([][]int, len(n.Inputs))
	for i, v := range n.Inputs {
		s[i] = v.shape
	}
	return s
}

// collectParams lists every node's params once, in node order.
func (g *Graph) collectParams() {
	g.params = nil
	seen := map[*Param]bool{}
	for _, n := range g.order {
		for _, p := range n.Op.Params() {
			if !seen[p] {
				seen[p] = true
				g.params = append(g.params, p)
			}
		}
	}
}

// Built reports whether Build succeeded.
func (g *Graph) Built() bool { return g.built }

// Nodes returns the nodes in topological order (after Build) or in the
// order they were added (before).
func (g *Graph) Nodes() []*Node {
	if g.built {
		return g.order
	}
	return g.nodes
}

// NodeByName returns the node called name, or nil.
func (g *Graph) NodeByName(name string) *Node { return g.byName[name] }

// Inputs and Outputs are the graph's input and output values.
func (g *Graph) Inputs() []*Value  { return g.inputs }
func (g *Graph) Outputs() []*Value { return g.outputs }

// Params lists every node's weights and state, in node order.
func (g *Graph) Params() []*Param { return g.params }

// InputShape is the per-sample shape (without the batch axis) of the first
// input; nil before Build.
func (g *Graph) InputShape() []int {
	if !g.built {
		return nil
	}
	return slices.Clone(g.inputs[0].shape[1:])
}

// OutputShape is the per-sample shape of the first output.
func (g *Graph) OutputShape() []int {
	if !g.built || g.outputs[0].shape == nil {
		return nil
	}
	return slices.Clone(g.outputs[0].shape[1:])
}

// soleReaders gives, for each value (by id), the one node that reads
// it, or nil where no node or several read it (a node reading it twice
// counts twice) or it is a graph output: the values a fusion may absorb
// into their reader.
func (g *Graph) soleReaders() []*Node {
	reads := make([]int, len(g.values))
	sole := make([]*Node, len(g.values))
	for _, n := range g.order {
		for _, v := range n.Inputs {
			reads[v.id]++
			sole[v.id] = n
		}
	}
	for id, k := range reads {
		if k != 1 {
			sole[id] = nil
		}
	}
	for _, v := range g.outputs {
		sole[v.id] = nil
	}
	return sole
}

// InputOp is a graph input (Keras' InputLayer): its node has no inputs and
// its value is the tensor the caller passes.
type InputOp struct {
	noParams
	Shape []int `json:"shape"` // batch axis first, -1 for any size
}

func (o *InputOp) Kind() string { return "InputLayer" }

func (o *InputOp) Shapes(in [][]int) ([][]int, error) {
	return [][]int{slices.Clone(o.Shape)}, nil
}

func (o *InputOp) Forward(c *Call, in, out []*tensor.Tensor) error {
	return fmt.Errorf("InputLayer is fed by the caller")
}

func (o *InputOp) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error { return nil }

// Add is a + b with broadcasting (a residual connection): shorthand for
// g.Apply(NewAdd(), a, b).
func (g *Graph) Add(a, b *Value) *Value { return g.Apply(NewAdd(), a, b) }

// Mul is a * b with broadcasting (a gate, as in squeeze-and-excitation).
func (g *Graph) Mul(a, b *Value) *Value { return g.Apply(NewMul(), a, b) }
