package nn

import (
	"crypto/sha256"
	bin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// FormatVersion is the model-file version this package writes. Version 1
// files (a chain of layers) still load; files with a larger version are
// refused with an error that says so.
const FormatVersion = 2

// Metadata keys written into the safetensors header.
const (
	metaFormat  = "dlcv.format"
	metaVersion = "dlcv.format_version"
	metaArch    = "dlcv.architecture"
	// metaSHA256 is the hex SHA-256 of every tensor (see tensorsSHA256):
	// a file whose data changed since it was written is refused on load.
	metaSHA256 = "dlcv.sha256"
)

// Tensor name prefixes: v2 files name weights "nodes.<node>.<param>", v1
// files "layers.<index>.<param>".
const (
	nodePrefix  = "nodes."
	layerPrefix = "layers."
)

var (
	opsMu       sync.RWMutex
	opFactories = map[string]func() Op{}
)

// RegisterOp makes an op kind loadable from model files: factory returns a
// fresh op whose configuration JSON is then decoded over its defaults. Every
// built-in op is registered; call it (from an init function) for an op of
// your own so that models using it can be saved and loaded. A kind that is
// already registered is an error.
func RegisterOp(factory func() Op) error {
	op := factory()
	if op == nil {
		return fmt.Errorf("nn.RegisterOp: the factory returns nil")
	}
	kind := op.Kind()
	opsMu.Lock()
	defer opsMu.Unlock()
	if _, dup := opFactories[kind]; dup {
		return fmt.Errorf("nn.RegisterOp: op kind %q is already registered", kind)
	}
	opFactories[kind] = factory
	return nil
}

// RegisteredOps lists the op kinds model files may use, sorted.
func RegisteredOps() []string {
	opsMu.RLock()
	defer opsMu.RUnlock()
	kinds := make([]string, 0, len(opFactories))
	for k := range opFactories {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// newOp makes a fresh op of a kind from its JSON config.
func newOp(kind string, config json.RawMessage) (Op, error) {
	opsMu.RLock()
	factory, ok := opFactories[kind]
	opsMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown op kind %q (register it with nn.RegisterOp; known: %s)", kind, strings.Join(RegisteredOps(), ", "))
	}
	op := factory()
	if len(config) > 0 {
		if err := json.Unmarshal(config, op); err != nil {
			return nil, fmt.Errorf("%s config: %v", kind, err)
		}
	}
	return op, nil
}

// mustRegister registers the built-in ops.
func mustRegister(factories ...func() Op) {
	for _, f := range factories {
		if err := RegisterOp(f); err != nil {
			panic(err)
		}
	}
}

func init() {
	mustRegister(
		func() Op { return &InputOp{} },
		func() Op { return &Constant{} },
		func() Op { return NewDense(1) },
		func() Op { return NewFlatten() },
		func() Op { return NewReLU() },
		func() Op { return NewLeakyReLU(0.3) },
		func() Op { return NewELU(1) },
		func() Op { return NewSigmoid() },
		func() Op { return NewTanh() },
		func() Op { return NewSoftmax() },
		func() Op { return NewDropout(0.5) },
		func() Op { return NewAdd() },
		func() Op { return NewSub() },
		func() Op { return NewMul() },
		func() Op { return NewDiv() },
	)
}

// savedNode is a node as a model file stores it.
type savedNode struct {
	name   string
	op     Op
	inputs []string
}

// unfuser is implemented by the ops Optimize makes of others for running
// (PointwiseDepthwise, ScaledPointwise): a model file stores the nodes
// they replaced, which load as any graph's and fuse again in Optimize.
type unfuser interface {
	unfuse(name string, inputs []string) []savedNode
}

// savedNodes lists g's nodes as a model file stores them.
func savedNodes(g *Graph) []savedNode {
	var ns []savedNode
	for _, n := range g.order {
		if u, ok := n.Op.(unfuser); ok {
			ns = append(ns, u.unfuse(n.Name, refsOf(n.Inputs))...)
			continue
		}
		ns = append(ns, savedNode{n.Name, n.Op, refsOf(n.Inputs)})
	}
	return ns
}

// archV2 is the "dlcv.architecture" JSON of version 2.
type archV2 struct {
	// Sequential marks a chain built by Sequential: it loads back as one.
	Sequential bool       `json:"sequential,omitempty"`
	Nodes      []nodeJSON `json:"nodes"`
	Outputs    []string   `json:"outputs"`
}

type nodeJSON struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"`
	Config json.RawMessage `json:"config,omitempty"`
	Inputs []string        `json:"inputs,omitempty"`
	// Frozen lists the node's params without a gradient (statistics, and
	// weights frozen for transfer learning), which load frozen.
	Frozen []string `json:"frozen,omitempty"`
}

// archV1 is the "dlcv.architecture" JSON of version 1: a chain of layers.
type archV1 struct {
	InputShape []int       `json:"input_shape"`
	Layers     []layerJSON `json:"layers"`
}

type layerJSON struct {
	Kind   string          `json:"kind"`
	Config json.RawMessage `json:"config"`
}

// Architecture returns the graph's nodes, their configuration and inputs
// as JSON (the "dlcv.architecture" entry of a model file).
func (g *Graph) Architecture() ([]byte, error) {
	return architecture(g, false)
}

func architecture(g *Graph, sequential bool) ([]byte, error) {
	if !g.built {
		return nil, fmt.Errorf("the model is not built")
	}
	a := archV2{Sequential: sequential, Outputs: refsOf(g.outputs)}
	for _, n := range savedNodes(g) {
		cfg, err := json.Marshal(n.op)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %v", n.name, n.op.Kind(), err)
		}
		nj := nodeJSON{Name: n.name, Kind: n.op.Kind(), Config: cfg, Inputs: n.inputs}
		for _, p := range n.op.Params() {
			if !p.Trainable {
				nj.Frozen = append(nj.Frozen, p.Name)
			}
		}
		a.Nodes = append(a.Nodes, nj)
	}
	return json.Marshal(a)
}

// SaveFile writes the model (architecture, weights and running statistics)
// to a safetensors file, atomically. extra holds further metadata (class
// names, preprocessing) as strings; keys starting with "dlcv." are reserved.
// Weights are named "nodes.<node>.<param>", e.g. "nodes.conv2d.kernel".
func SaveFile(path string, m Model, extra map[string]string) error {
	return SaveFileTensors(path, m, extra, nil)
}

// SaveFileTensors is SaveFile with further tensors stored beside the
// weights (a training checkpoint's optimizer state). Their names must not
// start with "nodes." or "layers.".
func SaveFileTensors(path string, m Model, extra map[string]string, tensors map[string]safetensors.Tensor) error {
	g := m.Graph()
	_, sequential := m.(*Sequential)
	arch, err := architecture(g, sequential)
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	f := &safetensors.File{
		Metadata: map[string]string{
			metaFormat:  "dlcv",
			metaVersion: strconv.Itoa(FormatVersion),
			metaArch:    string(arch),
		},
		Tensors: map[string]safetensors.Tensor{},
	}
	for k, v := range extra {
		if _, reserved := f.Metadata[k]; reserved || strings.HasPrefix(k, "dlcv.") {
			return fmt.Errorf("saving %s: metadata key %q is reserved", path, k)
		}
		f.Metadata[k] = v
	}
	for _, n := range savedNodes(g) {
		for _, p := range n.op.Params() {
			f.Tensors[nodePrefix+n.name+"."+p.Name] = safetensors.Tensor{Shape: p.Value.Shape, Data: p.Value.Data}
		}
	}
	for k, t := range tensors {
		if strings.HasPrefix(k, nodePrefix) || strings.HasPrefix(k, layerPrefix) {
			return fmt.Errorf("saving %s: tensor name %q is reserved for weights", path, k)
		}
		f.Tensors[k] = t
	}
	f.Metadata[metaSHA256] = tensorsSHA256(f.Tensors)
	return safetensors.WriteFile(path, f)
}

// tensorsSHA256 hashes tensors in name order: each name, shape and the
// float32 values, little endian, with the lengths that delimit them.
func tensorsSHA256(ts map[string]safetensors.Tensor) string {
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	u64 := func(v int) { buf = bin.LittleEndian.AppendUint64(buf, uint64(v)) }
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	for _, n := range names {
		t := ts[n]
		u64(len(n))
		buf = append(buf, n...)
		u64(len(t.Shape))
		for _, d := range t.Shape {
			u64(d)
		}
		u64(len(t.Data))
		for _, v := range t.Data {
			buf = bin.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= cap(buf)-8 {
				flush()
			}
		}
		flush()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// LoadFile reads a model written by SaveFile (either version) and returns
// it built, with the file's metadata: a *Sequential for chains, a *Graph
// otherwise. Errors name the file and the field, node or tensor at fault.
func LoadFile(path string) (Model, map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := ModelFromFile(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, f.Metadata, nil
}

// ModelFromFile builds the model held in a decoded safetensors file.
// Tensors other than the weights (a checkpoint's optimizer state) are left
// for the caller.
func ModelFromFile(f *safetensors.File) (Model, error) {
	if f.Metadata[metaFormat] != "dlcv" {
		return nil, fmt.Errorf("not a dlcv model (metadata %s is %q)", metaFormat, f.Metadata[metaFormat])
	}
	// Files written before the checksum have none and still load.
	if want, ok := f.Metadata[metaSHA256]; ok {
		if got := tensorsSHA256(f.Tensors); got != want {
			return nil, fmt.Errorf("model file corrupted: its tensor data has SHA-256 %s, the file was written with %s; restore it from a copy or train it again", got, want)
		}
	}
	v, err := strconv.Atoi(f.Metadata[metaVersion])
	if err != nil || v < 1 {
		return nil, fmt.Errorf("bad %s %q", metaVersion, f.Metadata[metaVersion])
	}
	if v > FormatVersion {
		return nil, fmt.Errorf("model format version %d is newer than this dlcv reads (%d): upgrade dlcv", v, FormatVersion)
	}
	if v == 1 {
		return loadV1(f)
	}
	var a archV2
	if err := json.Unmarshal([]byte(f.Metadata[metaArch]), &a); err != nil {
		return nil, fmt.Errorf("architecture JSON: %v", err)
	}
	if len(a.Nodes) == 0 {
		return nil, fmt.Errorf("architecture has no nodes")
	}
	var m Model
	if a.Sequential {
		m, err = sequentialFromNodes(a)
	} else {
		m, err = graphFromNodes(a)
	}
	if err != nil {
		return nil, err
	}
	if err := loadWeights(f, m.Graph(), nodePrefix, func(i int, n *Node) string { return n.Name }); err != nil {
		return nil, err
	}
	if err := applyFrozen(m.Graph(), a.Nodes); err != nil {
		return nil, err
	}
	return m, nil
}

// applyFrozen freezes the params the file lists as frozen.
func applyFrozen(g *Graph, nodes []nodeJSON) error {
	for _, nj := range nodes {
		if len(nj.Frozen) == 0 {
			continue
		}
		n := g.NodeByName(nj.Name)
		if n == nil {
			return fmt.Errorf("node %q: not in the built graph", nj.Name)
		}
		for _, name := range nj.Frozen {
			found := false
			for _, p := range n.Op.Params() {
				if p.Name == name {
					p.Trainable, p.Grad, found = false, nil, true
				}
			}
			if !found {
				return fmt.Errorf("node %q (%s): frozen param %q does not exist", n.Name, n.Op.Kind(), name)
			}
		}
	}
	return nil
}

// checkInputShape bounds the dimensions of an input read from a file.
func checkInputShape(s []int, batch bool) error {
	for i, d := range s {
		if (d < 1 && !(d == -1 && (batch || i > 0))) || d > 1<<16 {
			return fmt.Errorf("bad input shape %v", s)
		}
	}
	return nil
}

func graphFromNodes(a archV2) (*Graph, error) {
	g := NewGraph()
	for i, nj := range a.Nodes {
		op, err := newOp(nj.Kind, nj.Config)
		if err != nil {
			return nil, fmt.Errorf("node %d (%q): %w", i, nj.Name, err)
		}
		if in, ok := op.(*InputOp); ok {
			if err := checkInputShape(in.Shape, true); err != nil || len(in.Shape) == 0 {
				return nil, fmt.Errorf("node %d (%q): bad input shape %v", i, nj.Name, in.Shape)
			}
			g.InputBatch(nj.Name, in.Shape...)
			if err := g.Err(); err != nil {
				return nil, err
			}
			continue
		}
		if nj.Name == "" {
			return nil, fmt.Errorf("node %d (%s) has no name", i, nj.Kind)
		}
		if _, err := g.AddNode(nj.Name, op, nj.Inputs...); err != nil {
			return nil, err
		}
	}
	g.OutputRefs(a.Outputs...)
	if err := g.Build(0); err != nil {
		return nil, err
	}
	return g, nil
}

func sequentialFromNodes(a archV2) (*Sequential, error) {
	in, ok := func() (*InputOp, bool) {
		op, err := newOp(a.Nodes[0].Kind, a.Nodes[0].Config)
		if err != nil {
			return nil, false
		}
		in, ok := op.(*InputOp)
		return in, ok
	}()
	if !ok || len(in.Shape) < 1 || in.Shape[0] != -1 {
		return nil, fmt.Errorf("sequential architecture: node 0 is not an input with a batch axis")
	}
	if err := checkInputShape(in.Shape[1:], false); err != nil {
		return nil, err
	}
	layers := make([]Layer, 0, len(a.Nodes)-1)
	for i, nj := range a.Nodes[1:] {
		op, err := newOp(nj.Kind, nj.Config)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%q): %w", i, nj.Name, err)
		}
		layers = append(layers, op)
	}
	m := NewSequential(layers...)
	if err := m.Build(in.Shape[1:], 0); err != nil {
		return nil, err
	}
	for i, n := range m.LayerNodes() {
		if n.Name != a.Nodes[i+1].Name {
			return nil, fmt.Errorf("sequential architecture: layer %d is named %q, want %q", i, a.Nodes[i+1].Name, n.Name)
		}
	}
	return m, nil
}

// loadV1 reads a version 1 file: a chain of layers, weights by index.
func loadV1(f *safetensors.File) (*Sequential, error) {
	var a archV1
	if err := json.Unmarshal([]byte(f.Metadata[metaArch]), &a); err != nil {
		return nil, fmt.Errorf("architecture JSON: %v", err)
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture has no layers")
	}
	layers := make([]Layer, len(a.Layers))
	for i, lj := range a.Layers {
		op, err := newOp(lj.Kind, lj.Config)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if _, ok := op.(*InputOp); ok {
			return nil, fmt.Errorf("layer %d: an InputLayer inside a chain", i)
		}
		layers[i] = op
	}
	if err := checkInputShape(a.InputShape, false); err != nil {
		return nil, err
	}
	m := NewSequential(layers...)
	if err := m.Build(a.InputShape, 0); err != nil {
		return nil, err
	}
	if err := loadWeights(f, m.Graph(), layerPrefix, func(i int, n *Node) string { return strconv.Itoa(i - 1) }); err != nil {
		return nil, err
	}
	return m, nil
}

// loadWeights copies the file's tensors into the graph's params; key gives
// each node's part of the tensor names.
func loadWeights(f *safetensors.File, g *Graph, prefix string, key func(i int, n *Node) string) error {
	used := 0
	for i, n := range g.order {
		for _, p := range n.Op.Params() {
			name := prefix + key(i, n) + "." + p.Name
			t, ok := f.Tensors[name]
			if !ok {
				return fmt.Errorf("missing tensor %q (node %q, %s)", name, n.Name, n.Op.Kind())
			}
			if !tensor.EqualShape(t.Shape, p.Value.Shape) {
				return fmt.Errorf("tensor %q has shape %s, node %q (%s) needs %s", name, tensor.ShapeString(t.Shape), n.Name, n.Op.Kind(), tensor.ShapeString(p.Value.Shape))
			}
			copy(p.Value.Data, t.Data)
			WeightsChanged([]*Param{p})
			used++
		}
	}
	weights := 0
	for k := range f.Tensors {
		if strings.HasPrefix(k, prefix) {
			weights++
		}
	}
	if used != weights {
		return fmt.Errorf("file has %d weight tensors, the architecture uses %d", weights, used)
	}
	return nil
}
