package tfjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// A layers model: Keras' model JSON (functional or Sequential, Keras 2 as
// tensorflowjs_converter and TF.js's model.save write it) whose layers map
// one to one onto nn ops named after the layers. A layer whose activation
// cannot run in the op's epilogue gets a second node "<layer>/<activation>"
// that carries the layer's output.

type kerasTopology struct {
	KerasVersion string          `json:"keras_version"`
	Backend      string          `json:"backend"`
	ModelConfig  *kerasModel     `json:"model_config"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
}

type kerasModel struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

type kerasLayer struct {
	Name         string          `json:"name"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
	InboundNodes json.RawMessage `json:"inbound_nodes"`
}

type functionalConfig struct {
	Name         string          `json:"name"`
	Layers       []kerasLayer    `json:"layers"`
	InputLayers  json.RawMessage `json:"input_layers"`
	OutputLayers json.RawMessage `json:"output_layers"`
}

// tensorRef is a Keras tensor reference: [layer, node index, tensor index].
type tensorRef struct {
	layer       string
	node, index int
}

func (r tensorRef) key() string { return fmt.Sprintf("%s:%d:%d", r.layer, r.node, r.index) }

// parseRefList reads input_layers/output_layers: [[name, node, tensor], ...]
// or a single [name, node, tensor].
func parseRefList(b json.RawMessage) ([]tensorRef, error) {
	if len(bytes.TrimSpace(b)) == 0 || string(b) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	if len(list) > 0 {
		var s string
		if json.Unmarshal(list[0], &s) == nil { // a single reference
			r, err := parseRef(b)
			if err != nil {
				return nil, err
			}
			return []tensorRef{r}, nil
		}
	}
	out := make([]tensorRef, len(list))
	for i, e := range list {
		r, err := parseRef(e)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func parseRef(b json.RawMessage) (tensorRef, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) < 1 {
		return tensorRef{}, fmt.Errorf("bad tensor reference %s", b)
	}
	var r tensorRef
	if err := json.Unmarshal(parts[0], &r.layer); err != nil {
		return tensorRef{}, fmt.Errorf("bad tensor reference %s", b)
	}
	var node, idx flexInt
	if len(parts) > 1 {
		if err := json.Unmarshal(parts[1], &node); err != nil {
			return tensorRef{}, fmt.Errorf("bad tensor reference %s", b)
		}
	}
	if len(parts) > 2 {
		if err := json.Unmarshal(parts[2], &idx); err != nil {
			return tensorRef{}, fmt.Errorf("bad tensor reference %s", b)
		}
	}
	if node < 0 || node > 1<<16 || idx < 0 || idx > 1<<16 {
		return tensorRef{}, fmt.Errorf("bad tensor reference %s", b)
	}
	r.node, r.index = int(node), int(idx)
	return r, nil
}

// inboundCalls reads a layer's inbound_nodes: per call, the input tensors.
// Keras 2's form is [[[layer, node, tensor, kwargs], ...], ...]; Keras 3
// writes [{"args": [tensor or [tensors]], ...}] with keras_history refs.
func inboundCalls(b json.RawMessage) ([][]tensorRef, error) {
	if len(bytes.TrimSpace(b)) == 0 || string(b) == "null" {
		return nil, nil
	}
	var calls []json.RawMessage
	if err := json.Unmarshal(b, &calls); err != nil {
		return nil, fmt.Errorf("inbound_nodes: %v", err)
	}
	out := make([][]tensorRef, len(calls))
	for i, call := range calls {
		call = bytes.TrimSpace(call)
		if len(call) > 0 && call[0] == '{' {
			refs, err := keras3Args(call)
			if err != nil {
				return nil, fmt.Errorf("inbound_nodes call %d: %v", i, err)
			}
			out[i] = refs
			continue
		}
		var ins []json.RawMessage
		if err := json.Unmarshal(call, &ins); err != nil {
			return nil, fmt.Errorf("inbound_nodes call %d: %v", i, err)
		}
		for _, in := range ins {
			r, err := parseRef(in)
			if err != nil {
				return nil, fmt.Errorf("inbound_nodes call %d: %v", i, err)
			}
			out[i] = append(out[i], r)
		}
	}
	return out, nil
}

// keras3Args collects the keras_history references of a Keras 3 call.
func keras3Args(b json.RawMessage) ([]tensorRef, error) {
	var call struct {
		Args []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(b, &call); err != nil {
		return nil, err
	}
	var out []tensorRef
	var walk func(v json.RawMessage, depth int) error
	walk = func(v json.RawMessage, depth int) error {
		if depth > 8 {
			return fmt.Errorf("arguments nested too deeply")
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 {
			return nil
		}
		switch v[0] {
		case '[':
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				return err
			}
			for _, e := range list {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		case '{':
			var t struct {
				ClassName string `json:"class_name"`
				Config    struct {
					History json.RawMessage `json:"keras_history"`
				} `json:"config"`
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.ClassName == "__keras_tensor__" {
				r, err := parseRef(t.Config.History)
				if err != nil {
					return err
				}
				out = append(out, r)
			}
		}
		return nil
	}
	for _, a := range call.Args {
		if err := walk(a, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lconv converts a Keras model.
type lconv struct {
	g       *nn.Graph
	weights map[string]*Weight
	used    map[string]bool
	taken   map[string]bool
	values  map[string]*nn.Value // Keras tensor key or layer name -> value
	pending []pendingParam
	inputs  []string
	// unsupported layers found so far
	failed  []string
	failOps []string
}

func importLayers(topology json.RawMessage, weights map[string]*Weight) (*Model, error) {
	var top kerasTopology
	if err := json.Unmarshal(topology, &top); err != nil {
		return nil, fmt.Errorf("modelTopology (Keras): %v", err)
	}
	model := top.ModelConfig
	if model == nil {
		model = &kerasModel{ClassName: top.ClassName, Config: top.Config}
	}
	c := &lconv{g: nn.NewGraph(), weights: weights, used: map[string]bool{}, taken: map[string]bool{}, values: map[string]*nn.Value{}}
	outs, names, err := c.model(model.ClassName, model.Config, "", nil, 0)
	if err != nil {
		return nil, err
	}
	if len(c.failed) > 0 {
		return nil, c.unsupportedList(top.KerasVersion)
	}
	c.g.Output(outs...)
	if err := c.g.Build(0); err != nil {
		return nil, err
	}
	if err := bindParams(c.pending); err != nil {
		return nil, err
	}
	m := &Model{Graph: c.g, Inputs: c.inputs, Outputs: names, KerasVersion: top.KerasVersion, values: c.values}
	return m, nil
}

func (c *lconv) unsupportedList(version string) error {
	v := version
	if v == "" {
		v = "version not given"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "layers model (Keras %s): %d unsupported layer(s):", v, len(c.failed))
	for i, f := range c.failed {
		fmt.Fprintf(&b, "\n  %s: %s", c.failOps[i], f)
	}
	return errors.New(b.String())
}

// model converts a functional or Sequential model config. Nested models
// (a model used as a layer) pass their inputs and a name prefix.
func (c *lconv) model(class string, cfg json.RawMessage, prefix string, inputs []*nn.Value, depth int) ([]*nn.Value, []string, error) {
	if depth > 8 {
		return nil, nil, fmt.Errorf("models nested more than 8 deep")
	}
	switch class {
	case "Sequential":
		return c.sequential(cfg, prefix, inputs, depth)
	case "Model", "Functional":
		return c.functional(cfg, prefix, inputs, depth)
	}
	return nil, nil, unsupported("model class %q (want Sequential, Model or Functional)", class)
}

// sequential converts a Sequential config: a list of layers, or
// {name, layers}. The input comes from an InputLayer first or from the
// first layer's batch_input_shape.
func (c *lconv) sequential(cfg json.RawMessage, prefix string, inputs []*nn.Value, depth int) ([]*nn.Value, []string, error) {
	var layers []kerasLayer
	if err := json.Unmarshal(cfg, &layers); err != nil {
		var sc struct {
			Layers []kerasLayer `json:"layers"`
		}
		if err := json.Unmarshal(cfg, &sc); err != nil {
			return nil, nil, fmt.Errorf("Sequential config: %v", err)
		}
		layers = sc.Layers
	}
	if len(layers) == 0 {
		return nil, nil, fmt.Errorf("Sequential model without layers")
	}
	for i := range layers {
		if err := layers[i].fillName(); err != nil {
			return nil, nil, fmt.Errorf("Sequential layer %d: %w", i, err)
		}
	}
	if !c.checkKnown(layers) {
		return nil, nil, nil
	}
	var x *nn.Value
	start := 0
	if inputs != nil {
		if len(inputs) != 1 {
			return nil, nil, fmt.Errorf("Sequential model called on %d inputs", len(inputs))
		}
		x = inputs[0]
		if layers[0].ClassName == "InputLayer" {
			start = 1
		}
	} else {
		l := &layers[0]
		shape, err := batchShape(l.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.ClassName, err)
		}
		if shape == nil {
			return nil, nil, fmt.Errorf("Sequential model: the first layer %q (%s) has no batch_input_shape", l.Name, l.ClassName)
		}
		name := prefix + l.Name
		if l.ClassName != "InputLayer" {
			name = prefix + l.Name + "_input"
		} else {
			start = 1
		}
		if x, err = c.input(name, shape); err != nil {
			return nil, nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.ClassName, err)
		}
	}
	last := ""
	for i := start; i < len(layers); i++ {
		l := &layers[i]
		ys, err := c.layer(l, prefix, []*nn.Value{x}, 0, depth)
		if err != nil {
			return nil, nil, err
		}
		if ys == nil { // unsupported: recorded, keep listing
			return nil, nil, nil
		}
		x, last = ys[0], prefix+l.Name
	}
	if last == "" {
		last = x.Name()
	}
	return []*nn.Value{x}, []string{last}, nil
}

// fillName takes the layer's name from its config when the layer entry
// has none (Sequential configs of Keras 2.2).
func (l *kerasLayer) fillName() error {
	if l.Name != "" {
		return nil
	}
	var cfg struct {
		Name string `json:"name"`
	}
	if len(l.Config) > 0 {
		if err := json.Unmarshal(l.Config, &cfg); err != nil {
			return fmt.Errorf("%s config: %v", l.ClassName, err)
		}
	}
	if cfg.Name == "" {
		return fmt.Errorf("%s layer without a name", l.ClassName)
	}
	l.Name = cfg.Name
	return nil
}

// batchShape reads an InputLayer's (or first layer's) batch_input_shape
// (Keras 3: batch_shape); null dimensions become -1.
func batchShape(cfg json.RawMessage) ([]int, error) {
	var c struct {
		BatchInputShape []*flexInt `json:"batch_input_shape"`
		BatchShape      []*flexInt `json:"batch_shape"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	s := c.BatchInputShape
	if s == nil {
		s = c.BatchShape
	}
	if s == nil {
		return nil, nil
	}
	out := make([]int, len(s))
	for i, d := range s {
		switch {
		case d == nil:
			out[i] = -1
		case *d < 1 || *d > 1<<24:
			return nil, fmt.Errorf("batch_input_shape %v: dimension %d is %d", c.BatchInputShape, i, *d)
		default:
			out[i] = int(*d)
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("batch_input_shape of rank %d (want a batch axis and more)", len(out))
	}
	return out, nil
}

// input adds a graph input of full shape (batch axis -1).
func (c *lconv) input(name string, shape []int) (*nn.Value, error) {
	shape = append([]int(nil), shape...)
	shape[0] = -1
	if c.taken[name] {
		return nil, fmt.Errorf("two layers named %q", name)
	}
	c.taken[name] = true
	v := c.g.InputBatch(name, shape...)
	if err := c.g.Err(); err != nil {
		return nil, err
	}
	c.inputs = append(c.inputs, name)
	c.values[name] = v
	return v, nil
}

// checkKnown records every layer of an unknown class; false when some are.
func (c *lconv) checkKnown(layers []kerasLayer) bool {
	ok := true
	for _, l := range layers {
		if _, known := layerOps[l.ClassName]; !known && !isModelClass(l.ClassName) {
			c.failed = append(c.failed, fmt.Sprintf("layer %q: unknown layer class", l.Name))
			c.failOps = append(c.failOps, l.ClassName)
			ok = false
		}
	}
	return ok
}

func isModelClass(class string) bool {
	return class == "Sequential" || class == "Model" || class == "Functional"
}

// functional converts a functional model: layers called on the tensors
// their inbound nodes name, in dependency order.
func (c *lconv) functional(cfg json.RawMessage, prefix string, inputs []*nn.Value, depth int) ([]*nn.Value, []string, error) {
	var fc functionalConfig
	if err := json.Unmarshal(cfg, &fc); err != nil {
		return nil, nil, fmt.Errorf("model config: %v", err)
	}
	ins, err := parseRefList(fc.InputLayers)
	if err != nil {
		return nil, nil, fmt.Errorf("input_layers: %v", err)
	}
	outsRefs, err := parseRefList(fc.OutputLayers)
	if err != nil {
		return nil, nil, fmt.Errorf("output_layers: %v", err)
	}
	if len(ins) == 0 || len(outsRefs) == 0 {
		return nil, nil, fmt.Errorf("model %q has no input_layers or output_layers", fc.Name)
	}
	byName := map[string]*kerasLayer{}
	for i := range fc.Layers {
		l := &fc.Layers[i]
		if err := l.fillName(); err != nil {
			return nil, nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if _, dup := byName[l.Name]; dup {
			return nil, nil, fmt.Errorf("two layers named %q", l.Name)
		}
		byName[l.Name] = l
	}
	if !c.checkKnown(fc.Layers) {
		return nil, nil, nil
	}
	vals := map[string]*nn.Value{} // tensor key -> value, in this model
	if inputs != nil && len(inputs) != len(ins) {
		return nil, nil, fmt.Errorf("model %q called on %d inputs, it has %d", fc.Name, len(inputs), len(ins))
	}
	for i, r := range ins {
		l := byName[r.layer]
		if l == nil || l.ClassName != "InputLayer" {
			return nil, nil, fmt.Errorf("input_layers entry %q is not an InputLayer of the model", r.layer)
		}
		if inputs != nil {
			vals[r.key()] = inputs[i]
			continue
		}
		shape, err := batchShape(l.Config)
		if err != nil || shape == nil {
			return nil, nil, fmt.Errorf("InputLayer %q: no usable batch_input_shape (%v)", l.Name, err)
		}
		v, err := c.input(prefix+l.Name, shape)
		if err != nil {
			return nil, nil, fmt.Errorf("InputLayer %q: %w", l.Name, err)
		}
		vals[r.key()] = v
	}
	// Every call of every layer, converted once its inputs exist.
	type call struct {
		l   *kerasLayer
		k   int
		ins []tensorRef
	}
	var todo []call
	for i := range fc.Layers {
		l := &fc.Layers[i]
		if l.ClassName == "InputLayer" {
			continue
		}
		calls, err := inboundCalls(l.InboundNodes)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.ClassName, err)
		}
		for k, refs := range calls {
			todo = append(todo, call{l: l, k: k, ins: refs})
		}
	}
	failed := map[string]bool{}
	for len(todo) > 0 {
		progress := false
		rest := todo[:0]
		for _, cl := range todo {
			ready, dead := true, false
			var xs []*nn.Value
			for _, r := range cl.ins {
				if failed[r.layer] {
					dead = true
					break
				}
				v, ok := vals[r.key()]
				if !ok {
					ready = false
					break
				}
				xs = append(xs, v)
			}
			switch {
			case dead:
				failed[cl.l.Name], progress = true, true
				continue
			case !ready:
				rest = append(rest, cl)
				continue
			}
			if len(xs) == 0 {
				return nil, nil, fmt.Errorf("layer %q (%s) is called on no inputs", cl.l.Name, cl.l.ClassName)
			}
			progress = true
			ys, err := c.layer(cl.l, prefix, xs, cl.k, depth)
			if err != nil {
				return nil, nil, err
			}
			if ys == nil {
				failed[cl.l.Name] = true
				continue
			}
			for j, y := range ys {
				vals[tensorRef{cl.l.Name, cl.k, j}.key()] = y
			}
		}
		todo = rest
		if !progress {
			var names []string
			for _, cl := range todo {
				names = append(names, strconv.Quote(cl.l.Name))
			}
			sort.Strings(names)
			return nil, nil, fmt.Errorf("layers %s read tensors no layer makes (dangling inbound nodes or a cycle)", strings.Join(names, ", "))
		}
	}
	if len(c.failed) > 0 {
		return nil, nil, nil
	}
	var outs []*nn.Value
	var names []string
	for _, r := range outsRefs {
		v, ok := vals[r.key()]
		if !ok {
			return nil, nil, fmt.Errorf("output_layers entry %q (node %d, tensor %d) is not computed", r.layer, r.node, r.index)
		}
		outs = append(outs, v)
		names = append(names, prefix+r.layer)
	}
	return outs, names, nil
}

// layer converts one call of a layer. A nil result without error means
// the layer is unsupported (recorded in c.failed).
func (c *lconv) layer(l *kerasLayer, prefix string, xs []*nn.Value, call, depth int) ([]*nn.Value, error) {
	name := prefix + l.Name
	if call > 0 {
		name = fmt.Sprintf("%s_call%d", name, call)
	}
	if isModelClass(l.ClassName) {
		// A model used as a layer: its config is the nested model's.
		ys, _, err := c.model(l.ClassName, l.Config, name+"/", xs, depth+1)
		if err != nil {
			return nil, fmt.Errorf("nested model %q: %w", l.Name, err)
		}
		if ys != nil {
			c.values[name] = ys[0]
		}
		return ys, nil
	}
	lc := &layerCtx{c: c, l: l, name: name, prefix: prefix}
	if err := json.Unmarshal(l.Config, &lc.cfg); err != nil {
		return nil, fmt.Errorf("layer %q (%s): config: %v", l.Name, l.ClassName, err)
	}
	y, err := layerOps[l.ClassName](lc, xs)
	if err != nil {
		var ue *unsupportedError
		if errors.As(err, &ue) {
			c.failed = append(c.failed, fmt.Sprintf("layer %q: %v", l.Name, err))
			c.failOps = append(c.failOps, l.ClassName)
			return nil, nil
		}
		return nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.ClassName, err)
	}
	if err := c.g.Err(); err != nil {
		return nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.ClassName, err)
	}
	c.values[name] = y
	return []*nn.Value{y}, nil
}
