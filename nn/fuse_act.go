package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/tensor"
)

// Decomposed activations. Exporters write the activations their format
// (or an old opset) has no op for as element-wise chains, and importers
// used to run them as such: MobileNetV3's hard swish in a TF.js graph
// model is Mul(Mul(x, 1/6), Relu6(Add(x, 3))), four passes over the
// tensor with broadcasting where one would do, and no conv epilogue can
// take it. FuseDecomposed recognises, whatever the order of the factors:
//
//	x * sigmoid(x)                              SiLU
//	x * hardsigmoid(x; 1/6, 0.5)                HardSwish
//	x * clip(x + 3, 0, 6) / 6 (or * 1/6)        HardSwish
//	clip(x + 3, 0, 6) / 6                       HardSigmoid(1/6, 0.5)
//	x * (erf(x / sqrt 2) + 1) * 0.5             GELU (exact)
//	x * (maxpool(x) == x)                       PoolPeaks (a heatmap's peaks)
//
// where clip(., 0, 6) is ReLU6 or Clip, and / c is Div by a constant or
// Mul by its inverse. The matched node is replaced by the activation of
// x under the same name (so references to it keep working); the nodes of
// the decomposition go when nothing else reads them. The ONNX and TF.js
// importers run it on what they import; Optimize runs it too, before the
// activations fuse into the convolutions' epilogues.

// FuseDecomposed returns g with decomposed activations replaced by the
// activation ops (see above), sharing g's weights; g itself when there
// is nothing to replace. The new ops have gradients, so the pass is safe
// for training.
func FuseDecomposed(g *Graph) (*Graph, error) {
	if !g.built {
		return nil, fmt.Errorf("graph pass: the graph is not built")
	}
	type match struct {
		op     Op
		x      *Value
		inside []*Node // nodes of the decomposition, x's producer excluded
	}
	matches := map[*Node]match{}
	for _, n := range g.order {
		if len(n.Outputs) != 1 || len(n.Inputs) != 2 {
			continue
		}
		switch n.Op.(type) {
		case *Mul, *Div:
		default:
			continue
		}
		op, x, inside := matchAct(n)
		if op == nil {
			op, x, inside = matchPeaks(n)
		}
		if op == nil || !tensor.EqualShape(x.shape, n.Outputs[0].shape) {
			continue
		}
		matches[n] = match{op, x, inside}
	}
	if len(matches) == 0 {
		return g, nil
	}
	// Readers of each value in the rewired graph, to drop the nodes that
	// only the decompositions read.
	inputsOf := func(n *Node) []*Value {
		if m, ok := matches[n]; ok {
			return []*Value{m.x}
		}
		return n.Inputs
	}
	readers := make([]int, len(g.values))
	for _, n := range g.order {
		for _, v := range inputsOf(n) {
			readers[v.id]++
		}
	}
	for _, v := range g.outputs {
		readers[v.id]++
	}
	dead := map[*Node]bool{}
	var drop func(n *Node)
	drop = func(n *Node) {
		for _, v := range n.Outputs {
			if readers[v.id] > 0 {
				return
			}
		}
		dead[n] = true
		for _, v := range inputsOf(n) {
			readers[v.id]--
		}
		for _, v := range inputsOf(n) {
			if p := v.node; !dead[p] && candidate(p) {
				drop(p)
			}
		}
	}
	for _, m := range matches {
		for _, p := range m.inside {
			if !dead[p] && candidate(p) {
				drop(p)
			}
		}
	}
	return rebuilt(g, dead, func(n *Node) (Op, []string, bool) {
		m, ok := matches[n]
		if !ok {
			return nil, nil, false
		}
		return m.op, []string{m.x.Name()}, true
	})
}

// matchPeaks recognises x * Cast(Equal(x, MaxPool(x))), in any order of
// the operands and with or without the Cast (or an Identity), where the pool has stride 1
// and keeps x's size: the peak extraction PoolPeaks does in one pass.
func matchPeaks(n *Node) (Op, *Value, []*Node) {
	if _, ok := n.Op.(*Mul); !ok {
		return nil, nil, nil
	}
	for i := range 2 {
		x, c := n.Inputs[i], n.Inputs[1-i]
		var inside []*Node
		switch op := c.node.Op.(type) {
		case *Identity: // TF.js's Cast of a bool to float
			inside = append(inside, c.node)
			c = c.node.Inputs[0]
		case *Cast:
			if op.floatType() || op.To == "int32" || op.To == "int64" || op.To == "bool" {
				inside = append(inside, c.node)
				c = c.node.Inputs[0]
			}
		}
		eq, ok := c.node.Op.(*Compare)
		if !ok || eq.Func != "Equal" || len(c.node.Inputs) != 2 {
			continue
		}
		a, b := c.node.Inputs[0], c.node.Inputs[1]
		if b == x {
			a, b = b, a
		}
		if a != x || b.node == nil || len(b.node.Inputs) != 1 || b.node.Inputs[0] != x {
			continue
		}
		pool, ok := b.node.Op.(*MaxPool2D)
		if !ok || !tensor.EqualShape(b.shape, x.shape) || len(x.shape) != 4 || !keepsSize(pool) {
			continue
		}
		return &PoolPeaks{Pool: *pool}, x, append(inside, c.node, b.node)
	}
	return nil, nil, nil
}

// keepsSize reports whether pool maps every input size to itself (the
// shapes known at import may have unknown sizes): stride 1 and padding
// of the window's size less one.
func keepsSize(pool *MaxPool2D) bool {
	if sh, sw := pool.win().strides(); sh != 1 || sw != 1 || pool.CeilMode {
		return false
	}
	p := pool.Padding
	switch p.Mode {
	case "same":
		return true
	case "explicit":
		return p.Top+p.Bottom == pool.PoolH-1 && p.Left+p.Right == pool.PoolW-1
	}
	return pool.PoolH == 1 && pool.PoolW == 1
}

// candidate reports whether a node may be dropped once unread: any node
// but an input (a graph's inputs stay even when nothing reads them).
func candidate(n *Node) bool {
	_, isInput := n.Op.(*InputOp)
	return !isInput
}

// matchAct matches the patterns that end at the Mul or Div node n,
// returning the activation, its input and the nodes it replaces. A first
// flattening of the product finds the gate (sigmoid(x), clip(x + 3, 0,
// 6), ...); a second stops at the gate's input x, which may itself be a
// product.
func matchAct(n *Node) (Op, *Value, []*Node) {
	var scratch []*Node
	first, _, ok := factors(n.Outputs[0], 0, nil, &scratch)
	if !ok {
		return nil, nil, nil
	}
	for _, gate := range first {
		x, gin, op := gateOf(gate)
		if x == nil {
			continue
		}
		var inside []*Node
		leaves, scale, ok := factors(n.Outputs[0], 0, x, &inside)
		if !ok {
			continue
		}
		inside = append(inside, gin...)
		switch {
		case len(leaves) == 1 && leaves[0] == gate && op == "hard_sigmoid" && float32(scale) == float32(1.0/6):
			// The squeeze-excite gate of MobileNetV3. (With a float16 1/6
			// it is not one: its top is 6 * 0.16663, not 1.)
			hs := NewHardSigmoid()
			hs.Alpha, hs.Beta = 1.0/6, 0.5
			return hs, x, inside
		case len(leaves) != 2 || !(leaves[0] == x && leaves[1] == gate || leaves[0] == gate && leaves[1] == x):
		case op == "hard_sigmoid" && near(scale, 1.0/6):
			hs := NewHardSwish()
			if float32(scale) != float32(1.0/6) {
				hs.Scale = float32(scale)
			}
			return hs, x, inside
		case op == "hard_swish" && near(scale, 1):
			return NewHardSwish(), x, inside
		case op == "sigmoid" && near(scale, 1):
			return NewSiLU(), x, inside
		case op == "gelu" && near(scale, 0.5):
			return NewGELU(""), x, inside
		}
	}
	return nil, nil, nil
}

// gateOf reports whether v is a gate of x: "sigmoid" (sigmoid(x)),
// "hard_swish" (hardsigmoid(x; 1/6, 0.5), whose product with x is a hard
// swish), "hard_sigmoid" (clip(x + 3, 0, 6), six times a hard sigmoid)
// or "gelu" (erf(x / sqrt 2) + 1), with the nodes it is made of.
func gateOf(v *Value) (x *Value, nodes []*Node, kind string) {
	p := v.node
	if len(p.Inputs) == 0 {
		return nil, nil, ""
	}
	switch o := p.Op.(type) {
	case *Sigmoid:
		return p.Inputs[0], []*Node{p}, "sigmoid"
	case *HardSigmoid:
		if near(float64(o.Alpha), 1.0/6) && o.Beta == 0.5 {
			return p.Inputs[0], []*Node{p}, "hard_swish"
		}
	case *ReLU6, *Clip:
		if c, ok := o.(*Clip); ok && (c.Min != 0 || c.Max != 6) {
			return nil, nil, ""
		}
		add := p.Inputs[0].node
		if _, isAdd := add.Op.(*Add); !isAdd || len(add.Inputs) != 2 {
			return nil, nil, ""
		}
		for i := range 2 {
			if k, ok := constValue(add.Inputs[1-i]); ok && k == 3 && tensor.EqualShape(add.Inputs[i].shape, v.shape) {
				return add.Inputs[i], []*Node{p, add, add.Inputs[1-i].node}, "hard_sigmoid"
			}
		}
	case *Add:
		for i := range 2 {
			k, ok := constValue(p.Inputs[1-i])
			erf := p.Inputs[i].node
			um, isMath := erf.Op.(*UnaryMath)
			if !ok || k != 1 || !isMath || um.Func != "Erf" || len(erf.Inputs) != 1 {
				continue
			}
			in := []*Node{p, erf, p.Inputs[1-i].node}
			leaves, scale, ok := factors(erf.Inputs[0], 1, nil, &in)
			if ok && len(leaves) == 1 && near(scale, 1/math.Sqrt2) {
				return leaves[0], in, "gelu"
			}
		}
	}
	return nil, nil, ""
}

// factors flattens a product: v as scale times the product of leaves,
// through Mul nodes and Div by constants (a few levels deep) but not
// through stop, appending the nodes it went through to inside.
func factors(v *Value, depth int, stop *Value, inside *[]*Node) (leaves []*Value, scale float64, ok bool) {
	n := v.node
	if k, isK := constValue(v); isK {
		*inside = append(*inside, n)
		return nil, k, true
	}
	if v == stop || depth > 3 || len(n.Inputs) != 2 {
		return []*Value{v}, 1, true
	}
	switch n.Op.(type) {
	case *Mul:
		*inside = append(*inside, n)
		l0, s0, ok0 := factors(n.Inputs[0], depth+1, stop, inside)
		l1, s1, ok1 := factors(n.Inputs[1], depth+1, stop, inside)
		return append(l0, l1...), s0 * s1, ok0 && ok1
	case *Div:
		k, isK := constValue(n.Inputs[1])
		if !isK || k == 0 {
			return []*Value{v}, 1, true
		}
		*inside = append(*inside, n, n.Inputs[1].node)
		l0, s0, ok0 := factors(n.Inputs[0], depth+1, stop, inside)
		return l0, s0 / k, ok0
	}
	return []*Value{v}, 1, true
}

// near compares a constant of a pattern with its exact value, within
// float16's rounding (2^-11 relative): TF.js graph models store weights
// as float16, where 1/6 is 0.16663. Such a model's fused activation uses
// the exact constant, as the activation the exporter decomposed did.
func near(k, exact float64) bool { return math.Abs(k-exact) <= math.Abs(exact)/2048 }

// constValue reports whether v is a Constant whose values are all one
// number, and which.
func constValue(v *Value) (float64, bool) {
	c, ok := v.node.Op.(*Constant)
	if !ok || c.Value == nil || c.Value.Value == nil || len(c.Value.Value.Data) == 0 {
		return 0, false
	}
	d := c.Value.Value.Data
	for _, f := range d[1:] {
		if f != d[0] {
			return 0, false
		}
	}
	return float64(d[0]), true
}
