package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/tensor"
)

// Graph-to-graph passes, as ONNX Runtime's graph transformers: each takes a
// built graph and returns a new built graph that computes the same function
// faster. The original is left as it was.
//
//   - FuseActivations (safe for training): an activation whose input is
//     read by nothing else is applied in the epilogue of the convolution,
//     dense layer or batch norm before it; the fused op takes its
//     derivative from its output, so only activations with Act.FromOutput
//     fuse. A residual Add after a batch norm fuses into it too (with the
//     activation after the Add: ResNet's bn -> add -> relu). The new graph
//     shares the original's weights, so training it trains the original.
//   - FuseDecomposed (safe for training, nn/fuse_act.go): activations
//     written as element-wise chains (hard swish, SiLU, GELU) become one
//     activation op.
//   - Optimize (inference): constant folding, decomposed activations,
//     batch-norm folding into the convolution or dense layer before it, residual additions into the
//     convolution's epilogue, then every activation; last, a channel
//     scale (a squeeze-excite gate) before a 1x1 convolution scales its
//     weights instead (ScaledPointwise, nn/scalepw.go), and a 1x1
//     convolution read only by a depthwise one becomes one op with it
//     (PointwiseDepthwise, nn/pwdw.go). Folded weights are copies:
//     changing the original afterwards does not change the result.

// The interfaces ops implement to take part.
type (
	// actFuser: ops with an activation epilogue (Conv2D, Dense, ...,
	// BatchNorm).
	actFuser interface {
		fuseAct(a Act) (Op, bool)
	}
	// residualFuser: ops that can add a second input (of the output's
	// shape) before their activation.
	residualFuser interface {
		fuseResidual() (Op, bool)
	}
	// affineFolder: ops that absorb y*scale + shift over the last axis by
	// rewriting their weights (a copy).
	affineFolder interface {
		foldAffine(scale, shift []float32) (Op, error)
	}
	// channelAffine: ops that compute x*scale + shift over the last axis
	// at inference (BatchNorm).
	channelAffine interface {
		inferenceAffine() (scale, shift []float32, ok bool)
	}
)

// FuseActivations returns g with activations fused into the layers before
// them wherever training allows (see above). Summary, saving and
// visualisation keep using g; the Model methods run the fused graph.
func FuseActivations(g *Graph) (*Graph, error) {
	return rewrite(g, passOptions{act: true, bnResidual: true})
}

// Optimize returns g prepared for inference: constants folded, decomposed
// activations recognised, batch norms folded into the layers before them,
// residual additions and activations fused into convolution epilogues,
// channel gates folded into the 1x1 convolutions after them
// (ScaledPointwise), and pointwise convolutions run with the depthwise
// ones that read them (PointwiseDepthwise).
func Optimize(g *Graph) (*Graph, error) {
	folded, err := FoldConstants(g)
	if err != nil {
		return nil, err
	}
	if folded, err = FuseDecomposed(folded); err != nil {
		return nil, err
	}
	fused, err := rewrite(folded, passOptions{inference: true, act: true, bn: true, residual: true})
	if err != nil {
		return nil, err
	}
	if fused, err = fuseScaledPointwise(fused); err != nil {
		return nil, err
	}
	return fusePointwiseDepthwise(fused)
}

type passOptions struct {
	inference bool // any activation fuses, not only those with FromOutput
	act       bool
	bn        bool
	residual  bool
	// bnResidual: residual additions fuse into batch norms (residual
	// fuses them into any residualFuser).
	bnResidual bool
}

// rewrite copies g, fusing chains that start at a layer with an epilogue:
// layer -> [BatchNorm] -> [Add] -> [activation].
func rewrite(g *Graph, o passOptions) (*Graph, error) {
	if !g.built {
		return nil, fmt.Errorf("graph pass: the graph is not built")
	}
	sole := g.soleReaders()
	absorbed := map[*Node]bool{}
	// single returns the one node that reads v, when v is read once, is not
	// a graph output, and its reader is not part of another fusion yet.
	single := func(v *Value) *Node {
		if n := sole[v.id]; n != nil && !absorbed[n] {
			return n
		}
		return nil
	}
	ref := map[string]string{} // old value name -> new value name
	type fused struct {
		name   string
		op     Op
		inputs []string
	}
	var news []fused
	replaced := map[*Node]int{} // layer node -> index in news
	for _, n := range g.order {
		if absorbed[n] || len(n.Outputs) != 1 {
			continue
		}
		op := n.Op
		if _, ok := op.(actFuser); !ok {
			continue
		}
		inputs := refsOf(n.Inputs)
		out := n.Outputs[0]
		changed := false
		if o.bn {
			if bn := single(out); bn != nil && len(bn.Inputs) == 1 {
				if ca, ok := bn.Op.(channelAffine); ok {
					if af, ok := op.(affineFolder); ok {
						if scale, shift, ok := ca.inferenceAffine(); ok && lastDim(out.shape) == len(scale) {
							nop, err := af.foldAffine(scale, shift)
							if err != nil {
								return nil, fmt.Errorf("folding %q into %q: %w", bn.Name, n.Name, err)
							}
							op, out, changed = nop, bn.Outputs[0], true
							absorbed[bn] = true
							ref[out.Name()] = n.Name
						}
					}
				}
			}
		}
		_, isBN := op.(*BatchNorm)
		if o.residual || o.bnResidual && isBN {
			if add := single(out); add != nil && len(add.Inputs) == 2 {
				if _, isAdd := add.Op.(*Add); isAdd {
					other := add.Inputs[0]
					if other == out {
						other = add.Inputs[1]
					}
					if other != out && tensor.EqualShape(other.shape, out.shape) && sameKnown(out.shape) {
						if rf, ok := op.(residualFuser); ok {
							if nop, ok := rf.fuseResidual(); ok {
								op, out, changed = nop, add.Outputs[0], true
								inputs = append(inputs, other.Name())
								absorbed[add] = true
								ref[out.Name()] = n.Name
							}
						}
					}
				}
			}
		}
		if o.act {
			if an := single(out); an != nil && len(an.Inputs) == 1 {
				if ao, ok := an.Op.(ActOp); ok {
					if a, ok := ao.FusedAct(); ok && (o.inference || a.FromOutput()) {
						if nop, ok := op.(actFuser).fuseAct(a); ok {
							op, out, changed = nop, an.Outputs[0], true
							absorbed[an] = true
							ref[out.Name()] = n.Name
						}
					}
				}
			}
		}
		if !changed {
			continue
		}
		replaced[n] = len(news)
		news = append(news, fused{name: n.Name, op: op, inputs: inputs})
	}
	ng := NewGraph()
	for _, v := range g.inputs {
		ng.InputBatch(v.node.Name, v.node.Op.(*InputOp).Shape...)
	}
	mapRefs := func(refs []string) []string {
		m := make([]string, len(refs))
		for i, r := range refs {
			if to, ok := ref[r]; ok {
				r = to
			}
			m[i] = r
		}
		return m
	}
	for _, n := range g.order {
		if _, isInput := n.Op.(*InputOp); isInput || absorbed[n] {
			continue
		}
		name, op, inputs := n.Name, n.Op, refsOf(n.Inputs)
		if i, ok := replaced[n]; ok {
			op, inputs = news[i].op, news[i].inputs
		}
		if _, err := ng.AddNode(name, op, mapRefs(inputs)...); err != nil {
			return nil, err
		}
	}
	ng.OutputRefs(mapRefs(refsOf(g.outputs))...)
	if err := ng.buildShared(g.seed); err != nil {
		return nil, fmt.Errorf("graph pass: %w", err)
	}
	return ng, nil
}

// rebuilt returns a built copy of g without the dropped nodes, in which
// a node n for which swap(n) reports true runs the op swap gives on the
// inputs it gives. The copy shares g's ops and weights.
func rebuilt(g *Graph, dropped map[*Node]bool, swap func(n *Node) (Op, []string, bool)) (*Graph, error) {
	ng := NewGraph()
	for _, v := range g.inputs {
		ng.InputBatch(v.node.Name, v.node.Op.(*InputOp).Shape...)
	}
	for _, n := range g.order {
		if _, isInput := n.Op.(*InputOp); isInput || dropped[n] {
			continue
		}
		op, inputs := n.Op, refsOf(n.Inputs)
		if o, in, ok := swap(n); ok {
			op, inputs = o, in
		}
		if _, err := ng.AddNode(n.Name, op, inputs...); err != nil {
			return nil, err
		}
	}
	ng.OutputRefs(refsOf(g.outputs)...)
	if err := ng.buildShared(g.seed); err != nil {
		return nil, fmt.Errorf("graph pass: %w", err)
	}
	return ng, nil
}

func refsOf(vs []*Value) []string {
	r := make([]string, len(vs))
	for i, v := range vs {
		r[i] = v.Name()
	}
	return r
}

func lastDim(s []int) int {
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}

// sameKnown reports whether every dimension but the batch is known, so two
// equal static shapes are equal at run time too.
func sameKnown(s []int) bool {
	for _, d := range s[1:] {
		if d < 0 {
			return false
		}
	}
	return true
}

// fullyKnown reports whether a shape has no unknown dimension.
func fullyKnown(s []int) bool {
	if s == nil {
		return false
	}
	for _, d := range s {
		if d < 0 {
			return false
		}
	}
	return true
}

// buildShared builds a graph whose ops are already built (they come from
// another graph, or a pass made them with their weights): shapes are
// inferred and params collected, but no op's Build runs, so no weight is
// re-initialised.
func (g *Graph) buildShared(seed uint64) error {
	if g.err != nil {
		return g.err
	}
	if err := g.resolve(); err != nil {
		return err
	}
	if err := g.sort(); err != nil {
		return err
	}
	if err := g.inferShapes(); err != nil {
		return err
	}
	outs, err := g.lookupOutputs(g.outRefs)
	if err != nil {
		return err
	}
	g.outputs = outs
	g.collectParams()
	for _, n := range g.order {
		for _, v := range n.Outputs {
			v.id = len(g.values)
			g.values = append(g.values, v)
		}
	}
	g.seed = seed
	g.built = true
	return nil
}

// FoldConstants returns g with every node whose inputs are all constants
// (and that draws no random numbers) replaced by a Constant holding its
// result: shape arithmetic and weight preprocessing in imported graphs
// then cost nothing per call. Ops that read only their inputs' shapes
// (Shape) fold too when those shapes are fully known.
func FoldConstants(g *Graph) (*Graph, error) {
	if !g.built {
		return nil, fmt.Errorf("graph pass: the graph is not built")
	}
	consts := map[*Value]*tensor.Tensor{}
	folded := map[*Node][]*tensor.Tensor{}
	for _, n := range g.order {
		if c, ok := n.Op.(*Constant); ok {
			consts[n.Outputs[0]] = c.Value.Value
			continue
		}
		if _, ok := n.Op.(*InputOp); ok || len(n.Inputs) == 0 || len(n.Op.Params()) > 0 {
			continue
		}
		if _, random := n.Op.(*Dropout); random {
			continue
		}
		in := make([]*tensor.Tensor, len(n.Inputs))
		all := true
		for i, v := range n.Inputs {
			in[i] = consts[v]
			all = all && in[i] != nil
		}
		if !all {
			// An op that reads only its inputs' shapes (Shape) folds
			// when they are fully known: it gets them without data.
			so, ok := n.Op.(shapeOnly)
			if !ok || !so.ShapeOnly() {
				continue
			}
			all = true
			for i, v := range n.Inputs {
				if in[i] == nil {
					all = all && fullyKnown(v.shape)
					in[i] = &tensor.Tensor{Shape: v.shape}
				}
			}
			if !all {
				continue
			}
		}
		shapes := make([][]int, len(in))
		for i, t := range in {
			shapes[i] = t.Shape
		}
		outShapes, err := n.Op.Shapes(shapes)
		if err != nil {
			return nil, nodeError(n, shapes, err)
		}
		outs := make([]*tensor.Tensor, len(outShapes))
		for i, s := range outShapes {
			outs[i] = tensor.New(s...)
		}
		if _, ok := n.Op.(Aliaser); ok {
			copy(outs[0].Data, in[0].Data)
		} else if err := n.Op.Forward(&Call{node: n}, in, outs); err != nil {
			return nil, fmt.Errorf("folding constant node %q (%s): %w", n.Name, n.Op.Kind(), err)
		}
		folded[n] = outs
		for i, v := range n.Outputs {
			consts[v] = outs[i]
		}
	}
	if len(folded) == 0 {
		return g, nil
	}
	ng := NewGraph()
	for _, v := range g.inputs {
		ng.InputBatch(v.node.Name, v.node.Op.(*InputOp).Shape...)
	}
	ref := map[string]string{}
	for _, n := range g.order {
		if _, isInput := n.Op.(*InputOp); isInput {
			continue
		}
		if outs, ok := folded[n]; ok {
			for i, t := range outs {
				name := n.Name
				if i > 0 {
					name = fmt.Sprintf("%s_%d", n.Name, i)
				}
				if _, err := ng.AddNode(name, NewConstant(t)); err != nil {
					return nil, err
				}
				ref[n.Outputs[i].Name()] = name
			}
			continue
		}
		refs := refsOf(n.Inputs)
		for i, r := range refs {
			if to, ok := ref[r]; ok {
				refs[i] = to
			}
		}
		if _, err := ng.AddNode(n.Name, n.Op, refs...); err != nil {
			return nil, err
		}
	}
	outs := refsOf(g.outputs)
	for i, r := range outs {
		if to, ok := ref[r]; ok {
			outs[i] = to
		}
	}
	ng.OutputRefs(outs...)
	if err := ng.buildShared(g.seed); err != nil {
		return nil, fmt.Errorf("graph pass: %w", err)
	}
	return ng, nil
}
