package onnx

import (
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Import-time fusion of the decompositions exporters write for
// activations and normalisations that ONNX (before opset 17-20) has no
// op for: x*sigmoid(x) (SiLU), x*hardsigmoid(x) and x*clip(x+3, 0, 6)/6
// (hard swish), x*0.5*(1 + erf(x/sqrt(2))) (GELU) and the mean/variance
// chain of a layer norm. The fused ops are what nn.Optimize then fuses
// into the convolutions before them; the nodes of the decomposition are
// left to the dead-code pass (they stay when something else reads them).

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
// whether it converted the node.
func (c *converter) fuse(n *NodeProto) (bool, error) {
	if len(n.Inputs) != 2 || len(n.Outputs) != 1 {
		return false, nil
	}
	switch n.OpType {
	case "Mul":
		for _, in := range n.Inputs {
			if x, act := c.gatePattern(n, in); act != nil {
				return true, c.emitAct(x, act)
			}
		}
		if x := c.geluPattern(n); x != "" {
			return true, c.emitAct(x, nn.NewGELU(""))
		}
	case "Div":
		// x * clip(x + 3, 0, 6) / 6 (PaddleOCR's hard swish).
		if !c.isConst(n.Inputs[1], 6) {
			break
		}
		m := c.producer(n.Inputs[0])
		if m == nil || m.OpType != "Mul" || len(m.Inputs) != 2 {
			break
		}
		for _, in := range m.Inputs {
			x := other(m, in)
			cl := c.producer(in)
			if cl == nil || cl.OpType != "Clip" || len(cl.Inputs) == 0 || !c.clipBounds(cl, 0, 6) {
				continue
			}
			add := c.producer(cl.Inputs[0])
			if add != nil && add.OpType == "Add" && other(add, x) != "" && c.isConst(other(add, x), 3) {
				return true, c.emitAct(x, nn.NewHardSwish())
			}
		}
	case "Add":
		return c.layerNormPattern(n)
	}
	return false, nil
}

// gatePattern matches x * f(x) for the gate f = Sigmoid (SiLU) or
// HardSigmoid(1/6, 0.5) (hard swish), where gate is f(x)'s name.
func (c *converter) gatePattern(n *NodeProto, gate string) (string, nn.Op) {
	x := other(n, gate)
	g := c.producer(gate)
	if g == nil || len(g.Inputs) != 1 || g.Inputs[0] != x || x == "" {
		return "", nil
	}
	switch g.OpType {
	case "Sigmoid":
		return x, nn.NewSiLU()
	case "HardSigmoid":
		saved := c.node
		c.node = g
		a, e1 := c.attrFloat("alpha", 0.2)
		b, e2 := c.attrFloat("beta", 0.5)
		c.node = saved
		if e1 == nil && e2 == nil && math.Abs(float64(a)-1.0/6) < 1e-6 && b == 0.5 {
			return x, nn.NewHardSwish()
		}
	}
	return "", nil
}

// clipBounds reports whether a Clip node clips to [lo, hi].
func (c *converter) clipBounds(n *NodeProto, lo, hi float64) bool {
	if c.opset < 11 {
		saved := c.node
		c.node = n
		l, e1 := c.attrFloat("min", -math.MaxFloat32)
		h, e2 := c.attrFloat("max", math.MaxFloat32)
		c.node = saved
		return e1 == nil && e2 == nil && float64(l) == lo && float64(h) == hi
	}
	return len(n.Inputs) == 3 && c.isConst(n.Inputs[1], lo) && c.isConst(n.Inputs[2], hi)
}

// geluPattern matches (x * (erf(x / sqrt 2) + 1)) * 0.5 in the orders
// PyTorch writes it, returning x.
func (c *converter) geluPattern(n *NodeProto) string {
	for _, half := range n.Inputs {
		if !c.isConst(half, 0.5) {
			continue
		}
		m := c.producer(other(n, half))
		if m == nil || m.OpType != "Mul" || len(m.Inputs) != 2 {
			continue
		}
		for _, in := range m.Inputs {
			x := other(m, in)
			add := c.producer(in)
			if add == nil || add.OpType != "Add" || len(add.Inputs) != 2 {
				continue
			}
			for _, ai := range add.Inputs {
				if !c.isConst(other(add, ai), 1) {
					continue
				}
				erf := c.producer(ai)
				if erf == nil || erf.OpType != "Erf" || len(erf.Inputs) != 1 {
					continue
				}
				div := c.producer(erf.Inputs[0])
				switch {
				case div != nil && div.OpType == "Div" && div.Inputs[0] == x && c.isConst(div.Inputs[1], math.Sqrt2):
					return x
				case div != nil && div.OpType == "Mul" && other(div, x) != "" && c.isConst(other(div, x), 1/math.Sqrt2):
					return x
				}
			}
		}
	}
	return ""
}

// emitAct converts the current node as act(x), in x's layout.
func (c *converter) emitAct(x string, act nn.Op) error {
	v := c.vals[x]
	if v == nil {
		return c.errf("input %q is not produced by any earlier node", x)
	}
	in := v.ref
	if v.ref == "" || v.feat == nil {
		var err error
		if in, err = c.ref(v, v.getPerm()); err != nil {
			return err
		}
	}
	ref, shape, err := c.emit1("", act, in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, v.perm, v.dtype)
	out.feat = v.feat
	sameDims(out, v)
	c.setOut(0, out)
	return nil
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
	for _, v := range k.konst.Float {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, false, nil
		}
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
