package nn

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// FormatVersion is the model-file version this package writes. Files with
// a larger version are refused with an error that says so.
const FormatVersion = 1

// Metadata keys written into the safetensors header.
const (
	metaFormat  = "dlcv.format"
	metaVersion = "dlcv.format_version"
	metaArch    = "dlcv.architecture"
)

// layerFactories makes a fresh layer of each kind, for loading; the
// layer's config is then decoded from JSON over its defaults.
var layerFactories = map[string]func() Layer{}

func init() {
	for _, f := range []func() Layer{
		func() Layer { return NewConv2D(1, 1, 1, Valid) },
		func() Layer { return NewDense(1) },
		func() Layer { return NewMaxPool2D(2, 2) },
		func() Layer { return NewAveragePool2D(2, 2) },
		func() Layer { return NewGlobalAveragePool() },
		func() Layer { return NewFlatten() },
		func() Layer { return NewReLU() },
		func() Layer { return NewLeakyReLU(0.3) },
		func() Layer { return NewELU(1) },
		func() Layer { return NewSigmoid() },
		func() Layer { return NewTanh() },
		func() Layer { return NewSoftmax() },
		func() Layer { return NewBatchNorm(0, 0) },
		func() Layer { return NewDropout(0.5) },
	} {
		layerFactories[f().Kind()] = f
	}
}

type archJSON struct {
	InputShape []int       `json:"input_shape"`
	Layers     []layerJSON `json:"layers"`
}

type layerJSON struct {
	Kind   string          `json:"kind"`
	Config json.RawMessage `json:"config"`
}

// Architecture returns the model's layers and their configuration as
// JSON (the "dlcv.architecture" entry of a model file).
func (m *Sequential) Architecture() ([]byte, error) {
	a := archJSON{InputShape: m.InputShape()}
	for i, l := range m.Layers() {
		cfg, err := json.Marshal(l)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %v", i, l.Kind(), err)
		}
		a.Layers = append(a.Layers, layerJSON{Kind: l.Kind(), Config: cfg})
	}
	return json.Marshal(a)
}

// SaveFile writes the model (architecture, weights and running statistics)
// to a safetensors file, atomically. extra holds further metadata (class
// names, preprocessing) as strings; keys starting with "dlcv." are reserved.
// Weights are named "layers.<index>.<param>", e.g. "layers.0.kernel".
func SaveFile(path string, m *Sequential, extra map[string]string) error {
	return SaveFileTensors(path, m, extra, nil)
}

// SaveFileTensors is SaveFile with further tensors stored beside the
// weights (a training checkpoint's optimizer state). Their names must not
// start with "layers.".
func SaveFileTensors(path string, m *Sequential, extra map[string]string, tensors map[string]safetensors.Tensor) error {
	arch, err := m.Architecture()
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
		if _, reserved := f.Metadata[k]; reserved {
			return fmt.Errorf("saving %s: metadata key %q is reserved", path, k)
		}
		f.Metadata[k] = v
	}
	for i, l := range m.Layers() {
		for _, p := range l.Params() {
			f.Tensors[paramKey(i, p.Name)] = safetensors.Tensor{Shape: p.Value.Shape, Data: p.Value.Data}
		}
	}
	for k, t := range tensors {
		if strings.HasPrefix(k, "layers.") {
			return fmt.Errorf("saving %s: tensor name %q is reserved for weights", path, k)
		}
		f.Tensors[k] = t
	}
	return safetensors.WriteFile(path, f)
}

func paramKey(layer int, name string) string { return "layers." + strconv.Itoa(layer) + "." + name }

// LoadFile reads a model written by SaveFile and returns it (built, in
// inference mode) with the file's metadata. Errors name the file and the
// field, layer or tensor at fault.
func LoadFile(path string) (*Sequential, map[string]string, error) {
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
// Tensors other than "layers.*" (a checkpoint's optimizer state) are left
// for the caller.
func ModelFromFile(f *safetensors.File) (*Sequential, error) {
	if f.Metadata[metaFormat] != "dlcv" {
		return nil, fmt.Errorf("not a dlcv model (metadata %s is %q)", metaFormat, f.Metadata[metaFormat])
	}
	v, err := strconv.Atoi(f.Metadata[metaVersion])
	if err != nil || v < 1 {
		return nil, fmt.Errorf("bad %s %q", metaVersion, f.Metadata[metaVersion])
	}
	if v > FormatVersion {
		return nil, fmt.Errorf("model format version %d is newer than this dlcv reads (%d): upgrade dlcv", v, FormatVersion)
	}
	var a archJSON
	if err := json.Unmarshal([]byte(f.Metadata[metaArch]), &a); err != nil {
		return nil, fmt.Errorf("architecture JSON: %v", err)
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture has no layers")
	}
	layers := make([]Layer, len(a.Layers))
	for i, lj := range a.Layers {
		newLayer, ok := layerFactories[lj.Kind]
		if !ok {
			return nil, fmt.Errorf("layer %d: unknown kind %q", i, lj.Kind)
		}
		l := newLayer()
		if len(lj.Config) > 0 {
			if err := json.Unmarshal(lj.Config, l); err != nil {
				return nil, fmt.Errorf("layer %d (%s) config: %v", i, lj.Kind, err)
			}
		}
		layers[i] = l
	}
	for _, d := range a.InputShape {
		if d < 1 || d > 1<<16 {
			return nil, fmt.Errorf("bad input shape %v", a.InputShape)
		}
	}
	m := NewSequential(layers...)
	if err := m.Build(a.InputShape, 0); err != nil {
		return nil, err
	}
	used := 0
	for i, l := range m.Layers() {
		for _, p := range l.Params() {
			key := paramKey(i, p.Name)
			t, ok := f.Tensors[key]
			if !ok {
				return nil, fmt.Errorf("missing tensor %q (layer %d, %s)", key, i, l.Kind())
			}
			if !tensor.EqualShape(t.Shape, p.Value.Shape) {
				return nil, fmt.Errorf("tensor %q has shape %s, layer %d (%s) needs %s", key, tensor.ShapeString(t.Shape), i, l.Kind(), tensor.ShapeString(p.Value.Shape))
			}
			copy(p.Value.Data, t.Data)
			used++
		}
	}
	weights := 0
	for k := range f.Tensors {
		if strings.HasPrefix(k, "layers.") {
			weights++
		}
	}
	if used != weights {
		return nil, fmt.Errorf("file has %d weight tensors, the architecture uses %d", weights, used)
	}
	return m, nil
}
