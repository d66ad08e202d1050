package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Preprocess is what a model's metadata says about its image input
// (keys "mean", "std" and "scale" as comma-separated numbers, "image_size"
// as HxW or one number, "color_order" RGB or BGR); zero values where it
// says nothing.
type Preprocess struct {
	Mean, Std     []float32
	Scale         float32
	Height, Width int
	ColorOrder    string
}

func parseFloats(s string) []float32 {
	var out []float32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' }) {
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			return nil
		}
		out = append(out, float32(v))
	}
	return out
}

// ParsePreprocess reads the preprocessing keys of metadata_props (see
// Preprocess); unknown or unreadable values are left zero.
func ParsePreprocess(md map[string]string) Preprocess {
	var p Preprocess
	p.Mean = parseFloats(md["mean"])
	p.Std = parseFloats(md["std"])
	if s := parseFloats(md["scale"]); len(s) == 1 {
		p.Scale = s[0]
	}
	if sz := md["image_size"]; sz != "" {
		var h, w int
		if n, _ := fmt.Sscanf(strings.ToLower(sz), "%dx%d", &h, &w); n == 2 {
			p.Height, p.Width = h, w
		} else if n, _ := fmt.Sscanf(sz, "%d", &h); n == 1 {
			p.Height, p.Width = h, h
		}
	}
	if co := strings.ToUpper(md["color_order"]); co == "RGB" || co == "BGR" {
		p.ColorOrder = co
	}
	return p
}

// Run runs inference on inputs in the graph's layouts (an image input as
// NHWC, see Inputs[i].Perm) and returns the outputs in the ONNX layout.
// The results are copies, owned by the caller. Run freezes the graph
// (nn.Graph.SetFrozen): after changing its weights, freeze it again. Run
// is safe for concurrent use (calls are serialised; use Exec().NewSession per goroutine for
// parallel inference).
func (m *Imported) Run(inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runLocked(inputs)
}

// runLocked is Run with m.mu held.
func (m *Imported) runLocked(inputs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if m.sess == nil {
		m.sess = m.exec.NewSession()
	}
	if !m.exec.Frozen() {
		// Inference: the weights are packed once (nn.Graph.SetFrozen).
		m.exec.SetFrozen(true)
	}
	if len(m.Inputs) == 0 && len(inputs) == 0 {
		inputs = []*tensor.Tensor{tensor.New(1)} // the unused input of a constant graph
	}
	outs, err := m.sess.Run(false, inputs...)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(outs))
	for i, o := range outs {
		res[i] = o.Clone()
	}
	return res, nil
}

// RunNCHW runs inference on inputs in the ONNX layout (NCHW images, as
// ONNX Runtime takes them) and returns the outputs in the ONNX layout.
func (m *Imported) RunNCHW(inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("%d inputs given, the model takes %d (%s)", len(inputs), len(m.Inputs), m.inputNames())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The NHWC copies are the model's own buffers, reused from run to run:
	// nothing outlives the run (outputs are copies), and a new 19 MB
	// tensor per batch of 32 224x224 images cost its clearing and page
	// faults on top of the transpose.
	if len(m.bufs) < len(inputs) {
		m.bufs = make([]*tensor.Tensor, len(inputs))
	}
	conv := make([]*tensor.Tensor, len(inputs))
	for i, x := range inputs {
		t, err := m.Inputs[i].fromONNX(x, &m.bufs[i])
		if err != nil {
			return nil, err
		}
		conv[i] = t
	}
	return m.runLocked(conv)
}

func (m *Imported) inputNames() string {
	var s []string
	for _, in := range m.Inputs {
		s = append(s, in.Name+" "+shapeText(in.Shape))
	}
	return strings.Join(s, ", ")
}

// FromONNX converts a tensor in the ONNX layout to the input's dlcv
// layout (a transpose for an NHWC image input), checking its shape.
func (io IOInfo) FromONNX(x *tensor.Tensor) (*tensor.Tensor, error) {
	return io.fromONNX(x, nil)
}

// fromONNX is FromONNX transposing into *buf (allocated or grown as
// needed) when buf is not nil.
func (io IOInfo) fromONNX(x *tensor.Tensor, buf **tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("input %q is nil", io.Name)
	}
	if len(x.Shape) != len(io.Shape) {
		return nil, fmt.Errorf("input %q has shape %s, the model takes %s", io.Name, tensor.ShapeString(x.Shape), shapeText(io.Shape))
	}
	for i, d := range io.Shape {
		if d >= 0 && x.Shape[i] != d {
			return nil, fmt.Errorf("input %q has shape %s, the model takes %s", io.Name, tensor.ShapeString(x.Shape), shapeText(io.Shape))
		}
	}
	if len(x.Data) != tensor.Numel(x.Shape) {
		return nil, fmt.Errorf("input %q: %d values for shape %s", io.Name, len(x.Data), tensor.ShapeString(x.Shape))
	}
	if len(io.Shape) == 0 {
		return &tensor.Tensor{Shape: []int{1}, Data: x.Data}, nil // a scalar enters as (1)
	}
	if io.Perm == nil || isIdentity(io.Perm) {
		return x, nil
	}
	if buf == nil {
		return transposeTensor(x, io.Perm), nil
	}
	*buf = transposeInto(*buf, x, io.Perm)
	return *buf, nil
}

// ToONNX converts a tensor in the input's dlcv layout to the ONNX layout.
func (io IOInfo) ToONNX(x *tensor.Tensor) *tensor.Tensor {
	if io.Perm == nil || isIdentity(io.Perm) {
		return x
	}
	return transposeTensor(x, invert(io.Perm))
}

// Summary is the imported graph's summary, headed by the ONNX inputs and
// outputs.
func (m *Imported) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ONNX model (IR version %d, opset %d", m.IRVersion, m.Opset)
	if m.Producer != "" {
		fmt.Fprintf(&b, ", from %s", m.Producer)
	}
	b.WriteString(")\n")
	for _, in := range m.Inputs {
		fmt.Fprintf(&b, "Input  %s %s %s", in.Name, TypeName(in.Type), dimsText(in))
		if l := in.Layout(); l != "" {
			fmt.Fprintf(&b, ", stored %s", l)
		}
		b.WriteString("\n")
	}
	for _, o := range m.Outputs {
		fmt.Fprintf(&b, "Output %s %s %s\n", o.Name, TypeName(o.Type), shapeText(o.Shape))
	}
	b.WriteString(m.Graph.Summary())
	return b.String()
}

func dimsText(io IOInfo) string {
	parts := make([]string, len(io.Shape))
	for i, d := range io.Shape {
		switch {
		case d >= 0:
			parts[i] = strconv.Itoa(d)
		case i < len(io.DimNames) && io.DimNames[i] != "":
			parts[i] = io.DimNames[i]
		default:
			parts[i] = "?"
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Metadata keys SaveFile writes beside the graph, so a converted model
// keeps its ONNX inputs and outputs.
const (
	MetaInputs  = "onnx.inputs"
	MetaOutputs = "onnx.outputs"
)

// SaveFile writes the imported model as a dlcv model file (safetensors):
// the inference graph (Exec) and the ONNX input and output descriptions
// as metadata. nn.LoadFile reads it back.
func (m *Imported) SaveFile(path string) error {
	extra := map[string]string{MetaInputs: ioJSON(m.Inputs), MetaOutputs: ioJSON(m.Outputs)}
	for k, v := range m.Metadata {
		if !strings.HasPrefix(k, "dlcv.") {
			extra["onnx.meta."+k] = v
		}
	}
	return nn.SaveFile(path, m.exec, extra)
}

func ioJSON(ios []IOInfo) string {
	var parts []string
	for _, io := range ios {
		perm := "null"
		if io.Perm != nil {
			perm = strings.ReplaceAll(fmt.Sprint(io.Perm), " ", ",")
		}
		shape := strings.ReplaceAll(fmt.Sprint(io.Shape), " ", ",")
		parts = append(parts, fmt.Sprintf(`{"name":%q,"shape":%s,"type":%q,"perm":%s}`, io.Name, shape, TypeName(io.Type), perm))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

var _ = slices.Clone[[]int]
