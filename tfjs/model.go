package tfjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// modelJSON is the model.json file TF.js reads (tf.loadGraphModel,
// tf.loadLayersModel) and tensorflowjs_converter writes.
type modelJSON struct {
	Format              string          `json:"format"`
	GeneratedBy         string          `json:"generatedBy"`
	ConvertedBy         *string         `json:"convertedBy"`
	ModelTopology       json.RawMessage `json:"modelTopology"`
	WeightsManifest     []ManifestGroup `json:"weightsManifest"`
	Signature           json.RawMessage `json:"signature"`
	UserDefinedMetadata json.RawMessage `json:"userDefinedMetadata"`
}

// Model is an imported TF.js model: an nn.Graph and the names the file
// gives its inputs, outputs and values.
type Model struct {
	// Graph computes the model. Its inputs and outputs are in the order of
	// Inputs and Outputs. Layers models are trainable; graph models train
	// too where every op has a gradient (their weights become params).
	Graph *nn.Graph
	// Format is "graph-model" or "layers-model".
	Format string
	// Inputs and Outputs are the TF.js names (node names of a graph
	// model, layer names of a layers model).
	Inputs, Outputs []string
	// GeneratedBy and ConvertedBy are the file's provenance fields.
	GeneratedBy, ConvertedBy string
	// Producer is a graph model's GraphDef producer version (the TF
	// version that made it; 0 when the file does not say); KerasVersion a
	// layers model's.
	Producer     int
	KerasVersion string

	values map[string]*nn.Value
}

// Value returns the graph value of a TF.js tensor name ("node",
// "node:1", or a layer name), for Session.RunValues; nil if the model has
// no such value (a pruned node, a Const folded into a layer's weights).
func (m *Model) Value(name string) *nn.Value {
	if v, ok := m.values[name]; ok {
		return v
	}
	if base, idx, ok := strings.Cut(name, ":"); ok && idx == "0" {
		return m.values[base]
	}
	return nil
}

// ShardReader returns the contents of a weight shard named by a manifest
// path.
type ShardReader func(path string) ([]byte, error)

// Options adjust an import.
type Options struct {
	// Outputs, for a graph model, replaces the signature's outputs with
	// these tensors ("node" or "node:1"), as TF.js's execute(inputs,
	// outputs) does: only the nodes they need are imported, so a graph
	// whose post-processing dlcv cannot run still yields its heads.
	Outputs []string
}

// Load reads a TF.js model.json and its weight shards (the manifest's
// paths, relative to the file's folder) and imports it: graph models
// (TensorFlow GraphDef) and layers models (Keras JSON) alike. Errors name
// the file and the node, layer or weight at fault; unsupported ops are
// listed all at once.
func Load(path string) (*Model, error) { return LoadOptions(path, Options{}) }

// LoadOptions is Load with options.
func LoadOptions(path string, opts Options) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	dir := filepath.Dir(path)
	read := func(p string) ([]byte, error) {
		// Shards live beside model.json: a path leaving the folder is
		// refused rather than read.
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return nil, fmt.Errorf("shard path %q leaves the model's folder", p)
		}
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	}
	return ParseOptions(filepath.Base(path), b, read, opts)
}

// Parse imports a model.json's contents; name is used in error messages,
// shards reads the weight files.
func Parse(name string, modelJSONBytes []byte, shards ShardReader) (*Model, error) {
	return ParseOptions(name, modelJSONBytes, shards, Options{})
}

// ParseOptions is Parse with options.
func ParseOptions(name string, modelJSONBytes []byte, shards ShardReader, opts Options) (*Model, error) {
	m, err := parse(name, modelJSONBytes, shards, opts)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", name, err)
	}
	return m, nil
}

func parse(name string, b []byte, shards ShardReader, opts Options) (*Model, error) {
	var mj modelJSON
	if err := json.Unmarshal(b, &mj); err != nil {
		return nil, fmt.Errorf("not a TF.js model.json: %v", err)
	}
	if len(bytes.TrimSpace(mj.ModelTopology)) == 0 || string(bytes.TrimSpace(mj.ModelTopology)) == "null" {
		return nil, fmt.Errorf("no modelTopology")
	}
	format, err := sniffFormat(&mj)
	if err != nil {
		return nil, err
	}
	weights, err := readWeights(mj.WeightsManifest, shards, format)
	if err != nil {
		return nil, err
	}
	var m *Model
	switch format {
	case "graph-model":
		sig, err := signature(&mj)
		if err != nil {
			return nil, err
		}
		if len(opts.Outputs) > 0 {
			if sig == nil {
				sig = &graphSignature{}
			}
			sig.outputs = nil
			for _, o := range opts.Outputs {
				sig.outputs = append(sig.outputs, sigEntry{key: o, name: o})
			}
		}
		m, err = importGraph(mj.ModelTopology, weights, sig)
		if err != nil {
			return nil, err
		}
	default:
		if len(opts.Outputs) > 0 {
			return nil, fmt.Errorf("Options.Outputs is for graph models; this is a layers model")
		}
		m, err = importLayers(mj.ModelTopology, weights)
		if err != nil {
			return nil, err
		}
	}
	if err := m.fuseDecomposed(); err != nil {
		return nil, err
	}
	m.Format = format
	m.GeneratedBy = mj.GeneratedBy
	if mj.ConvertedBy != nil {
		m.ConvertedBy = *mj.ConvertedBy
	}
	return m, nil
}

// sniffFormat returns "graph-model" or "layers-model": the format field
// when present, else the topology's shape (a GraphDef has "node").
func sniffFormat(mj *modelJSON) (string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(mj.ModelTopology, &top); err != nil {
		return "", fmt.Errorf("modelTopology is not a JSON object: %v", err)
	}
	_, hasNode := top["node"]
	_, hasKeras := top["model_config"]
	_, hasClass := top["class_name"]
	switch mj.Format {
	case "graph-model":
		if !hasNode {
			return "", fmt.Errorf("format graph-model, but modelTopology has no \"node\" list")
		}
		return mj.Format, nil
	case "layers-model":
		return mj.Format, nil
	case "":
		switch {
		case hasNode:
			return "graph-model", nil
		case hasKeras || hasClass:
			return "layers-model", nil
		}
		return "", fmt.Errorf("modelTopology is neither a GraphDef (node) nor a Keras model (model_config, class_name)")
	}
	return "", fmt.Errorf("unknown format %q (want graph-model or layers-model)", mj.Format)
}

// weightOwner names what a weight belongs to: in a graph model the Const
// node of the same name, in a layers model the layer its name starts
// with ("conv1/kernel").
func weightOwner(format, name string) string {
	if format == "graph-model" {
		return fmt.Sprintf("the value of Const node %q", name)
	}
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return ""
	}
	return fmt.Sprintf("%s of layer %q", parts[len(parts)-1], parts[len(parts)-2])
}

// readWeights reads and decodes every manifest group.
func readWeights(groups []ManifestGroup, shards ShardReader, format string) (map[string]*Weight, error) {
	out := map[string]*Weight{}
	for gi, g := range groups {
		contents := make([][]byte, len(g.Paths))
		for i, p := range g.Paths {
			if shards == nil {
				return nil, fmt.Errorf("weights group %d: no reader for shard %q", gi, p)
			}
			b, err := shards(p)
			if err != nil {
				return nil, fmt.Errorf("weights group %d: shard %q: %w", gi, p, err)
			}
			contents[i] = b
		}
		ws, err := DecodeGroup(g, contents)
		if err != nil {
			var we *WeightError
			if errors.As(err, &we) {
				we.Owner = weightOwner(format, we.Name)
			}
			return nil, fmt.Errorf("weights group %d: %w", gi, err)
		}
		for i, w := range ws {
			if g.Weights[i].Group == "optimizer" {
				continue
			}
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("weights group %d: weight %q appears twice in the manifest", gi, w.Name)
			}
			out[w.Name] = w
		}
	}
	return out, nil
}

// sigEntry is one input or output of a graph model's signature.
type sigEntry struct {
	key   string
	name  string // tensor name, "node:0"
	shape []int  // nil when not given
}

type graphSignature struct {
	inputs, outputs []sigEntry
}

// signature reads the graph model's signature as TF.js does: the one in
// userDefinedMetadata wins over the top-level one. Entries keep the file's
// order, which is the order TF.js lists the outputs in.
func signature(mj *modelJSON) (*graphSignature, error) {
	raw := mj.Signature
	if len(mj.UserDefinedMetadata) > 0 {
		var udm map[string]json.RawMessage
		if err := json.Unmarshal(mj.UserDefinedMetadata, &udm); err == nil {
			if s, ok := udm["signature"]; ok && string(s) != "null" {
				raw = s
			}
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	sig := &graphSignature{}
	for _, which := range []string{"inputs", "outputs"} {
		p, ok := parts[which]
		if !ok || string(p) == "null" {
			continue
		}
		keys, vals, err := orderedObject(p)
		if err != nil {
			return nil, fmt.Errorf("signature %s: %v", which, err)
		}
		var list []sigEntry
		for i, k := range keys {
			var e struct {
				Name        string       `json:"name"`
				TensorShape *tensorShape `json:"tensorShape"`
			}
			if err := json.Unmarshal(vals[i], &e); err != nil {
				return nil, fmt.Errorf("signature %s %q: %v", which, k, err)
			}
			if e.Name == "" {
				e.Name = k
			}
			se := sigEntry{key: k, name: e.Name}
			if e.TensorShape != nil && !e.TensorShape.UnknownRank {
				for _, d := range e.TensorShape.Dim {
					se.shape = append(se.shape, int(d.Size))
				}
			}
			list = append(list, se)
		}
		if which == "inputs" {
			sig.inputs = list
		} else {
			sig.outputs = list
		}
	}
	return sig, nil
}

// orderedObject decodes a JSON object keeping its keys' order.
func orderedObject(b []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	t, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("want a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, ok := t.(string)
		if !ok {
			return nil, nil, fmt.Errorf("bad object key")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return keys, vals, nil
}

// IsModelJSON reports whether b looks like a TF.js model.json: a JSON
// object with a modelTopology and a weightsManifest or format (for the CLI
// to tell it from other model files without importing it).
func IsModelJSON(b []byte) bool {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	_, topo := top["modelTopology"]
	_, manifest := top["weightsManifest"]
	_, format := top["format"]
	return topo && (manifest || format)
}

// Describe lists the model's format, inputs and outputs with their shapes
// (what dlcv summary prints after the layer table).
func (m *Model) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TF.js %s", m.Format)
	switch {
	case m.Format == "graph-model" && m.Producer > 0:
		fmt.Fprintf(&b, " (GraphDef producer %d)", m.Producer)
	case m.KerasVersion != "":
		fmt.Fprintf(&b, " (Keras %s)", m.KerasVersion)
	}
	if m.GeneratedBy != "" {
		fmt.Fprintf(&b, ", generated by %s", m.GeneratedBy)
	}
	if m.ConvertedBy != "" {
		fmt.Fprintf(&b, ", converted by %s", m.ConvertedBy)
	}
	b.WriteString("\n")
	list := func(what string, names []string, vals []*nn.Value) {
		for i, n := range names {
			shape := "?"
			if i < len(vals) && vals[i].Shape() != nil {
				shape = strings.ReplaceAll(fmt.Sprint(vals[i].Shape()), "-1", "?")
			}
			fmt.Fprintf(&b, "%s %s %s\n", what, n, shape)
		}
	}
	list("Input:", m.Inputs, m.Graph.Inputs())
	list("Output:", m.Outputs, m.Graph.Outputs())
	return b.String()
}

// fuseDecomposed replaces the activations the converter wrote as
// element-wise chains (MobileNetV3's hard swish as Add, Relu6, Mul, Mul)
// with the activation ops (nn.FuseDecomposed), and points the TF.js names
// at the new graph's values: nodes keep their names, and the tensors of
// a decomposition that nothing else reads are gone (Value gives nil).
func (m *Model) fuseDecomposed() error {
	g, err := nn.FuseDecomposed(m.Graph)
	if err != nil || g == m.Graph {
		return err
	}
	for name, v := range m.values {
		n := g.NodeByName(v.Node().Name)
		if n == nil || n.Out(v.Index()) == nil {
			delete(m.values, name)
			continue
		}
		m.values[name] = n.Out(v.Index())
	}
	m.Graph = g
	return nil
}
