package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The GraphDef of a graph model, as tensorflowjs_converter writes it:
// proto3's JSON form of tensorflow.GraphDef.

type graphDef struct {
	Node     []tfNode `json:"node"`
	Versions struct {
		Producer flexInt `json:"producer"`
	} `json:"versions"`
	Library struct {
		Function []json.RawMessage `json:"function"`
	} `json:"library"`
}

type tfNode struct {
	Name  string               `json:"name"`
	Op    string               `json:"op"`
	Input []string             `json:"input"`
	Attr  map[string]attrValue `json:"attr"`

	inputs []string // data inputs, control inputs (^name) dropped
}

type tensorShape struct {
	Dim []struct {
		Size flexInt `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

type attrValue struct {
	S      *string      `json:"s"` // base64
	I      *flexInt     `json:"i"`
	F      *flexFloat   `json:"f"`
	B      *bool        `json:"b"`
	Type   string       `json:"type"`
	Shape  *tensorShape `json:"shape"`
	Tensor *struct {
		Dtype       string       `json:"dtype"`
		TensorShape *tensorShape `json:"tensorShape"`
	} `json:"tensor"`
	List *struct {
		S    []string    `json:"s"`
		I    []flexInt   `json:"i"`
		F    []flexFloat `json:"f"`
		B    []bool      `json:"b"`
		Type []string    `json:"type"`
	} `json:"list"`
}

// Attribute accessors: def when the attribute is absent; an attribute of
// the wrong kind is an error.

func (n *tfNode) attrString(name, def string) (string, error) {
	a, ok := n.Attr[name]
	if !ok {
		return def, nil
	}
	if a.S == nil {
		return "", fmt.Errorf("attribute %s is not a string", name)
	}
	b, err := base64.StdEncoding.DecodeString(*a.S)
	if err != nil {
		return "", fmt.Errorf("attribute %s: bad base64 %q", name, *a.S)
	}
	return string(b), nil
}

func (n *tfNode) attrStrings(name string) ([]string, error) {
	a, ok := n.Attr[name]
	if !ok || a.List == nil {
		return nil, nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: bad base64 %q", name, s)
		}
		out[i] = string(b)
	}
	return out, nil
}

func (n *tfNode) attrInt(name string, def int) (int, error) {
	a, ok := n.Attr[name]
	if !ok {
		return def, nil
	}
	if a.I == nil {
		return 0, fmt.Errorf("attribute %s is not an integer", name)
	}
	v := int64(*a.I)
	if v < -1<<31 || v > 1<<31 {
		return 0, fmt.Errorf("attribute %s = %d is out of range", name, v)
	}
	return int(v), nil
}

func (n *tfNode) attrInts(name string, def []int) ([]int, error) {
	a, ok := n.Attr[name]
	if !ok {
		return def, nil
	}
	if a.List == nil {
		return nil, fmt.Errorf("attribute %s is not a list", name)
	}
	out := make([]int, len(a.List.I))
	for i, v := range a.List.I {
		if v < -1<<31 || v > 1<<31 {
			return nil, fmt.Errorf("attribute %s: value %d is out of range", name, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

func (n *tfNode) attrFloat(name string, def float64) (float64, error) {
	a, ok := n.Attr[name]
	if !ok {
		return def, nil
	}
	if a.F == nil {
		return 0, fmt.Errorf("attribute %s is not a float", name)
	}
	return float64(*a.F), nil
}

func (n *tfNode) attrBool(name string, def bool) (bool, error) {
	a, ok := n.Attr[name]
	if !ok {
		return def, nil
	}
	if a.B == nil {
		return false, fmt.Errorf("attribute %s is not a bool", name)
	}
	return *a.B, nil
}

func (n *tfNode) attrType(name string) string {
	if a, ok := n.Attr[name]; ok {
		return a.Type
	}
	return ""
}

// unsupportedError marks a node the importer cannot map: an unknown op,
// or a known op with a setting dlcv does not implement.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }

func unsupported(format string, args ...any) error {
	return &unsupportedError{msg: fmt.Sprintf(format, args...)}
}

// pendingParam is a weight to copy into an op's param once the graph is
// built (Build creates the params from the input shapes).
type pendingParam struct {
	op     nn.Op
	param  string
	shape  []int
	data   []float32
	who    string // for errors: node "x" (Conv2D)
	frozen bool   // make the param non-trainable (Keras trainable: false)
}

// gconv converts a GraphDef into an nn.Graph.
type gconv struct {
	g        *nn.Graph
	nodes    map[string]*tfNode
	weights  map[string]*Weight
	outs     map[string][]*nn.Value // converted TF nodes' outputs
	consts   map[string]*nn.Value   // Const nodes materialised as nn.Constant
	taken    map[string]bool        // node names in use (TF's and generated)
	pending  []pendingParam
	producer int
}

// opset names the GraphDef version, for error messages.
func (c *gconv) opset() string {
	if c.producer > 0 {
		return fmt.Sprintf("GraphDef producer %d", c.producer)
	}
	return "GraphDef producer not given"
}

// nodeErr wraps err with the node, its op and the opset.
func (c *gconv) nodeErr(n *tfNode, err error) error {
	return fmt.Errorf("node %q (op %s, %s): %w", n.Name, n.Op, c.opset(), err)
}

func importGraph(topology json.RawMessage, weights map[string]*Weight, sig *graphSignature) (*Model, error) {
	var gd graphDef
	if err := json.Unmarshal(topology, &gd); err != nil {
		return nil, fmt.Errorf("modelTopology (GraphDef): %v", err)
	}
	if len(gd.Library.Function) > 0 {
		return nil, unsupported("the graph has %d library functions (control flow: While, If); dlcv imports function-free graphs", len(gd.Library.Function))
	}
	c := &gconv{g: nn.NewGraph(), nodes: map[string]*tfNode{}, weights: weights,
		outs: map[string][]*nn.Value{}, consts: map[string]*nn.Value{}, taken: map[string]bool{},
		producer: int(gd.Versions.Producer)}
	for i := range gd.Node {
		n := &gd.Node[i]
		if n.Name == "" {
			return nil, fmt.Errorf("node %d (op %s) has no name", i, n.Op)
		}
		if strings.ContainsAny(n.Name, ":^") {
			return nil, fmt.Errorf("node %d: name %q contains ':' or '^'", i, n.Name)
		}
		if _, dup := c.nodes[n.Name]; dup {
			return nil, fmt.Errorf("two nodes named %q", n.Name)
		}
		for _, in := range n.Input {
			if !strings.HasPrefix(in, "^") {
				n.inputs = append(n.inputs, in)
			}
		}
		c.nodes[n.Name] = n
		c.taken[n.Name] = true
	}
	inputs, outputs, err := c.endpoints(gd.Node, sig)
	if err != nil {
		return nil, err
	}
	order, err := c.order(outputs)
	if err != nil {
		return nil, err
	}
	// Every op the outputs need must be known; list all that are not.
	var missing []*tfNode
	for _, n := range order {
		if _, ok := graphOps[n.Op]; !ok && n.Op != "Const" && n.Op != "Placeholder" && !isIdentity(n.Op) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, c.unsupportedList(missing, nil)
	}
	for _, name := range inputs {
		n := c.nodes[name]
		if err := c.placeholder(n, sig); err != nil {
			return nil, c.nodeErr(n, err)
		}
	}
	var failed []*tfNode
	var reasons []error
	bad := map[string]bool{} // nodes not converted (unsupported, or fed by one)
	for _, n := range order {
		if n.Op == "Const" || n.Op == "Placeholder" {
			continue
		}
		skip := false
		for _, in := range n.inputs {
			src, _, _ := splitRef(in)
			skip = skip || bad[src]
		}
		if skip {
			bad[n.Name] = true
			continue
		}
		outs, err := c.convert(n)
		if err != nil {
			var ue *unsupportedError
			if errors.As(err, &ue) {
				failed, reasons = append(failed, n), append(reasons, err)
				bad[n.Name] = true
				continue
			}
			return nil, c.nodeErr(n, err)
		}
		if err := c.g.Err(); err != nil {
			return nil, c.nodeErr(n, err)
		}
		c.outs[n.Name] = outs
	}
	if len(failed) > 0 {
		return nil, c.unsupportedList(failed, reasons)
	}
	m := &Model{Graph: c.g, Inputs: inputs, Outputs: outputs, Producer: c.producer, values: map[string]*nn.Value{}}
	outVals := make([]*nn.Value, len(outputs))
	for i, o := range outputs {
		v, err := c.ref(o)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o, err)
		}
		outVals[i], m.values[o] = v, v
	}
	c.g.Output(outVals...)
	if err := c.build(); err != nil {
		return nil, err
	}
	for name, vs := range c.outs {
		for i, v := range vs {
			if i == 0 {
				m.values[name] = v
			} else {
				m.values[name+":"+strconv.Itoa(i)] = v
			}
		}
	}
	for name, v := range c.consts {
		m.values[name] = v
	}
	return m, nil
}

// build builds the graph and copies the imported weights into the params.
func (c *gconv) build() error {
	if err := c.g.Build(0); err != nil {
		return err
	}
	return bindParams(c.pending)
}

// bindParams copies each pending weight into its op's param.
func bindParams(pending []pendingParam) error {
	for _, p := range pending {
		var dst *nn.Param
		for _, q := range p.op.Params() {
			if q.Name == p.param {
				dst = q
			}
		}
		if dst == nil {
			return fmt.Errorf("%s: the op has no param %q", p.who, p.param)
		}
		if !tensor.EqualShape(dst.Value.Shape, p.shape) {
			return fmt.Errorf("%s: weight %s has shape %s, the op's input needs %s", p.who, p.param, tensor.ShapeString(p.shape), tensor.ShapeString(dst.Value.Shape))
		}
		copy(dst.Value.Data, p.data)
		if p.frozen {
			dst.Trainable, dst.Grad = false, nil
		}
	}
	return nil
}

// unsupportedList is the error listing every unsupported node, grouped by
// op.
func (c *gconv) unsupportedList(nodes []*tfNode, reasons []error) error {
	byOp := map[string][]string{}
	var ops []string
	for i, n := range nodes {
		if _, seen := byOp[n.Op]; !seen {
			ops = append(ops, n.Op)
		}
		what := fmt.Sprintf("%q", n.Name)
		if reasons != nil {
			what += ": " + reasons[i].Error()
		}
		byOp[n.Op] = append(byOp[n.Op], what)
	}
	sort.Strings(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "graph model (%s): %d node(s) with unsupported ops (%s):", c.opset(), len(nodes), strings.Join(ops, ", "))
	for _, op := range ops {
		names := byOp[op]
		fmt.Fprintf(&b, "\n  %s: node %s", op, strings.Join(names, ", node "))
	}
	return errors.New(b.String())
}

// endpoints picks the graph's inputs and outputs: the signature's where it
// has them (as TF.js), else the Placeholders and the nodes nothing reads.
func (c *gconv) endpoints(nodes []tfNode, sig *graphSignature) (inputs, outputs []string, err error) {
	if sig != nil {
		for _, e := range sig.inputs {
			name, _, err := splitRef(e.name)
			if err != nil {
				return nil, nil, fmt.Errorf("signature input %q: %v", e.key, err)
			}
			n := c.nodes[name]
			if n == nil {
				return nil, nil, fmt.Errorf("signature input %q names %q, which is not a node", e.key, e.name)
			}
			if n.Op != "Placeholder" {
				return nil, nil, unsupported("signature input %q is node %q (op %s), not a Placeholder", e.key, name, n.Op)
			}
			inputs = append(inputs, name)
		}
		for _, e := range sig.outputs {
			name, idx, err := splitRef(e.name)
			if err != nil {
				return nil, nil, fmt.Errorf("signature output %q: %v", e.key, err)
			}
			if c.nodes[name] == nil {
				return nil, nil, fmt.Errorf("signature output %q names %q, which is not a node", e.key, e.name)
			}
			if idx == 0 {
				outputs = append(outputs, name)
			} else {
				outputs = append(outputs, name+":"+strconv.Itoa(idx))
			}
		}
	}
	if len(inputs) == 0 {
		for i := range nodes {
			if nodes[i].Op == "Placeholder" {
				inputs = append(inputs, nodes[i].Name)
			}
		}
	}
	if len(outputs) == 0 {
		read := map[string]bool{}
		for i := range nodes {
			for _, in := range nodes[i].Input {
				name, _, _ := splitRef(strings.TrimPrefix(in, "^"))
				read[name] = true
			}
		}
		for i := range nodes {
			n := &nodes[i]
			if !read[n.Name] && n.Op != "Const" && n.Op != "Placeholder" && n.Op != "NoOp" {
				outputs = append(outputs, n.Name)
			}
		}
	}
	if len(inputs) == 0 {
		return nil, nil, fmt.Errorf("the graph has no Placeholder (input)")
	}
	if len(outputs) == 0 {
		return nil, nil, fmt.Errorf("the graph has no outputs")
	}
	return inputs, outputs, nil
}

// splitRef splits a TF tensor name "node:i" (or "node") into the node
// name and the output index.
func splitRef(ref string) (string, int, error) {
	name, idx, found := strings.Cut(ref, ":")
	if !found {
		return ref, 0, nil
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i > 1<<16 {
		return "", 0, fmt.Errorf("bad tensor name %q", ref)
	}
	return name, i, nil
}

// order returns the nodes the outputs need, inputs before readers. A
// reference to a missing node or a cycle is an error.
func (c *gconv) order(outputs []string) ([]*tfNode, error) {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var order []*tfNode
	type frame struct {
		n *tfNode
		i int
	}
	for _, o := range outputs {
		name, _, _ := splitRef(o)
		if state[name] == done {
			continue
		}
		stack := []frame{{n: c.nodes[name]}}
		state[name] = open
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i == len(f.n.inputs) {
				state[f.n.Name] = done
				order = append(order, f.n)
				stack = stack[:len(stack)-1]
				continue
			}
			in := f.n.inputs[f.i]
			f.i++
			src, _, err := splitRef(in)
			if err != nil {
				return nil, fmt.Errorf("node %q (op %s): input %q: %v", f.n.Name, f.n.Op, in, err)
			}
			sn := c.nodes[src]
			if sn == nil {
				return nil, fmt.Errorf("node %q (op %s): input %q is not a node of the graph", f.n.Name, f.n.Op, in)
			}
			switch state[src] {
			case open:
				return nil, fmt.Errorf("node %q (op %s): input %q closes a cycle", f.n.Name, f.n.Op, in)
			case unseen:
				state[src] = open
				stack = append(stack, frame{n: sn})
			}
		}
	}
	return order, nil
}

// placeholder adds a graph input for a Placeholder: its shape attribute
// (the signature's when the attribute has none), -1 for unknown sizes.
func (c *gconv) placeholder(n *tfNode, sig *graphSignature) error {
	if dt := n.attrType("dtype"); dt != "" && dt != "DT_FLOAT" {
		return unsupported("input of dtype %s (dlcv inputs are float32)", dt)
	}
	var shape []int
	known := false
	if a, ok := n.Attr["shape"]; ok && a.Shape != nil && !a.Shape.UnknownRank && len(a.Shape.Dim) > 0 {
		for _, d := range a.Shape.Dim {
			shape = append(shape, int(d.Size))
		}
		known = true
	}
	if !known && sig != nil {
		for _, e := range sig.inputs {
			if name, _, _ := splitRef(e.name); name == n.Name && e.shape != nil {
				shape, known = slices.Clone(e.shape), true
			}
		}
	}
	if !known || len(shape) == 0 {
		return unsupported("input without a known rank (give the Placeholder a shape)")
	}
	for i, d := range shape {
		if d < -1 || d == 0 || d > 1<<24 {
			return fmt.Errorf("input shape %v: dimension %d is %d", shape, i, d)
		}
	}
	v := c.g.InputBatch(n.Name, shape...)
	if err := c.g.Err(); err != nil {
		return err
	}
	c.outs[n.Name] = []*nn.Value{v}
	return nil
}

func isIdentity(op string) bool {
	switch op {
	case "Identity", "IdentityN", "StopGradient", "Snapshot", "PreventGradient":
		return true
	}
	return false
}

// convert maps one node onto nn ops and returns its output values. An
// Identity becomes a view node, so the tensor keeps its name (graph
// outputs are often Identity nodes); IdentityN passes its inputs on.
func (c *gconv) convert(n *tfNode) ([]*nn.Value, error) {
	if isIdentity(n.Op) {
		if len(n.inputs) == 0 {
			return nil, fmt.Errorf("%s without inputs", n.Op)
		}
		if n.Op != "IdentityN" {
			x, err := c.in(n, 0)
			if err != nil {
				return nil, err
			}
			return one(c.node(n.Name, nn.NewIdentity(), x))
		}
		outs := make([]*nn.Value, len(n.inputs))
		for i := range n.inputs {
			v, err := c.in(n, i)
			if err != nil {
				return nil, err
			}
			outs[i] = v
		}
		return outs, nil
	}
	return graphOps[n.Op](c, n)
}

// resolve follows Identity nodes from a tensor name to the node and output
// that produce it.
func (c *gconv) resolve(ref string) (*tfNode, int, error) {
	for range 1000 {
		name, idx, err := splitRef(ref)
		if err != nil {
			return nil, 0, err
		}
		n := c.nodes[name]
		if n == nil {
			return nil, 0, fmt.Errorf("%q is not a node of the graph", ref)
		}
		if !isIdentity(n.Op) {
			return n, idx, nil
		}
		if n.Op != "IdentityN" {
			idx = 0
		}
		if idx >= len(n.inputs) {
			return nil, 0, fmt.Errorf("%q: node %q (%s) has %d inputs", ref, name, n.Op, len(n.inputs))
		}
		ref = n.inputs[idx]
	}
	return nil, 0, fmt.Errorf("%q: too many Identity nodes in a row", ref)
}

// ref returns the value of a TF tensor name.
func (c *gconv) ref(ref string) (*nn.Value, error) {
	name, idx, err := splitRef(ref)
	if err != nil {
		return nil, err
	}
	src := c.nodes[name]
	if src == nil {
		return nil, fmt.Errorf("%q is not a node of the graph", ref)
	}
	if src.Op == "Const" {
		if idx != 0 {
			return nil, fmt.Errorf("%q: a Const has one output", ref)
		}
		return c.constant(src)
	}
	vs, ok := c.outs[src.Name]
	if !ok {
		return nil, fmt.Errorf("%q is read before node %q is converted", ref, src.Name)
	}
	if idx >= len(vs) || vs[idx] == nil {
		return nil, fmt.Errorf("%q: node %q (%s) has %d output(s)", ref, src.Name, src.Op, len(vs))
	}
	return vs[idx], nil
}

// in returns data input i of n.
func (c *gconv) in(n *tfNode, i int) (*nn.Value, error) {
	if i >= len(n.inputs) {
		return nil, fmt.Errorf("has %d inputs, input %d is needed", len(n.inputs), i)
	}
	v, err := c.ref(n.inputs[i])
	if err != nil {
		return nil, fmt.Errorf("input %d: %w", i, err)
	}
	return v, nil
}

// constant returns a Const node as an nn.Constant value, made on first
// use.
func (c *gconv) constant(n *tfNode) (*nn.Value, error) {
	if v, ok := c.consts[n.Name]; ok {
		return v, nil
	}
	w, err := c.weightOf(n)
	if err != nil {
		return nil, err
	}
	t := &tensor.Tensor{Shape: append([]int{}, w.Shape...), Data: w.Data}
	for _, d := range t.Shape {
		if d == 0 {
			return nil, unsupported("Const %q has an empty shape %v (dlcv has no zero-size tensors)", n.Name, w.Shape)
		}
	}
	v := c.g.Node(n.Name, nn.NewConstant(t)).Out(0)
	if err := c.g.Err(); err != nil {
		return nil, err
	}
	c.consts[n.Name] = v
	return v, nil
}

// weightOf returns the manifest weight of a Const node.
func (c *gconv) weightOf(n *tfNode) (*Weight, error) {
	w := c.weights[n.Name]
	if w == nil {
		return nil, fmt.Errorf("Const %q has no weight in the manifest", n.Name)
	}
	if a, ok := n.Attr["value"]; ok && a.Tensor != nil && a.Tensor.TensorShape != nil && !a.Tensor.TensorShape.UnknownRank {
		var s []int
		for _, d := range a.Tensor.TensorShape.Dim {
			s = append(s, int(d.Size))
		}
		if !slices.Equal(s, w.Shape) && !(len(s) == 0 && len(w.Shape) == 0) {
			return nil, fmt.Errorf("Const %q has shape %v, its weight %v", n.Name, s, w.Shape)
		}
	}
	return w, nil
}

// constIn returns input i of n, which must be a Const (through Identity
// nodes): a weight, a shape, axes.
func (c *gconv) constIn(n *tfNode, i int) (*Weight, error) {
	if i >= len(n.inputs) {
		return nil, fmt.Errorf("has %d inputs, input %d is needed", len(n.inputs), i)
	}
	src, _, err := c.resolve(n.inputs[i])
	if err != nil {
		return nil, fmt.Errorf("input %d: %w", i, err)
	}
	if src.Op != "Const" {
		return nil, unsupported("input %d (%q) is computed by node %q (op %s); dlcv needs it constant (dynamic shapes and weights are not supported)", i, n.inputs[i], src.Name, src.Op)
	}
	return c.weightOf(src)
}

// intsIn returns the integer values of constant input i.
func (c *gconv) intsIn(n *tfNode, i int) ([]int, error) {
	w, err := c.constIn(n, i)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(w.Data))
	for k := range w.Data {
		v := int64(w.Data[k])
		if w.Ints != nil {
			v = w.Ints[k]
		} else if float32(v) != w.Data[k] {
			return nil, fmt.Errorf("input %d (%q): value %v is not an integer", i, n.inputs[i], w.Data[k])
		}
		if v < -1<<31 || v > 1<<31 {
			return nil, fmt.Errorf("input %d (%q): value %d is out of range", i, n.inputs[i], v)
		}
		out[k] = int(v)
	}
	return out, nil
}

// name returns base if free, else base_1, base_2, ...: names for the
// extra nodes a TF node maps to.
func (c *gconv) name(base string) string {
	name := base
	for k := 1; c.taken[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	c.taken[name] = true
	return name
}

// node adds an nn node called name (taken as is: a TF node's own name) on
// the inputs and returns its first output.
func (c *gconv) node(name string, op nn.Op, in ...*nn.Value) *nn.Value {
	c.taken[name] = true
	return c.g.Node(name, op, in...).Out(0)
}

// extra adds a node named after a TF node with a suffix, for the second
// and later nn ops one TF node maps to.
func (c *gconv) extra(n *tfNode, suffix string, op nn.Op, in ...*nn.Value) *nn.Value {
	return c.g.Node(c.name(n.Name+"/"+suffix), op, in...).Out(0)
}

// param queues a weight for an op's param.
func (c *gconv) param(n *tfNode, op nn.Op, param string, shape []int, data []float32) {
	c.pending = append(c.pending, pendingParam{op: op, param: param, shape: shape, data: data,
		who: fmt.Sprintf("node %q (op %s)", n.Name, n.Op)})
}
