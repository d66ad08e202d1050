package tfjs

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// graphOp maps one TF node onto nn ops and returns its outputs.
type graphOp func(c *gconv, n *tfNode) ([]*nn.Value, error)

// graphOps is every TF op the importer maps (besides Const, Placeholder
// and the Identity family, handled by the converter itself).
var graphOps map[string]graphOp

func init() {
	graphOps = map[string]graphOp{
		"Square":                     unaryMathOp,
		"Rsqrt":                      unaryMathOp,
		"Conv2D":                     convOp,
		"_FusedConv2D":               convOp,
		"DepthwiseConv2dNative":      convOp,
		"DepthwiseConv2d":            convOp,
		"FusedDepthwiseConv2dNative": convOp,
		"MatMul":                     matmulOp,
		"_FusedMatMul":               matmulOp,
		"BatchMatMul":                matmulOp,
		"BatchMatMulV2":              matmulOp,
		"BiasAdd":                    biasAddOp,
		"Add":                        binaryOp,
		"AddV2":                      binaryOp,
		"Sub":                        binaryOp,
		"Mul":                        binaryOp,
		"RealDiv":                    binaryOp,
		"Div":                        binaryOp,
		"FloorDiv":                   binaryOp,
		"FloorMod":                   binaryOp,
		"AddN":                       addNOp,
		"Relu":                       activationOp,
		"Relu6":                      activationOp,
		"Elu":                        activationOp,
		"LeakyRelu":                  activationOp,
		"Sigmoid":                    activationOp,
		"Tanh":                       activationOp,
		"Prelu":                      preluOp,
		"Softmax":                    softmaxOp,
		"Mean":                       reduceOp,
		"Sum":                        reduceOp,
		"Max":                        reduceOp,
		"MaxPool":                    poolOp,
		"AvgPool":                    poolOp,
		"Pad":                        padOp,
		"PadV2":                      padOp,
		"MirrorPad":                  padOp,
		"ConcatV2":                   concatOp,
		"Reshape":                    reshapeOp,
		"Squeeze":                    squeezeOp,
		"ExpandDims":                 expandDimsOp,
		"Transpose":                  transposeOp,
		"ResizeBilinear":             resizeOp,
		"ResizeNearestNeighbor":      resizeOp,
		"StridedSlice":               stridedSliceOp,
		"Cast":                       castOp,
		"Equal":                      binaryOp,
		"NotEqual":                   binaryOp,
		"Greater":                    binaryOp,
		"GreaterEqual":               binaryOp,
		"Less":                       binaryOp,
		"LessEqual":                  binaryOp,
		"LogicalAnd":                 binaryOp,
		"LogicalOr":                  binaryOp,
		"Maximum":                    binaryOp,
		"Minimum":                    binaryOp,
		"Pow":                        binaryOp,
		"SquaredDifference":          binaryOp,
		"Select":                     selectOp,
		"SelectV2":                   selectOp,
		"GatherV2":                   gatherOp,
		"Gather":                     gatherOp,
		"TopKV2":                     topKOp,
		"ArgMax":                     argOp,
		"ArgMin":                     argOp,
		"Tile":                       tileOp,
		"FusedBatchNorm":             batchNormOp,
		"FusedBatchNormV2":           batchNormOp,
		"FusedBatchNormV3":           batchNormOp,
	}
}

// tfUnary maps TF's element-wise functions onto nn.UnaryMath's (ONNX's)
// names; Square and Rsqrt are made of two ops.
var tfUnary = map[string]string{
	"Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Reciprocal": "Reciprocal",
	"Inv": "Reciprocal", "Erf": "Erf", "Floor": "Floor", "Ceil": "Ceil", "Round": "Round", "Sign": "Sign",
	"Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
	"Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh",
	"Softplus": "Softplus", "Softsign": "Softsign", "Selu": "Selu", "IsNan": "IsNaN", "LogicalNot": "Not",
}

func init() {
	for op := range tfUnary {
		graphOps[op] = unaryMathOp
	}
}

// TF's Selu constants.
const (
	seluAlpha = 1.6732632423543772
	seluGamma = 1.0507009873554805
)

// unaryMathOp maps the element-wise functions.
func unaryMathOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case "Square":
		return one(c.node(n.Name, nn.NewMul(), x, x))
	case "Rsqrt":
		r := c.extra(n, "sqrt", nn.NewUnaryMath("Sqrt"), x)
		return one(c.node(n.Name, nn.NewUnaryMath("Reciprocal"), r))
	}
	op := nn.NewUnaryMath(tfUnary[n.Op])
	if n.Op == "Selu" {
		op.Alpha, op.Gamma = seluAlpha, seluGamma
	}
	return one(c.node(n.Name, op, x))
}

// one wraps a single output.
func one(v *nn.Value) ([]*nn.Value, error) { return []*nn.Value{v}, nil }

// nInputs checks the data input count.
func nInputs(n *tfNode, want ...int) error {
	if slices.Contains(want, len(n.inputs)) {
		return nil
	}
	return fmt.Errorf("has %d inputs, want %v", len(n.inputs), want)
}

// nhwc refuses data formats other than NHWC.
func nhwc(n *tfNode) error {
	f, err := n.attrString("data_format", "NHWC")
	if err != nil {
		return err
	}
	if f != "NHWC" {
		return unsupported("data_format %s (dlcv is NHWC; TF.js converts to NHWC)", f)
	}
	return nil
}

// quad reads a 4-entry NHWC attribute (strides, dilations, ksize) and
// returns its height and width entries.
func quad(n *tfNode, name string) (int, int, error) {
	v, err := n.attrInts(name, []int{1, 1, 1, 1})
	if err != nil {
		return 0, 0, err
	}
	switch len(v) {
	case 4:
		if v[0] != 1 || v[3] != 1 {
			return 0, 0, unsupported("%s %v over the batch or channel axis", name, v)
		}
		if v[1] < 1 || v[2] < 1 || v[1] > 1<<16 || v[2] > 1<<16 {
			return 0, 0, fmt.Errorf("%s %v out of range", name, v)
		}
		return v[1], v[2], nil
	case 2:
		if v[0] < 1 || v[1] < 1 || v[0] > 1<<16 || v[1] > 1<<16 {
			return 0, 0, fmt.Errorf("%s %v out of range", name, v)
		}
		return v[0], v[1], nil
	}
	return 0, 0, fmt.Errorf("%s %v: want 4 values (NHWC)", name, v)
}

// padding maps TF's padding attribute (SAME, VALID, EXPLICIT with
// explicit_paddings) onto nn.Padding.
func padding(n *tfNode) (nn.Padding, error) {
	p, err := n.attrString("padding", "VALID")
	if err != nil {
		return nn.Padding{}, err
	}
	switch p {
	case "SAME":
		return nn.Same, nil
	case "VALID":
		return nn.Valid, nil
	case "EXPLICIT":
		e, err := n.attrInts("explicit_paddings", nil)
		if err != nil {
			return nn.Padding{}, err
		}
		if len(e) != 8 || e[0] != 0 || e[1] != 0 || e[6] != 0 || e[7] != 0 {
			return nn.Padding{}, unsupported("explicit_paddings %v (want 8 values, none on the batch and channel axes)", e)
		}
		for _, v := range e {
			if v < 0 || v > 1<<16 {
				return nn.Padding{}, fmt.Errorf("explicit_paddings %v out of range", e)
			}
		}
		return nn.Padding{Mode: "explicit", Top: e[2], Bottom: e[3], Left: e[4], Right: e[5]}, nil
	}
	return nn.Padding{}, unsupported("padding %q (want SAME, VALID or EXPLICIT)", p)
}

// fusedAct is the activation of a fused op (fused_ops [BiasAdd, act]).
type fusedAct struct {
	kind  string // "", relu, relu6, elu, sigmoid, tanh, leakyrelu, prelu
	alpha float32
}

// fusedOps reads fused_ops and num_args: whether a bias comes first and
// which activation follows. TF.js accepts BiasAdd followed by Relu,
// Relu6, Elu, Prelu, LeakyRelu or Sigmoid (and Tanh on some backends);
// FusedBatchNorm fused into a convolution it refuses, and so does dlcv.
func fusedOps(n *tfNode) (bias bool, act fusedAct, args int, err error) {
	ops, err := n.attrStrings("fused_ops")
	if err != nil {
		return false, act, 0, err
	}
	nargs, err := n.attrInt("num_args", 0)
	if err != nil {
		return false, act, 0, err
	}
	if len(ops) == 0 {
		return false, act, 0, nil
	}
	if ops[0] != "BiasAdd" {
		return false, act, 0, unsupported("fused_ops %v (want BiasAdd, optionally followed by an activation)", ops)
	}
	if len(ops) > 2 {
		return false, act, 0, unsupported("fused_ops %v (at most BiasAdd and one activation)", ops)
	}
	want := 1
	if len(ops) == 2 {
		switch ops[1] {
		case "Relu", "Relu6", "Elu", "Sigmoid", "Tanh":
			act.kind = strings.ToLower(ops[1])
		case "LeakyRelu":
			a, err := n.attrFloat("leakyrelu_alpha", 0.2)
			if err != nil {
				return false, act, 0, err
			}
			act.kind, act.alpha = "leakyrelu", float32(a)
		case "Prelu":
			act.kind, want = "prelu", 2
		default:
			return false, act, 0, unsupported("fused activation %s (want Relu, Relu6, Elu, Prelu, LeakyRelu, Sigmoid or Tanh)", ops[1])
		}
	}
	if nargs != want {
		return false, act, 0, fmt.Errorf("fused_ops %v with num_args %d, want %d", ops, nargs, want)
	}
	return true, act, want, nil
}

// epilogue returns the nn.Act an activation fuses as (ok false when it
// needs an op of its own: Elu, Prelu, a negative LeakyRelu slope).
func (a fusedAct) epilogue() (nn.Act, bool) {
	switch a.kind {
	case "":
		return nn.Act{}, true
	case "relu":
		return nn.Act{Kind: "relu"}, true
	case "relu6":
		return nn.Act{Kind: "clip", Min: 0, Max: 6}, true
	case "sigmoid":
		return nn.Act{Kind: "sigmoid"}, true
	case "tanh":
		return nn.Act{Kind: "tanh"}, true
	case "leakyrelu":
		if a.alpha >= 0 {
			return nn.Act{Kind: "leaky_relu", Alpha: a.alpha}, true
		}
	}
	return nn.Act{}, false
}

// applyAct adds the nodes of an activation that did not fuse.
func (c *gconv) applyAct(n *tfNode, a fusedAct, x *nn.Value, alphaArg int) (*nn.Value, error) {
	switch a.kind {
	case "elu":
		return c.extra(n, "elu", nn.NewELU(1), x), nil
	case "leakyrelu":
		return c.extra(n, "leaky_relu", nn.NewLeakyReLU(a.alpha), x), nil
	case "prelu":
		w, err := c.constIn(n, alphaArg)
		if err != nil {
			return nil, fmt.Errorf("prelu alpha: %w", err)
		}
		return c.prelu(n, x, w, "prelu")
	}
	return x, nil
}

// prelu adds a PReLU with the alpha weight w: one slope, or one per
// channel (alpha of shape (C), (1, 1, C), ...).
func (c *gconv) prelu(n *tfNode, x *nn.Value, w *Weight, suffix string) (*nn.Value, error) {
	ch := lastDim(x.Shape())
	op := nn.NewPReLU(len(w.Data) == 1)
	if len(w.Data) != 1 && len(w.Data) != ch {
		return nil, unsupported("prelu alpha of shape %v on input %v (want one slope, or one per channel)", w.Shape, x.Shape())
	}
	var v *nn.Value
	if suffix == "" {
		v = c.node(n.Name, op, x)
	} else {
		v = c.extra(n, suffix, op, x)
	}
	c.param(n, op, "alpha", []int{len(w.Data)}, w.Data)
	return v, nil
}

func lastDim(s []int) int {
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}

// convOp maps Conv2D, DepthwiseConv2dNative and their fused forms.
func convOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nhwc(n); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	f, err := c.constIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if len(f.Shape) != 4 {
		return nil, fmt.Errorf("filter %q has shape %v, want (KH, KW, Cin, F)", n.inputs[1], f.Shape)
	}
	sh, sw, err := quad(n, "strides")
	if err != nil {
		return nil, err
	}
	dh, dw, err := quad(n, "dilations")
	if err != nil {
		return nil, err
	}
	pad, err := padding(n)
	if err != nil {
		return nil, err
	}
	bias, act, nargs, err := false, fusedAct{}, 0, error(nil)
	if strings.HasPrefix(n.Op, "_Fused") || strings.HasPrefix(n.Op, "Fused") {
		if bias, act, nargs, err = fusedOps(n); err != nil {
			return nil, err
		}
		if err := nInputs(n, 2+nargs); err != nil {
			return nil, err
		}
	} else if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	var b *Weight
	if bias {
		if b, err = c.constIn(n, 2); err != nil {
			return nil, fmt.Errorf("bias: %w", err)
		}
	}
	epi, fused := act.epilogue()
	kh, kw, cin, m := f.Shape[0], f.Shape[1], f.Shape[2], f.Shape[3]
	var op nn.Op
	outC := m
	if strings.Contains(n.Op, "Depthwise") {
		d := &nn.DepthwiseConv2D{KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw, Padding: pad,
			DepthMultiplier: m, DilationH: dh, DilationW: dw, UseBias: bias}
		if fused {
			d.Act = epi
		}
		op, outC = d, cin*m
	} else {
		groups := 1
		if in := lastDim(x.Shape()); in > 0 && cin > 0 && in != cin {
			if in%cin != 0 || m%(in/cin) != 0 {
				return nil, fmt.Errorf("filter %v does not fit input %v (channels %d vs %d)", f.Shape, x.Shape(), cin, in)
			}
			groups = in / cin
		}
		cv := &nn.Conv2D{Filters: m, KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw, Padding: pad,
			UseBias: bias, Groups: groups, DilationH: dh, DilationW: dw}
		if fused {
			cv.Act = epi
		}
		op = cv
	}
	y := c.node(n.Name, op, x)
	c.param(n, op, "kernel", f.Shape, f.Data)
	if bias {
		if len(b.Data) != outC {
			return nil, fmt.Errorf("bias %q has %d values for %d output channels", n.inputs[2], len(b.Data), outC)
		}
		c.param(n, op, "bias", []int{outC}, b.Data)
	}
	if !fused {
		if y, err = c.applyAct(n, act, y, 3); err != nil {
			return nil, err
		}
	}
	return one(y)
}

// matmulOp maps MatMul, _FusedMatMul and BatchMatMul: a Dense layer when
// the right operand is a constant matrix, else a MatMul (and an Add for
// a fused bias).
func matmulOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	ta, err := n.attrBool("transpose_a", false)
	if err != nil {
		return nil, err
	}
	tb, err := n.attrBool("transpose_b", false)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(n.Op, "BatchMatMul") {
		if ta, err = n.attrBool("adj_x", false); err != nil {
			return nil, err
		}
		if tb, err = n.attrBool("adj_y", false); err != nil {
			return nil, err
		}
	}
	bias, act, nargs := false, fusedAct{}, 0
	if n.Op == "_FusedMatMul" {
		if bias, act, nargs, err = fusedOps(n); err != nil {
			return nil, err
		}
	}
	if err := nInputs(n, 2+nargs); err != nil {
		return nil, err
	}
	a, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	epi, fused := act.epilogue()
	src, _, _ := c.resolve(n.inputs[1])
	if src != nil && src.Op == "Const" && !ta && len(a.Shape()) >= 2 {
		w, err := c.constIn(n, 1)
		if err != nil {
			return nil, err
		}
		if len(w.Shape) == 2 {
			k, units := w.Shape[0], w.Shape[1]
			data := w.Data
			if tb {
				k, units = units, k
				data = transpose2(w.Data, w.Shape[0], w.Shape[1])
			}
			d := &nn.Dense{Units: units, UseBias: bias}
			if fused {
				d.Act = epi
			}
			y := c.node(n.Name, d, a)
			c.param(n, d, "kernel", []int{k, units}, data)
			if bias {
				bw, err := c.constIn(n, 2)
				if err != nil {
					return nil, fmt.Errorf("bias: %w", err)
				}
				if len(bw.Data) != units {
					return nil, fmt.Errorf("bias %q has %d values for %d units", n.inputs[2], len(bw.Data), units)
				}
				c.param(n, d, "bias", []int{units}, bw.Data)
			}
			if !fused {
				if y, err = c.applyAct(n, act, y, 3); err != nil {
					return nil, err
				}
			}
			return one(y)
		}
	}
	b, err := c.in(n, 1)
	if err != nil {
		return nil, err
	}
	y := c.node(n.Name, &nn.MatMul{TransA: ta, TransB: tb}, a, b)
	if bias {
		bv, err := c.in(n, 2)
		if err != nil {
			return nil, err
		}
		y = c.extra(n, "bias", nn.NewAdd(), y, bv)
	}
	if act.kind != "" {
		if fused {
			y = c.extra(n, act.kind, actOp(act), y)
		} else if y, err = c.applyAct(n, act, y, 3); err != nil {
			return nil, err
		}
	}
	return one(y)
}

// actOp is the nn op of an activation that fuses as an epilogue.
func actOp(a fusedAct) nn.Op {
	switch a.kind {
	case "relu":
		return nn.NewReLU()
	case "relu6":
		return nn.NewReLU6()
	case "sigmoid":
		return nn.NewSigmoid()
	case "tanh":
		return nn.NewTanh()
	}
	return nn.NewLeakyReLU(a.alpha)
}

// transpose2 returns the (c, r) transpose of an (r, c) matrix.
func transpose2(x []float32, r, c int) []float32 {
	y := make([]float32, len(x))
	for i := range r {
		for j := range c {
			y[j*r+i] = x[i*c+j]
		}
	}
	return y
}

// biasAddOp is x + bias over the channel axis.
func biasAddOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nhwc(n); err != nil {
		return nil, err
	}
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	return binaryOp(c, n)
}

// binaryOp maps the element-wise arithmetic with broadcasting.
func binaryOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	a, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.in(n, 1)
	if err != nil {
		return nil, err
	}
	var op nn.Op
	switch n.Op {
	case "Add", "AddV2", "BiasAdd":
		op = nn.NewAdd()
	case "Sub":
		op = nn.NewSub()
	case "Mul":
		op = nn.NewMul()
	case "RealDiv":
		op = nn.NewDiv()
	case "Div":
		if t := n.attrType("T"); t != "" && t != "DT_FLOAT" && t != "DT_HALF" && t != "DT_DOUBLE" {
			return nil, unsupported("Div of %s (integer division; use FloorDiv)", t)
		}
		op = nn.NewDiv()
	case "FloorDiv":
		op = nn.NewFloorDiv()
	case "FloorMod":
		op = nn.NewBinaryMath("Mod") // Python's %: the divisor's sign
	case "Maximum":
		op = nn.NewBinaryMath("Max")
	case "Minimum":
		op = nn.NewBinaryMath("Min")
	case "Pow":
		op = nn.NewBinaryMath("Pow")
	case "Equal", "Greater", "Less":
		op = nn.NewCompare(n.Op)
	case "GreaterEqual":
		op = nn.NewCompare("GreaterOrEqual")
	case "LessEqual":
		op = nn.NewCompare("LessOrEqual")
	case "LogicalAnd":
		op = nn.NewCompare("And")
	case "LogicalOr":
		op = nn.NewCompare("Or")
	case "NotEqual":
		eq := c.extra(n, "equal", nn.NewCompare("Equal"), a, b)
		return one(c.node(n.Name, nn.NewUnaryMath("Not"), eq))
	case "SquaredDifference":
		d := c.extra(n, "sub", nn.NewSub(), a, b)
		return one(c.node(n.Name, nn.NewMul(), d, d))
	}
	return one(c.node(n.Name, op, a, b))
}

// selectOp is Where(cond, x, y), broadcasting (SelectV2; Select's
// rank-1 condition selecting rows is refused unless it broadcasts).
func selectOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 3); err != nil {
		return nil, err
	}
	var vs [3]*nn.Value
	for i := range vs {
		v, err := c.in(n, i)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	if n.Op == "Select" {
		cs, xs := vs[0].Shape(), vs[1].Shape()
		if len(cs) == 1 && len(xs) > 1 {
			return nil, unsupported("Select with a rank-1 condition over rank-%d values (row selection)", len(xs))
		}
	}
	return one(c.node(n.Name, nn.NewWhere(), vs[0], vs[1], vs[2]))
}

// gatherOp is GatherV2 along a constant axis (batch_dims 0).
func gatherOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	want := 3
	if n.Op == "Gather" {
		want = 2
	}
	if err := nInputs(n, want); err != nil {
		return nil, err
	}
	if bd, err := n.attrInt("batch_dims", 0); err != nil {
		return nil, err
	} else if bd != 0 {
		return nil, unsupported("batch_dims %d", bd)
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	idx, err := c.in(n, 1)
	if err != nil {
		return nil, err
	}
	axis := 0
	if want == 3 {
		ax, err := c.intsIn(n, 2)
		if err != nil {
			return nil, fmt.Errorf("axis: %w", err)
		}
		if len(ax) != 1 {
			return nil, fmt.Errorf("axis has %d values", len(ax))
		}
		axis = ax[0]
	}
	return one(c.node(n.Name, nn.NewGather(axis), x, idx))
}

// topKOp is TopKV2 with a constant k over the last axis: values and
// indices (carried as float32), the lower index first among equal values.
func topKOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	k, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("k: %w", err)
	}
	if len(k) != 1 || k[0] < 1 {
		return nil, fmt.Errorf("k %v, want one value >= 1", k)
	}
	sorted, err := n.attrBool("sorted", true)
	if err != nil {
		return nil, err
	}
	op := nn.NewTopK(k[0], -1, true)
	op.Sorted = sorted
	c.taken[n.Name] = true
	node := c.g.Node(n.Name, op, x)
	return node.Outputs, nil
}

// argOp is ArgMax/ArgMin over a constant axis (the axis is removed).
func argOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	ax, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("dimension: %w", err)
	}
	if len(ax) != 1 {
		return nil, fmt.Errorf("dimension has %d values", len(ax))
	}
	if len(x.Shape()) < 2 {
		return nil, unsupported("%s of a rank-%d input to a scalar", n.Op, len(x.Shape()))
	}
	if n.Op == "ArgMin" {
		return one(c.node(n.Name, nn.NewArgMin(ax[0], false), x))
	}
	return one(c.node(n.Name, nn.NewArgMax(ax[0], false), x))
}

// tileOp repeats by constant multiples.
func tileOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	m, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("multiples: %w", err)
	}
	for _, v := range m {
		if v < 1 || v > 1<<16 {
			return nil, unsupported("multiples %v (want each >= 1)", m)
		}
	}
	return one(c.node(n.Name, nn.NewTile(m...), x))
}

// addNOp sums its inputs.
func addNOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if len(n.inputs) == 0 {
		return nil, fmt.Errorf("AddN without inputs")
	}
	y, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(n.inputs); i++ {
		x, err := c.in(n, i)
		if err != nil {
			return nil, err
		}
		name := n.Name
		if i < len(n.inputs)-1 {
			name = c.name(fmt.Sprintf("%s/add_%d", n.Name, i))
		}
		y = c.node(name, nn.NewAdd(), y, x)
	}
	return one(y)
}

// activationOp maps the element-wise activations.
func activationOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	var op nn.Op
	switch n.Op {
	case "Relu":
		op = nn.NewReLU()
	case "Relu6":
		op = nn.NewReLU6()
	case "Elu":
		op = nn.NewELU(1)
	case "Sigmoid":
		op = nn.NewSigmoid()
	case "Tanh":
		op = nn.NewTanh()
	case "LeakyRelu":
		a, err := n.attrFloat("alpha", 0.2)
		if err != nil {
			return nil, err
		}
		op = nn.NewLeakyReLU(float32(a))
	}
	return one(c.node(n.Name, op, x))
}

// preluOp is TF.js's Prelu(x, alpha) with a constant alpha.
func preluOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	w, err := c.constIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("alpha: %w", err)
	}
	y, err := c.prelu(n, x, w, "")
	if err != nil {
		return nil, err
	}
	return one(y)
}

// softmaxOp is a softmax over the last axis.
func softmaxOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	return one(c.node(n.Name, &nn.Softmax{Axis: -1}, x))
}

// axesIn reads constant axes (a scalar or a vector) for a rank-r input,
// made non-negative and checked.
func axesIn(c *gconv, n *tfNode, i, r int) ([]int, error) {
	ax, err := c.intsIn(n, i)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(ax))
	for _, a := range ax {
		k := a
		if k < 0 {
			k += r
		}
		if k < 0 || k >= r {
			return nil, fmt.Errorf("axis %d is out of range for rank %d", a, r)
		}
		if slices.Contains(out, k) {
			return nil, fmt.Errorf("axis %d is listed twice in %v", a, ax)
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// reduceOp maps Mean, Sum and Max over constant axes. A mean over height
// and width of an NHWC image is a global average pool.
func reduceOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	keep, err := n.attrBool("keep_dims", false)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape())
	axes, err := axesIn(c, n, 1, r)
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 { // TF reduces nothing (ONNX would reduce all)
		return one(x)
	}
	var op nn.Op
	switch n.Op {
	case "Mean":
		if r == 4 && slices.Equal(axes, []int{1, 2}) {
			op = &nn.GlobalAveragePool{KeepDims: keep}
		} else {
			op = nn.NewReduceMean(keep, axes...)
		}
	case "Sum":
		op = nn.NewReduceSum(keep, axes...)
	case "Max":
		op = nn.NewReduceMax(keep, axes...)
	}
	return one(c.node(n.Name, op, x))
}

// poolOp maps MaxPool and AvgPool (padding excluded from the average, as
// TF).
func poolOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	if err := nhwc(n); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	kh, kw, err := quad(n, "ksize")
	if err != nil {
		return nil, err
	}
	sh, sw, err := quad(n, "strides")
	if err != nil {
		return nil, err
	}
	pad, err := padding(n)
	if err != nil {
		return nil, err
	}
	if n.Op == "MaxPool" {
		return one(c.node(n.Name, &nn.MaxPool2D{PoolH: kh, PoolW: kw, StrideH: sh, StrideW: sw, Padding: pad}, x))
	}
	return one(c.node(n.Name, &nn.AveragePool2D{PoolH: kh, PoolW: kw, StrideH: sh, StrideW: sw, Padding: pad}, x))
}

// padOp maps Pad, PadV2 (a constant value) and MirrorPad (REFLECT).
func padOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	want := 2
	if n.Op == "PadV2" {
		want = 3
	}
	if err := nInputs(n, want); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	p, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("paddings: %w", err)
	}
	r := len(x.Shape())
	if len(p) != 2*r {
		return nil, fmt.Errorf("paddings has %d values for an input of rank %d (want %d x 2)", len(p), r, r)
	}
	op := &nn.Pad{Pads: make([]int, 2*r)}
	for i := range r {
		lo, hi := p[2*i], p[2*i+1]
		if lo < 0 || hi < 0 || lo > 1<<16 || hi > 1<<16 {
			return nil, unsupported("paddings %v: negative (cropping) or huge padding", p)
		}
		op.Pads[i], op.Pads[r+i] = lo, hi
	}
	switch n.Op {
	case "PadV2":
		w, err := c.constIn(n, 2)
		if err != nil {
			return nil, fmt.Errorf("constant_values: %w", err)
		}
		if len(w.Data) != 1 {
			return nil, fmt.Errorf("constant_values has %d values, want 1", len(w.Data))
		}
		op.Value = w.Data[0]
	case "MirrorPad":
		mode, err := n.attrString("mode", "REFLECT")
		if err != nil {
			return nil, err
		}
		if mode != "REFLECT" {
			return nil, unsupported("MirrorPad mode %s (dlcv pads in REFLECT mode)", mode)
		}
		op.Mode = "reflect"
	}
	return one(c.node(n.Name, op, x))
}

// concatOp joins its inputs along a constant axis.
func concatOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if len(n.inputs) < 2 {
		return nil, fmt.Errorf("ConcatV2 needs values and an axis, has %d inputs", len(n.inputs))
	}
	k := len(n.inputs) - 1
	ax, err := c.intsIn(n, k)
	if err != nil {
		return nil, fmt.Errorf("axis: %w", err)
	}
	if len(ax) != 1 {
		return nil, fmt.Errorf("axis has %d values", len(ax))
	}
	vs := make([]*nn.Value, k)
	for i := range k {
		if vs[i], err = c.in(n, i); err != nil {
			return nil, err
		}
	}
	if k == 1 {
		return one(vs[0])
	}
	return one(c.node(n.Name, nn.NewConcat(ax[0]), vs...))
}

// reshapeOp reshapes to a constant shape (-1 inferred; TF's 0 means an
// empty axis, which dlcv does not have).
func reshapeOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	s, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if len(s) == 0 {
		return nil, unsupported("reshape to a scalar (dlcv values keep a batch axis)")
	}
	for _, d := range s {
		if d == 0 || d < -1 {
			return nil, unsupported("reshape to %v (a dimension of %d)", s, d)
		}
	}
	// An unknown input dimension (the batch) becomes the -1 of the target
	// when the target has none and keeps that axis.
	return one(c.node(n.Name, nn.NewReshape(s...), x))
}

// squeezeOp removes size-1 axes: those listed, or every one (the batch
// axis too, as TF).
func squeezeOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	dims, err := n.attrInts("squeeze_dims", nil)
	if err != nil {
		return nil, err
	}
	if len(dims) == 0 {
		if dims, err = n.attrInts("axis", nil); err != nil {
			return nil, err
		}
	}
	s := x.Shape()
	if len(dims) == 0 {
		for i, d := range s {
			if d == 1 {
				dims = append(dims, i)
			}
			if d == -1 {
				return nil, unsupported("Squeeze of all size-1 axes of %v, whose axis %d is unknown until run time", s, i)
			}
		}
		if len(dims) == 0 {
			return one(x)
		}
	}
	if len(dims) == len(s) {
		return nil, unsupported("Squeeze of %v to a scalar", s)
	}
	return one(c.node(n.Name, nn.NewSqueeze(dims...), x))
}

// expandDimsOp inserts a size-1 axis.
func expandDimsOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	d, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("dim: %w", err)
	}
	if len(d) != 1 {
		return nil, fmt.Errorf("dim has %d values, want 1", len(d))
	}
	return one(c.node(n.Name, nn.NewUnsqueeze(d[0]), x))
}

// transposeOp permutes by a constant permutation.
func transposeOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	p, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("perm: %w", err)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("empty perm")
	}
	return one(c.node(n.Name, nn.NewTranspose(p...), x))
}

// resizeOp maps ResizeBilinear and ResizeNearestNeighbor to a constant
// size. TF.js's coordinates: align_corners maps corners onto corners
// (nearest rounds halves up), half_pixel_centers samples pixel centres
// (nearest takes floor((x+0.5)*scale)), neither is TF1's asymmetric x*scale
// (nearest floors).
func resizeOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 2); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	size, err := c.intsIn(n, 1)
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	if len(size) != 2 || size[0] < 1 || size[1] < 1 || size[0] > 1<<16 || size[1] > 1<<16 {
		return nil, fmt.Errorf("size %v, want (height, width) >= 1", size)
	}
	ac, err := n.attrBool("align_corners", false)
	if err != nil {
		return nil, err
	}
	hp, err := n.attrBool("half_pixel_centers", false)
	if err != nil {
		return nil, err
	}
	if ac && hp {
		return nil, fmt.Errorf("align_corners and half_pixel_centers are both set")
	}
	op := &nn.Resize{Mode: "bilinear", Sizes: size}
	nearest := n.Op == "ResizeNearestNeighbor"
	switch {
	case ac:
		op.CoordinateMode = "align_corners"
		op.NearestMode = "round_prefer_ceil"
	case hp:
		op.CoordinateMode = "half_pixel"
		op.NearestMode = "round_prefer_ceil"
	default:
		op.CoordinateMode = "asymmetric"
		op.NearestMode = "floor"
	}
	if nearest {
		op.Mode = "nearest"
	} else {
		op.NearestMode = ""
	}
	return one(c.node(n.Name, op, x))
}

// castOp: every dtype is carried as float32, so casts between dtypes
// whose values float32 holds unchanged (int and bool to float, bool to
// int, int to int, float to float) are identities; a cast to an integer
// type truncates toward zero, to bool compares with zero, to half rounds
// to float16 (nn.Cast).
func castOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 1); err != nil {
		return nil, err
	}
	src, dst := n.attrType("SrcT"), n.attrType("DstT")
	kind := func(t string) string {
		switch t {
		case "DT_FLOAT", "DT_DOUBLE":
			return "float"
		case "DT_HALF":
			return "float16"
		case "DT_BFLOAT16":
			return "bfloat16"
		case "DT_INT32", "DT_INT64", "DT_INT16", "DT_INT8", "DT_UINT8", "DT_UINT16":
			return "int"
		case "DT_BOOL":
			return "bool"
		}
		return ""
	}
	s, d := kind(src), kind(dst)
	if s == "" || d == "" {
		return nil, unsupported("Cast from %q to %q", src, dst)
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	var to string
	switch {
	case d == "float", s == d, s == "bool" && d == "int", s == "int" && (d == "float16" || d == "bfloat16"):
		return one(c.node(n.Name, nn.NewIdentity(), x))
	case d == "int":
		to = "int32"
	default:
		to = d // bool, float16, bfloat16
	}
	return one(c.node(n.Name, nn.NewCast(to), x))
}

// batchNormOp maps FusedBatchNorm in inference mode: a frozen
// BatchNormalization with the node's statistics.
func batchNormOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nhwc(n); err != nil {
		return nil, err
	}
	train, err := n.attrBool("is_training", false)
	if err != nil {
		return nil, err
	}
	if train {
		return nil, unsupported("FusedBatchNorm with is_training true")
	}
	if len(n.inputs) < 5 {
		return nil, fmt.Errorf("has %d inputs, want 5 (x, scale, offset, mean, variance)", len(n.inputs))
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	eps, err := n.attrFloat("epsilon", 1e-4)
	if err != nil {
		return nil, err
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, unsupported("epsilon %v (dlcv needs > 0)", eps)
	}
	op := nn.NewBatchNorm(0, float32(eps))
	op.Frozen = true
	y := c.node(n.Name, op, x)
	ch := lastDim(x.Shape())
	for i, p := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		w, err := c.constIn(n, i+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(w.Data) != ch {
			return nil, fmt.Errorf("%s has %d values for %d channels", p, len(w.Data), ch)
		}
		c.param(n, op, p, []int{ch}, w.Data)
	}
	return []*nn.Value{y}, nil
}
