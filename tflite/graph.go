package tflite

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The graph importer turns a .tflite model into an nn.Graph: a float
// network on the engine every other dlcv model uses, which trains
// (transfer learning from a pretrained classifier) and saves as a dlcv
// model file. Quantized models are dequantized: every quantized constant
// becomes real = scale * (q - zero_point) (per channel along the
// quantized dimension for int8 weights), an int32 bias real = q * s_in *
// s_w[channel], and activations are computed in float without rounding to
// their 8-bit grids. The graph therefore computes the float network the
// quantized model approximates: close to the integer interpreter (Model.Run)
// but not equal to it; Model.Run stays the exact path for inference.

// GraphOptions configures ToGraph.
type GraphOptions struct {
	// Outputs cuts the graph: the tensors whose values become the graph's
	// outputs, in this order, instead of the model's outputs. A tensor is
	// named by its TFLite name, by the node name made from it (see
	// ToGraph), or by one of the ';'-joined names of a fused tensor when
	// only one tensor has it.
	// Only the operators they depend on are converted, so a backbone can
	// be taken from a model whose head the importer does not support.
	Outputs []string
	// RealInput makes the graph take the input tensor's real values, what
	// Model.Run takes, instead of pixel values (see ToGraph).
	RealInput bool
	// PixelMax is the value of a white pixel in the graph's input: 255
	// (the default, for 0..255 images) or 1 for images scaled to [0, 1].
	PixelMax float32
}

// ToGraph converts m into an nn.Graph. Nodes are named after the tensors
// they compute: the part of the TFLite tensor name before the first ';'
// (the converter joins the names of fused TensorFlow ops with ';'), ':'
// replaced by '_', the whole name or a numeric suffix where that would
// repeat a name. Weights are copied, so the graph and m are independent.
//
// Inputs: unless RealInput is set, an image input (rank 4, NHWC) takes
// pixel values 0..PixelMax, as a float tensor of shape (batch, H, W, C),
// and the graph's first nodes map them as Preprocess does:
// "<input>/dequantize" computes (p*255/PixelMax - mean) / std with mean
// and std from InputNorm (a quantized input's own dequantization, so a
// uint8 model's graph sees exactly the values its interpreter does).
// Other inputs take real values.
//
// Operators: ADD, SUB, MUL, DIV, CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, RESHAPE, SQUEEZE,
// SOFTMAX, CONCATENATION, PAD, PADV2, QUANTIZE, DEQUANTIZE, LOGISTIC,
// TANH, RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU and HARD_SWISH, with fused
// NONE, RELU, RELU_N1_TO_1, RELU6 and TANH activations. QUANTIZE and
// DEQUANTIZE of activations are the identity on real values and add no
// node; DEQUANTIZE of a constant (float16 or int8 weights) is folded into
// it. Operators outside this list are reported all at once, by index,
// name, version and output tensor. Activations written as element-wise
// chains become one op (nn.FuseDecomposed).
func ToGraph(m *Model, opts GraphOptions) (*nn.Graph, error) {
	if m == nil || m.src == nil {
		return nil, fmt.Errorf("tflite: ToGraph: no model")
	}
	return parseGraph(m.src, m.path, opts)
}

// LoadGraph reads a .tflite file and converts it as ToGraph does, without
// preparing the integer interpreter (so a model whose operators only the
// graph importer supports loads too).
func LoadGraph(path string, opts GraphOptions) (*nn.Graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseGraph(b, path, opts)
}

// ParseGraph converts the bytes of a .tflite file as ToGraph does. The
// graph keeps no reference to b.
func ParseGraph(b []byte, opts GraphOptions) (*nn.Graph, error) {
	return parseGraph(b, "", opts)
}

func parseGraph(b []byte, path string, opts GraphOptions) (g *nn.Graph, err error) {
	prefix := "tflite: "
	if path != "" {
		prefix += path + ": "
	}
	defer func() {
		// Last resort, as in Parse: every read is bounds-checked, so this
		// only fires on a bug; report it as an error, not a crash.
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("%scorrupt model file: %v", prefix, r)
		}
	}()
	def, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s%s", prefix, strings.TrimPrefix(err.Error(), "tflite: "))
	}
	c := &graphConv{def: def, opts: opts, prefix: prefix}
	return c.convert()
}

// graphConv holds one conversion.
type graphConv struct {
	def    *modelDef
	opts   GraphOptions
	prefix string // "tflite: FILE: " for errors

	g      *nn.Graph
	val    []*nn.Value    // per tensor: its value in the graph
	folded [][]float32    // per tensor: constant values folded from DEQUANTIZE
	names  map[string]int // node names in use -> count of suffixed copies
	fills  []weightFill
	od     *opDef // the operator being converted, for errors
	odIdx  int
}

// weightFill is the weights of one node, copied in after Build (which
// creates them with the shapes inferred).
type weightFill struct {
	node   string
	params map[string][]float32
}

// graphOps maps the supported builtin codes to their converters.
var graphOps map[int32]func(c *graphConv, od *opDef) error

const (
	opLogistic   = 14
	opMul        = 18
	opRelu       = 19
	opReluN1To1  = 20
	opRelu6      = 21
	opTanh       = 28
	opSub        = 41
	opDiv        = 42
	opPadV2      = 60
	opLeakyRelu  = 98
	opHardSwish  = 117
	opCustom     = 32
	actTanh      = 4
	maxGraphPads = 1 << 10
)

func init() {
	opNames[opReluN1To1] = "RELU_N1_TO_1"
	opNames[opLeakyRelu] = "LEAKY_RELU"
	binary := func(c *graphConv, od *opDef) error { return c.binary(od) }
	unary := func(c *graphConv, od *opDef) error { return c.unary(od) }
	graphOps = map[int32]func(c *graphConv, od *opDef) error{
		opAdd: binary, opSub: binary, opMul: binary, opDiv: binary,
		opConv2D:        (*graphConv).conv,
		opDepthwiseConv: (*graphConv).depthwise,
		opFullyConn:     (*graphConv).fullyConnected,
		opAveragePool2D: (*graphConv).pool,
		opMaxPool2D:     (*graphConv).pool,
		opMean:          (*graphConv).mean,
		opReshape:       (*graphConv).reshape,
		opSqueeze:       (*graphConv).squeeze,
		opSoftmax:       (*graphConv).softmax,
		opConcatenation: (*graphConv).concat,
		opPad:           (*graphConv).pad,
		opPadV2:         (*graphConv).pad,
		opQuantize:      (*graphConv).requantize,
		opDequantize:    (*graphConv).requantize,
		opLogistic:      unary, opTanh: unary, opRelu: unary, opRelu6: unary,
		opReluN1To1: unary, opLeakyRelu: unary, opHardSwish: unary,
	}
}

// opText names an operator for errors: `operator 12 (CONV_2D v3, output
// "name")`; the version is the operator code's, TFLite's opset.
func (c *graphConv) opText(i int, od *opDef) string { return opText(c.def, i, od) }

// errf is an error about the operator being converted.
func (c *graphConv) errf(format string, args ...any) error {
	return fmt.Errorf("%s%s: %s", c.prefix, c.opText(c.odIdx, c.od), fmt.Sprintf(format, args...))
}

func (c *graphConv) convert() (*nn.Graph, error) {
	d := c.def
	nt := len(d.Tensors)
	c.g = nn.NewGraph()
	c.val = make([]*nn.Value, nt)
	c.folded = make([][]float32, nt)
	c.names = map[string]int{}
	if len(d.Inputs) == 0 || len(d.Outputs) == 0 {
		return nil, fmt.Errorf("%smodel has %d inputs and %d outputs", c.prefix, len(d.Inputs), len(d.Outputs))
	}
	outs := d.Outputs
	if len(c.opts.Outputs) > 0 {
		var err error
		if outs, err = c.findOutputs(c.opts.Outputs); err != nil {
			return nil, err
		}
	}
	if c.opts.PixelMax == 0 {
		c.opts.PixelMax = 255
	}
	if !(c.opts.PixelMax > 0) || math.IsInf(float64(c.opts.PixelMax), 0) {
		return nil, fmt.Errorf("%sPixelMax %v must be positive", c.prefix, c.opts.PixelMax)
	}
	// Only the operators the outputs depend on are converted.
	needed := make([]bool, nt)
	for _, t := range outs {
		needed[t] = true
	}
	use := make([]bool, len(d.Ops))
	for i := len(d.Ops) - 1; i >= 0; i-- {
		od := &d.Ops[i]
		for _, t := range od.Outputs {
			use[i] = use[i] || needed[t]
		}
		if use[i] {
			for _, t := range od.Inputs {
				if t >= 0 {
					needed[t] = true
				}
			}
		}
	}
	var unsupported []string
	for i := range d.Ops {
		if od := &d.Ops[i]; use[i] && graphOps[od.Code] == nil {
			unsupported = append(unsupported, c.opText(i, od))
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("%sthe graph importer does not support %d operator(s): %s", c.prefix, len(unsupported), strings.Join(unsupported, "; "))
	}
	for _, t := range d.Inputs {
		if needed[t] {
			if err := c.input(t); err != nil {
				return nil, err
			}
		}
	}
	for i := range d.Ops {
		if !use[i] {
			continue
		}
		od := &d.Ops[i]
		c.od, c.odIdx = od, i
		if len(od.Outputs) == 0 {
			return nil, c.errf("no outputs")
		}
		for _, t := range od.Outputs {
			if d.Tensors[t].Data != nil || c.val[t] != nil || c.folded[t] != nil {
				return nil, c.errf("writes tensor %q, which is a constant or already computed", d.Tensors[t].Name)
			}
		}
		if err := graphOps[od.Code](c, od); err != nil {
			return nil, err
		}
		if err := c.g.Err(); err != nil {
			return nil, c.errf("%v", err)
		}
	}
	var refs []string
	for _, t := range outs {
		if c.val[t] == nil {
			return nil, fmt.Errorf("%soutput tensor %q is never computed", c.prefix, d.Tensors[t].Name)
		}
		refs = append(refs, c.val[t].Name())
	}
	c.g.OutputRefs(refs...)
	if err := c.g.Build(0); err != nil {
		return nil, fmt.Errorf("%s%v", c.prefix, err)
	}
	for _, f := range c.fills {
		n := c.g.NodeByName(f.node)
		for _, p := range n.Op.Params() {
			v, ok := f.params[p.Name]
			if !ok {
				continue
			}
			if len(v) != len(p.Value.Data) {
				return nil, fmt.Errorf("%snode %q (%s): %s has %d values, the layer needs %s", c.prefix, f.node, n.Op.Kind(), p.Name, len(v), tensor.ShapeString(p.Value.Shape))
			}
			copy(p.Value.Data, v)
		}
	}
	// A hard swish written as ADD, RELU6, MUL, MUL (converters before
	// HARD_SWISH existed) becomes one op.
	g, err := nn.FuseDecomposed(c.g)
	if err != nil {
		return nil, fmt.Errorf("%s%v", c.prefix, err)
	}
	return g, nil
}

// findOutputs resolves GraphOptions.Outputs to tensors: a tensor name, or
// the node name made from one.
func (c *graphConv) findOutputs(names []string) ([]int, error) {
	var outs []int
	for _, name := range names {
		found := -1
		for i, td := range c.def.Tensors {
			if td.Name == name {
				found = i
				break
			}
		}
		if found < 0 {
			for i, td := range c.def.Tensors {
				if td.Data == nil && baseName(td.Name, i) == name {
					if found >= 0 {
						return nil, fmt.Errorf("%soutput %q: tensors %q and %q both give that node name; use the full tensor name", c.prefix, name, c.def.Tensors[found].Name, td.Name)
					}
					found = i
				}
			}
		}
		if found < 0 {
			// One of the ';'-joined names of a fused tensor.
			var cands []string
			for i, td := range c.def.Tensors {
				if td.Data == nil && slices.Contains(strings.Split(td.Name, ";"), name) {
					found = i
					cands = append(cands, fmt.Sprintf("%q", baseName(td.Name, i)))
				}
			}
			if len(cands) > 1 {
				return nil, fmt.Errorf("%soutput %q is part of the names of %d tensors (nodes %s); use a full tensor name", c.prefix, name, len(cands), strings.Join(cands, ", "))
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("%soutput %q is not a tensor of the model", c.prefix, name)
		}
		if c.def.Tensors[found].Data != nil {
			return nil, fmt.Errorf("%soutput %q is a constant tensor", c.prefix, name)
		}
		outs = append(outs, found)
	}
	return outs, nil
}

// baseName is a tensor's preferred node name: the name up to the first
// ';', with ':' (the graph's output separator) replaced.
func baseName(name string, i int) string {
	if k := strings.IndexByte(name, ';'); k >= 0 {
		name = name[:k]
	}
	name = strings.ReplaceAll(name, ":", "_")
	if name == "" {
		name = fmt.Sprintf("tensor_%d", i)
	}
	return name
}

// nodeName picks an unused node name for tensor t (suffix "" for the
// tensor's own node, else a helper node such as "/pre_activation").
func (c *graphConv) nodeName(t int, suffix string) string {
	name := c.def.Tensors[t].Name
	cands := []string{baseName(name, t) + suffix, strings.ReplaceAll(name, ":", "_") + suffix}
	for _, n := range cands {
		if _, used := c.names[n]; !used && n != suffix {
			c.names[n] = 0
			return n
		}
	}
	base := cands[0]
	for {
		c.names[base]++
		n := fmt.Sprintf("%s_%d", base, c.names[base])
		if _, used := c.names[n]; !used {
			c.names[n] = 0
			return n
		}
	}
}

// node adds a node for tensor t (its value becomes t's), or a helper node
// when suffix is not empty.
func (c *graphConv) node(t int, suffix string, op nn.Op, in ...*nn.Value) *nn.Value {
	v := c.g.Node(c.nodeName(t, suffix), op, in...).Out(0)
	if suffix == "" {
		c.val[t] = v
	}
	return v
}

// input adds graph input t and, for an image input, the pixel mapping.
func (c *graphConv) input(t int) error {
	td := &c.def.Tensors[t]
	if td.Data != nil {
		return fmt.Errorf("%sinput tensor %q is a constant", c.prefix, td.Name)
	}
	if len(td.Shape) == 0 || slices.Contains(td.Shape[1:], 0) {
		return fmt.Errorf("%sinput tensor %q has shape %v", c.prefix, td.Name, td.Shape)
	}
	if td.Type != Float32 && td.Type != Uint8 && td.Type != Int8 {
		return fmt.Errorf("%sinput tensor %q is %s; the graph takes float32, uint8 or int8 inputs", c.prefix, td.Name, td.Type)
	}
	shape := append([]int{-1}, td.Shape[1:]...)
	x := c.g.InputBatch(c.nodeName(t, ""), shape...)
	c.val[t] = x
	if c.opts.RealInput || len(td.Shape) != 4 {
		return c.g.Err()
	}
	mean, scale := pixelMap(td)
	k := c.opts.PixelMax / 255
	if k != 1 {
		mean, scale = mean*k, scale/k
	}
	// (p - mean) * scale: for integer pixels and a quantized input, the
	// exact centred integer times the scale, as the interpreter computes.
	mc := c.node(t, "/mean", nn.NewConstant(scalar(mean)))
	sc := c.node(t, "/scale", nn.NewConstant(scalar(scale)))
	centred := c.node(t, "/centred", nn.NewSub(), x, mc)
	c.val[t] = c.node(t, "/dequantize", nn.NewMul(), centred, sc)
	return c.g.Err()
}

func scalar(v float32) *tensor.Tensor {
	t := tensor.New(1)
	t.Data[0] = v
	return t
}

// isConst reports whether tensor t has constant values (stored, or folded
// from a DEQUANTIZE of a constant).
func (c *graphConv) isConst(t int) bool {
	return t >= 0 && (c.def.Tensors[t].Data != nil || c.folded[t] != nil)
}

// constValues returns the real values of constant tensor t.
func (c *graphConv) constValues(t int) ([]float32, error) {
	if c.folded[t] != nil {
		return c.folded[t], nil
	}
	td := &c.def.Tensors[t]
	v, err := dequantize(td)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	return v, nil
}

// arg returns the value of input k of od: an activation, or a Constant
// node for a constant operand.
func (c *graphConv) arg(od *opDef, k int) (*nn.Value, error) {
	if k >= len(od.Inputs) || od.Inputs[k] < 0 {
		return nil, c.errf("lacks input %d", k)
	}
	t := od.Inputs[k]
	if c.val[t] != nil {
		return c.val[t], nil
	}
	td := &c.def.Tensors[t]
	if !c.isConst(t) {
		return nil, c.errf("reads tensor %q before it is computed", td.Name)
	}
	v, err := c.constValues(t)
	if err != nil {
		return nil, err
	}
	shape := td.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	k2, err := tensor.FromSlice(slices.Clone(v), shape...)
	if err != nil {
		return nil, c.errf("constant %q: %v", td.Name, err)
	}
	return c.node(t, "", nn.NewConstant(k2)), nil
}

// ints reads constant input k (shapes, axes, paddings).
func (c *graphConv) ints(od *opDef, k int) ([]int, error) {
	if k >= len(od.Inputs) || od.Inputs[k] < 0 {
		return nil, c.errf("lacks input %d", k)
	}
	td := &c.def.Tensors[od.Inputs[k]]
	v, err := constInts(td)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	return v, nil
}

// ioCount checks the numbers of inputs and outputs.
func (c *graphConv) ioCount(od *opDef, minIn, maxIn int) error {
	if len(od.Inputs) < minIn || len(od.Inputs) > maxIn || len(od.Outputs) != 1 {
		return c.errf("has %d inputs and %d outputs, want %d to %d inputs and 1 output", len(od.Inputs), len(od.Outputs), minIn, maxIn)
	}
	return nil
}

// fusedAct maps a fused activation code to the epilogue Act.
func (c *graphConv) fusedAct(code uint8) (nn.Act, error) {
	switch code {
	case actNone:
		return nn.Act{}, nil
	case actRelu:
		return nn.Act{Kind: "relu"}, nil
	case actRelu1:
		return nn.Act{Kind: "clip", Min: -1, Max: 1}, nil
	case actRelu6:
		return nn.Act{Kind: "clip", Min: 0, Max: 6}, nil
	case actTanh:
		return nn.Act{Kind: "tanh"}, nil
	}
	return nn.Act{}, c.errf("fused activation %d is not supported", code)
}

// actOp is the standalone op of a fused activation (nil for none).
func actOp(a nn.Act) nn.Op {
	switch a.Kind {
	case "relu":
		return nn.NewReLU()
	case "clip":
		if a.Min == 0 && a.Max == 6 {
			return nn.NewReLU6()
		}
		return nn.NewClip(a.Min, a.Max)
	case "tanh":
		return nn.NewTanh()
	}
	return nil
}

// withAct adds op for od's output, followed by its fused activation when
// there is one (the op's node is then "<name>/pre_activation").
func (c *graphConv) withAct(od *opDef, act uint8, op nn.Op, in ...*nn.Value) error {
	a, err := c.fusedAct(act)
	if err != nil {
		return err
	}
	t := od.Outputs[0]
	ao := actOp(a)
	if ao == nil {
		c.node(t, "", op, in...)
		return nil
	}
	pre := c.node(t, "/pre_activation", op, in...)
	c.node(t, "", ao, pre)
	return nil
}

// optAct reads a fused_activation_function field (absent options: NONE).
func optAct(od *opDef, field int) (uint8, error) {
	if !od.HasOpts {
		return actNone, nil
	}
	return od.Options.uint8(field, "fused_activation_function", actNone)
}

func (c *graphConv) binary(od *opDef) error {
	if err := c.ioCount(od, 2, 2); err != nil {
		return err
	}
	a, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	b, err := c.arg(od, 1)
	if err != nil {
		return err
	}
	act, err := optAct(od, 0)
	if err != nil {
		return c.errf("%v", err)
	}
	var op nn.Op
	switch od.Code {
	case opAdd:
		op = nn.NewAdd()
	case opSub:
		op = nn.NewSub()
	case opMul:
		op = nn.NewMul()
	default:
		op = nn.NewDiv()
	}
	return c.withAct(od, act, op, a, b)
}

func (c *graphConv) unary(od *opDef) error {
	if err := c.ioCount(od, 1, 1); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	var op nn.Op
	switch od.Code {
	case opLogistic:
		op = nn.NewSigmoid()
	case opTanh:
		op = nn.NewTanh()
	case opRelu:
		op = nn.NewReLU()
	case opRelu6:
		op = nn.NewReLU6()
	case opReluN1To1:
		op = nn.NewClip(-1, 1)
	case opHardSwish:
		op = nn.NewHardSwish()
	case opLeakyRelu:
		alpha := float32(0)
		if od.HasOpts {
			if alpha, err = od.Options.float32(0, "alpha", 0); err != nil {
				return c.errf("%v", err)
			}
		}
		if !(alpha >= 0) || math.IsInf(float64(alpha), 0) {
			return c.errf("alpha %v: the graph supports finite slopes >= 0", alpha)
		}
		op = nn.NewLeakyReLU(alpha)
	}
	c.node(od.Outputs[0], "", op, x)
	return nil
}

// padding maps TFLite's SAME/VALID onto nn's: SAME is TensorFlow's rule,
// which nn.Same is.
func padding(p convParams) nn.Padding {
	if p.same {
		return nn.Same
	}
	return nn.Valid
}

// filter checks that input 1 is a constant filter of the given rank and
// returns its shape and real values.
func (c *graphConv) filter(od *opDef, rank int) ([]int, []float32, error) {
	if len(od.Inputs) < 2 || od.Inputs[1] < 0 || !c.isConst(od.Inputs[1]) {
		return nil, nil, c.errf("the filter must be a constant")
	}
	td := &c.def.Tensors[od.Inputs[1]]
	if len(td.Shape) != rank || slices.Contains(td.Shape, 0) {
		return nil, nil, c.errf("filter %q has shape %v, want rank %d", td.Name, td.Shape, rank)
	}
	v, err := c.constValues(od.Inputs[1])
	if err != nil {
		return nil, nil, err
	}
	return td.Shape, v, nil
}

// bias returns the real bias of a convolution-like operator with oc
// output channels whose filter's per-channel scales run along dimension
// chanDim, or nil when it has none. A quantized int32 bias is
// q * s_in * s_w[channel], the scale of the accumulator it is added to.
func (c *graphConv) bias(od *opDef, oc int) ([]float32, error) {
	if len(od.Inputs) < 3 || od.Inputs[2] < 0 {
		return nil, nil
	}
	t := od.Inputs[2]
	td := &c.def.Tensors[t]
	if !c.isConst(t) || len(td.Shape) != 1 || td.Shape[0] != oc {
		return nil, c.errf("bias %q has shape %v, want a constant [%d]", td.Name, td.Shape, oc)
	}
	in, w := &c.def.Tensors[od.Inputs[0]], &c.def.Tensors[od.Inputs[1]]
	if td.Type == Int32 && td.Data != nil && in.Quant != nil && w.Quant != nil && len(in.Quant.Scale) == 1 {
		ws := w.Quant.Scale
		if len(ws) != 1 && len(ws) != oc {
			return nil, c.errf("filter %q has %d scales for %d channels", w.Name, len(ws), oc)
		}
		raw, err := rawValues(td)
		if err != nil {
			return nil, c.errf("%v", err)
		}
		for i := range raw {
			s := float64(in.Quant.Scale[0]) * float64(ws[min(i, len(ws)-1)])
			raw[i] = float32(float64(raw[i]) * s)
		}
		return raw, nil
	}
	return c.constValues(t)
}

// channels is the last dimension of v's shape (-1 when unknown).
func channels(v *nn.Value) int {
	s := v.Shape()
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}

func (c *graphConv) conv(od *opDef) error {
	if err := c.ioCount(od, 2, 3); err != nil {
		return err
	}
	p, _, err := readConvOptions(od)
	if err != nil {
		return c.errf("%v", err)
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	ws, w, err := c.filter(od, 4)
	if err != nil {
		return err
	}
	oc, kh, kw, ic := ws[0], ws[1], ws[2], ws[3]
	cin := channels(x)
	if len(x.Shape()) != 4 || cin < 1 || cin%ic != 0 || oc%(cin/ic) != 0 {
		return c.errf("input %v does not fit filter %v (OHWI)", x.Shape(), ws)
	}
	b, err := c.bias(od, oc)
	if err != nil {
		return err
	}
	a, err := c.fusedAct(p.act)
	if err != nil {
		return err
	}
	op := &nn.Conv2D{Filters: oc, KernelH: kh, KernelW: kw, StrideH: p.strideH, StrideW: p.strideW,
		Padding: padding(p), UseBias: b != nil, Groups: cin / ic, DilationH: p.dilH, DilationW: p.dilW, Act: a}
	// OHWI -> (KH, KW, I, O).
	k := make([]float32, len(w))
	for o := 0; o < oc; o++ {
		for j := 0; j < kh*kw*ic; j++ {
			k[j*oc+o] = w[o*kh*kw*ic+j]
		}
	}
	v := c.node(od.Outputs[0], "", op, x)
	c.fill(v, map[string][]float32{"kernel": k, "bias": b})
	return nil
}

func (c *graphConv) depthwise(od *opDef) error {
	if err := c.ioCount(od, 2, 3); err != nil {
		return err
	}
	p, _, err := readConvOptions(od)
	if err != nil {
		return c.errf("%v", err)
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	ws, w, err := c.filter(od, 4)
	if err != nil {
		return err
	}
	kh, kw, oc := ws[1], ws[2], ws[3]
	cin := channels(x)
	// The file's depth_multiplier is sometimes 0 or stale: the filter and
	// input shapes decide, as in the interpreter.
	if ws[0] != 1 || len(x.Shape()) != 4 || cin < 1 || oc%cin != 0 {
		return c.errf("input %v does not fit filter %v ([1, KH, KW, C*M])", x.Shape(), ws)
	}
	b, err := c.bias(od, oc)
	if err != nil {
		return err
	}
	a, err := c.fusedAct(p.act)
	if err != nil {
		return err
	}
	op := &nn.DepthwiseConv2D{KernelH: kh, KernelW: kw, StrideH: p.strideH, StrideW: p.strideW,
		Padding: padding(p), DepthMultiplier: oc / cin, DilationH: p.dilH, DilationW: p.dilW, UseBias: b != nil, Act: a}
	// [1, KH, KW, C*M] is (KH, KW, C, M) in memory: channel c*M+m.
	v := c.node(od.Outputs[0], "", op, x)
	c.fill(v, map[string][]float32{"kernel": w, "bias": b})
	return nil
}

func (c *graphConv) fullyConnected(od *opDef) error {
	if err := c.ioCount(od, 2, 3); err != nil {
		return err
	}
	var act, keep uint8
	if od.HasOpts {
		var err error
		if act, err = od.Options.uint8(0, "fused_activation_function", 0); err != nil {
			return c.errf("%v", err)
		}
		wf, err := od.Options.int8(1, "weights_format", 0)
		if err != nil {
			return c.errf("%v", err)
		}
		if wf != 0 {
			return c.errf("shuffled weights format %d is not supported", wf)
		}
		if keep, err = od.Options.uint8(2, "keep_num_dims", 0); err != nil {
			return c.errf("%v", err)
		}
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	ws, w, err := c.filter(od, 2)
	if err != nil {
		return err
	}
	no, ni := ws[0], ws[1]
	b, err := c.bias(od, no)
	if err != nil {
		return err
	}
	a, err := c.fusedAct(act)
	if err != nil {
		return err
	}
	t := od.Outputs[0]
	// TFLite flattens the input to rows of ni features (keeping the other
	// dimensions with keep_num_dims); the Reshape makes the last axis ni
	// whatever the shapes say, a view that costs nothing.
	rank := len(x.Shape())
	if rank == 0 {
		return c.errf("input is a scalar")
	}
	shape := []int{-1, ni}
	if keep != 0 {
		shape = make([]int, rank)
		shape[rank-1] = ni
	}
	if rank != len(shape) || channels(x) != ni {
		x = c.node(t, "/flatten", nn.NewReshape(shape...), x)
	}
	// (O, I) -> (I, O).
	k := make([]float32, len(w))
	for o := 0; o < no; o++ {
		for j := 0; j < ni; j++ {
			k[j*no+o] = w[o*ni+j]
		}
	}
	v := c.node(t, "", &nn.Dense{Units: no, UseBias: b != nil, Act: a}, x)
	c.fill(v, map[string][]float32{"kernel": k, "bias": b})
	return nil
}

// fill records weights to copy into v's node after Build (nil values are
// skipped: an absent bias).
func (c *graphConv) fill(v *nn.Value, params map[string][]float32) {
	for k, p := range params {
		if p == nil {
			delete(params, k)
		}
	}
	c.fills = append(c.fills, weightFill{node: v.Node().Name, params: params})
}

func (c *graphConv) pool(od *opDef) error {
	if err := c.ioCount(od, 1, 1); err != nil {
		return err
	}
	p, _, err := readConvOptions(od)
	if err != nil {
		return c.errf("%v", err)
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	var op nn.Op
	if od.Code == opMaxPool2D {
		op = &nn.MaxPool2D{PoolH: p.kh, PoolW: p.kw, StrideH: p.strideH, StrideW: p.strideW, Padding: padding(p)}
	} else {
		// TFLite divides by the taps inside the image: nn's default.
		op = &nn.AveragePool2D{PoolH: p.kh, PoolW: p.kw, StrideH: p.strideH, StrideW: p.strideW, Padding: padding(p)}
	}
	return c.withAct(od, p.act, op, x)
}

func (c *graphConv) mean(od *opDef) error {
	if err := c.ioCount(od, 2, 2); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	axes, err := c.ints(od, 1)
	if err != nil {
		return err
	}
	keep := false
	if od.HasOpts {
		k, err := od.Options.uint8(0, "keep_dims", 0)
		if err != nil {
			return c.errf("%v", err)
		}
		keep = k != 0
	}
	rank := len(x.Shape())
	norm := make([]int, len(axes))
	for i, a := range axes {
		if a < -rank || a >= rank {
			return c.errf("axis %d for input %v", a, x.Shape())
		}
		norm[i] = (a + rank) % rank
	}
	slices.Sort(norm)
	var op nn.Op = nn.NewReduceMean(keep, norm...)
	if rank == 4 && slices.Equal(norm, []int{1, 2}) {
		op = &nn.GlobalAveragePool{KeepDims: keep} // the global pool's kernel
	}
	if len(norm) == 0 || slices.Contains(norm, 0) {
		return c.errf("averaging over the batch axis (axes %v) is not supported", axes)
	}
	c.node(od.Outputs[0], "", op, x)
	return nil
}

func (c *graphConv) reshape(od *opDef) error {
	if err := c.ioCount(od, 1, 2); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	var shape []int
	switch {
	case len(od.Inputs) == 2 && od.Inputs[1] >= 0 && c.def.Tensors[od.Inputs[1]].Data != nil:
		if shape, err = c.ints(od, 1); err != nil {
			return err
		}
	case od.HasOpts:
		v, err := od.Options.int32s(0, "new_shape")
		if err != nil {
			return c.errf("%v", err)
		}
		for _, d := range v {
			shape = append(shape, int(d))
		}
	default:
		shape = slices.Clone(c.def.Tensors[od.Outputs[0]].Shape)
	}
	if len(shape) == 0 {
		return c.errf("reshape to a scalar is not supported")
	}
	for _, d := range shape {
		if d < -1 || d == 0 || d > 1<<24 {
			return c.errf("shape %v", shape)
		}
	}
	// The stored batch is 1: keep the graph's batch.
	if shape[0] == 1 {
		shape[0] = 0
	}
	c.node(od.Outputs[0], "", nn.NewReshape(shape...), x)
	return nil
}

func (c *graphConv) squeeze(od *opDef) error {
	if err := c.ioCount(od, 1, 1); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	var axes []int
	if od.HasOpts {
		d, err := od.Options.int32s(0, "squeeze_dims")
		if err != nil {
			return c.errf("%v", err)
		}
		for _, a := range d {
			axes = append(axes, int(a))
		}
	}
	if len(axes) == 0 {
		// Every size-1 axis but the batch: nn.Squeeze's own rule.
		c.node(od.Outputs[0], "", nn.NewSqueeze(), x)
		return nil
	}
	c.node(od.Outputs[0], "", nn.NewSqueeze(axes...), x)
	return nil
}

func (c *graphConv) softmax(od *opDef) error {
	if err := c.ioCount(od, 1, 1); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	beta := float32(1)
	if od.HasOpts {
		if beta, err = od.Options.float32(0, "beta", 1); err != nil {
			return c.errf("%v", err)
		}
	}
	if !(beta > 0) || math.IsInf(float64(beta), 0) {
		return c.errf("beta %v", beta)
	}
	t := od.Outputs[0]
	if beta != 1 {
		b := c.node(t, "/beta", nn.NewConstant(scalar(beta)))
		x = c.node(t, "/scaled", nn.NewMul(), x, b)
	}
	c.node(t, "", nn.NewSoftmax(), x)
	return nil
}

func (c *graphConv) concat(od *opDef) error {
	if len(od.Inputs) < 1 || len(od.Outputs) != 1 {
		return c.ioCount(od, 1, 1<<20)
	}
	var axis int32
	act := uint8(actNone)
	if od.HasOpts {
		var err error
		if axis, err = od.Options.int32(0, "axis", 0); err != nil {
			return c.errf("%v", err)
		}
		if act, err = od.Options.uint8(1, "fused_activation_function", 0); err != nil {
			return c.errf("%v", err)
		}
	}
	ins := make([]*nn.Value, len(od.Inputs))
	for k := range od.Inputs {
		v, err := c.arg(od, k)
		if err != nil {
			return err
		}
		ins[k] = v
	}
	return c.withAct(od, act, nn.NewConcat(int(axis)), ins...)
}

func (c *graphConv) pad(od *opDef) error {
	maxIn := 2
	if od.Code == opPadV2 {
		maxIn = 3
	}
	if err := c.ioCount(od, 2, maxIn); err != nil {
		return err
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	pads, err := c.ints(od, 1)
	if err != nil {
		return err
	}
	r := len(x.Shape())
	if len(pads) != 2*r {
		return c.errf("%d paddings for input %v", len(pads), x.Shape())
	}
	op := &nn.Pad{Mode: "constant", Pads: make([]int, 2*r)}
	// TFLite's [[before, after], ...] -> ONNX's befores, then afters.
	for i := 0; i < r; i++ {
		b, a := pads[2*i], pads[2*i+1]
		if b < 0 || a < 0 || b > maxGraphPads || a > maxGraphPads {
			return c.errf("paddings %v out of range [0, %d]", pads, maxGraphPads)
		}
		op.Pads[i], op.Pads[r+i] = b, a
	}
	if op.Pads[0] != 0 || op.Pads[r] != 0 {
		return c.errf("padding the batch axis (%v) is not supported", pads)
	}
	// PAD fills with real zero (a quantized tensor's zero point); PADV2
	// with its third input.
	if len(od.Inputs) == 3 && od.Inputs[2] >= 0 {
		if !c.isConst(od.Inputs[2]) {
			return c.errf("the padding value must be a constant")
		}
		v, err := c.constValues(od.Inputs[2])
		if err != nil {
			return err
		}
		if len(v) != 1 {
			return c.errf("padding value has %d elements, want 1", len(v))
		}
		op.Value = v[0]
	}
	c.node(od.Outputs[0], "", op, x)
	return nil
}

// requantize is QUANTIZE and DEQUANTIZE: on real values the identity, so
// the output tensor is the input's value; of a constant (float16 or int8
// weights) it is folded into the constant.
func (c *graphConv) requantize(od *opDef) error {
	if err := c.ioCount(od, 1, 1); err != nil {
		return err
	}
	t, out := od.Inputs[0], od.Outputs[0]
	if t < 0 {
		return c.errf("lacks its input")
	}
	if c.isConst(t) {
		v, err := c.constValues(t)
		if err != nil {
			return err
		}
		ti, to := &c.def.Tensors[t], &c.def.Tensors[out]
		if tensor.Numel(ti.Shape) != tensor.Numel(to.Shape) {
			return c.errf("constant %v dequantized to shape %v", ti.Shape, to.Shape)
		}
		c.folded[out] = v
		return nil
	}
	x, err := c.arg(od, 0)
	if err != nil {
		return err
	}
	c.val[out] = x
	return nil
}
