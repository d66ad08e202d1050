package onnx

import (
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Import-time fusion of the decomposition exporters write for the layer
// norm that ONNX (before opset 17) has no op for: the mean/variance chain
// becomes one nn.LayerNorm, which needs the proto's axes and layouts. The
// decomposed activations (SiLU, hard swish, GELU) are nn.FuseDecomposed's,
// on the converted graph, one implementation for every importer. The
// nodes of the decomposition are left to the dead-code pass (they stay
// when something else reads them).

// producer returns the node that makes the value name (nil for inputs
// and initializers).
func (c *converter) producer(name string) *NodeProto { return c.producers[name] }

// isConst reports whether name is a constant whose values are all v
// (within float32 rounding).
func (c *converter) isConst(name string, v float64) bool {
	t := c.vals[name]
	if t == nil || t.konst == nil || len(t.konst.Float) == 0 {
		return false
	}
	for _, f := range t.konst.Float {
		if math.Abs(float64(f)-v) > 1e-6*math.Max(1, math.Abs(v)) {
			return false
		}
	}
	return true
}

// other returns the input of a binary node that is not name ("" when
// neither is).
func other(n *NodeProto, name string) string {
	if len(n.Inputs) != 2 {
		return ""
	}
	switch name {
	case n.Inputs[0]:
		return n.Inputs[1]
	case n.Inputs[1]:
		return n.Inputs[0]
	}
	return ""
}

// fuse tries the patterns that end at the current node; it reports
// whether it converted the node. Decomposed activations are not matched
// here: nn.FuseDecomposed finds them on the imported graph (load.go).
func (c *converter) fuse(n *NodeProto) (bool, error) {
	if len(n.Inputs) != 2 || len(n.Outputs) != 1 {
		return false, nil
	}
	if n.OpType == "Add" {
		return c.layerNormPattern(n)
	}
	return false, nil
}

// layerNormPattern matches the decomposition of a layer norm over the
// last axis, as PyTorch exports it before opset 17 (and PaddleOCR's):
//
//	d = x - ReduceMean(x, -1); v = ReduceMean(Pow(d, 2), -1)
//	y = d / Sqrt(v + eps) * gamma + beta
//
// and converts it to one nn.LayerNorm.
func (c *converter) layerNormPattern(n *NodeProto) (bool, error) {
	for _, mulName := range n.Inputs {
		beta := other(n, mulName)
		mul := c.producer(mulName)
		if mul == nil || mul.OpType != "Mul" || len(mul.Inputs) != 2 || c.vals[beta] == nil || c.vals[beta].konst == nil {
			continue
		}
		for _, divName := range mul.Inputs {
			gamma := other(mul, divName)
			div := c.producer(divName)
			if div == nil || div.OpType != "Div" || c.vals[gamma] == nil || c.vals[gamma].konst == nil {
				continue
			}
			sub := c.producer(div.Inputs[0])
			sqrt := c.producer(div.Inputs[1])
			if sub == nil || sub.OpType != "Sub" || sqrt == nil || sqrt.OpType != "Sqrt" {
				continue
			}
			x := sub.Inputs[0]
			mean := c.producer(sub.Inputs[1])
			if mean == nil || mean.OpType != "ReduceMean" || mean.Inputs[0] != x || !c.lastAxisMean(mean, x) {
				continue
			}
			add := c.producer(sqrt.Inputs[0])
			if add == nil || add.OpType != "Add" || len(add.Inputs) != 2 {
				continue
			}
			for _, vn := range add.Inputs {
				epsName := other(add, vn)
				ev := c.vals[epsName]
				vm := c.producer(vn)
				if ev == nil || ev.konst == nil || len(ev.konst.Float) != 1 || vm == nil || vm.OpType != "ReduceMean" || !c.lastAxisMean(vm, x) {
					continue
				}
				pw := c.producer(vm.Inputs[0])
				sq := pw != nil && ((pw.OpType == "Pow" && pw.Inputs[0] == div.Inputs[0] && c.isConst(pw.Inputs[1], 2)) ||
					(pw.OpType == "Mul" && pw.Inputs[0] == div.Inputs[0] && pw.Inputs[1] == div.Inputs[0]))
				if !sq {
					continue
				}
				ok, err := c.emitLayerNorm(x, ev.konst.Float[0], c.vals[gamma].konst, c.vals[beta].konst)
				if ok || err != nil {
					return ok, err
				}
			}
		}
	}
	return false, nil
}

// lastAxisMean reports whether a ReduceMean node averages x over its last
// axis only, keeping it.
func (c *converter) lastAxisMean(n *NodeProto, x string) bool {
	v := c.vals[x]
	if v == nil || len(n.Inputs) != 1 {
		return false
	}
	saved := c.node
	c.node = n
	defer func() { c.node = saved }()
	keep, err := c.attrInt("keepdims", 1)
	axes, ok, err2 := c.attrInts("axes")
	if err != nil || err2 != nil || keep != 1 || !ok || len(axes) != 1 {
		return false
	}
	return axes[0] == -1 || axes[0] == int64(v.rank()-1)
}

// emitLayerNorm converts the current node as a LayerNorm of x over its
// last axis; false when the scale or shift is not one per feature.
func (c *converter) emitLayerNorm(xName string, eps float32, gamma, beta *Data) (bool, error) {
	x := c.vals[xName]
	if x.ref == "" || x.rank() < 2 || !(eps > 0) {
		return false, nil
	}
	if err := c.plain(x); err != nil {
		return false, err
	}
	r := x.rank()
	k := x.onnxShape()[r-1]
	vec := func(d *Data) (*tensor.Tensor, bool) {
		if len(d.Float) == 1 {
			t := tensor.New(k)
			t.Fill(d.Float[0])
			return t, true
		}
		for _, s := range d.Shape[:max(len(d.Shape)-1, 0)] {
			if s != 1 {
				return nil, false
			}
		}
		return &tensor.Tensor{Shape: []int{len(d.Float)}, Data: d.Float}, len(d.Float) == k
	}
	if k < 1 {
		return false, nil
	}
	g, ok1 := vec(gamma)
	b, ok2 := vec(beta)
	if !ok1 || !ok2 {
		return false, nil
	}
	p := x.getPerm()
	if p[len(p)-1] != r-1 {
		p = identity(r)
	}
	in, err := c.ref(x, p)
	if err != nil {
		return false, err
	}
	op := nn.NewLayerNorm(eps)
	if err := c.withWeights(op, [][]int{c.shapes[in]}, g, b); err != nil {
		return false, err
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return false, err
	}
	out := c.value(ref, shape, p, x.dtype)
	sameDims(out, x)
	c.setOut(0, out)
	return true, nil
}

// foldAffine turns Add(layer output, constant) into the layer's bias and
// Mul(layer output, constant) into its weights, when the layer (Conv2D,
// ConvTranspose2D (Add only), Dense, without an activation) is read by
// this node only and the constant is one value per output channel (or
// one value): exporters write Linear on 3-D inputs as MatMul + Add,
// PaddleOCR keeps biases apart and scales convolutions by learned
// scalars, ConvNeXt scales its blocks. out is the layer's output value.
func (c *converter) foldAffine(opType string, out *tval, k *tval) (*tval, bool, error) {
	if out.ref == "" || out.feat != nil || k.konst == nil || c.uses[out.name] != 1 {
		return nil, false, nil
	}
	name, idx := splitRef(out.ref)
	n := c.byName[name]
	if n == nil || idx != 0 || len(n.inputs) != 1 {
		return nil, false, nil
	}
	var f int
	switch op := n.op.(type) {
	case *nn.Conv2D:
		if op.Act.Kind != "" || op.Residual {
			return nil, false, nil
		}
		f = op.Filters
	case *nn.ConvTranspose2D:
		if op.Act.Kind != "" || opType != "Add" {
			return nil, false, nil
		}
		f = op.Filters
	case *nn.Dense:
		if op.Act.Kind != "" {
			return nil, false, nil
		}
		f = op.Units
	default:
		return nil, false, nil
	}
	if !allFinite(k.konst.Float) {
		return nil, false, nil
	}
	// The constant in the layer output's layout must vary along the last
	// (channel) axis only.
	r := out.rank()
	if k.rank() > r {
		return nil, false, nil
	}
	t := permuteData(&Data{Shape: append(slices.Repeat([]int{1}, r-k.rank()), k.konst.Shape...), Float: k.konst.Float}, padPerm(out.getPerm(), r))
	for _, d := range t.Shape[:r-1] {
		if d != 1 {
			return nil, false, nil
		}
	}
	if last := t.Shape[r-1]; last != f && last != 1 {
		return nil, false, nil
	}
	vals := make([]float32, f)
	for i := range vals {
		vals[i] = t.Data[min(i, len(t.Data)-1)]
	}
	scale, shift := slices.Repeat([]float32{1}, f), make([]float32, f)
	switch opType {
	case "Add":
		shift = vals
	case "Sub":
		for i, v := range vals {
			shift[i] = -v
		}
	case "Mul":
		scale = vals
	case "Div":
		for i, v := range vals {
			if v == 0 {
				return nil, false, nil
			}
			scale[i] = 1 / v
		}
	}
	op, err := withAffine(c, n.op, c.shapes[n.inputs[0]], scale, shift)
	if err != nil || op == nil {
		return nil, false, err
	}
	n.op = op
	res := *out
	res.views = nil
	return &res, true, nil
}

// withAffine returns a copy of a layer whose output is scaled per
// channel, then shifted (new params: the originals stay as they were).
func withAffine(c *converter, op nn.Op, in []int, scale, shift []float32) (nn.Op, error) {
	var fresh nn.Op
	var kernel, bias *nn.Param
	switch o := op.(type) {
	case *nn.Conv2D:
		nc := &nn.Conv2D{Filters: o.Filters, KernelH: o.KernelH, KernelW: o.KernelW, StrideH: o.StrideH, StrideW: o.StrideW,
			Padding: o.Padding, UseBias: true, Groups: o.Groups, DilationH: o.DilationH, DilationW: o.DilationW, Initializer: nn.Zeros}
		fresh, kernel, bias = nc, o.Kernel(), o.Bias()
	case *nn.ConvTranspose2D:
		nc := &nn.ConvTranspose2D{Filters: o.Filters, KernelH: o.KernelH, KernelW: o.KernelW, StrideH: o.StrideH, StrideW: o.StrideW,
			Padding: o.Padding, OutputPaddingH: o.OutputPaddingH, OutputPaddingW: o.OutputPaddingW, DilationH: o.DilationH,
			DilationW: o.DilationW, Groups: o.Groups, UseBias: true, Initializer: nn.Zeros}
		fresh, kernel, bias = nc, o.Kernel(), o.Bias()
	case *nn.Dense:
		fresh, kernel, bias = &nn.Dense{Units: o.Units, UseBias: true, Initializer: nn.Zeros}, o.Kernel(), o.Bias()
	default:
		return nil, nil
	}
	f := len(shift)
	b := tensor.New(f)
	for i := range b.Data {
		if bias != nil {
			b.Data[i] = bias.Value.Data[i] * scale[i]
		}
		b.Data[i] += shift[i]
	}
	k := kernel.Value
	if slices.ContainsFunc(scale, func(v float32) bool { return v != 1 }) {
		// Conv2D and Dense kernels end in the output channel.
		k = k.Clone()
		for i := range k.Data {
			k.Data[i] *= scale[i%f]
		}
	}
	if err := c.withWeights(fresh, [][]int{in}, k, b); err != nil {
		return nil, err
	}
	return fresh, nil
}
