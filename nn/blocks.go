package nn

import (
	"strings"

	"github.com/dlcv-go/dlcv/tensor"
)

// Blocks and freezing, for fine-tuning a pretrained network: the last few
// blocks are unfrozen while the rest stays as it was trained.

// Block is a group of consecutive nodes with weights.
type Block struct {
	Name  string // the name scope, or the node's name
	Nodes []*Node
}

// Blocks groups the graph's nodes that have weights (constants and k-NN
// training sets aside), in topological order, by name scope: the path
// component that follows the scope all the scoped names share. For the
// TensorFlow names of the Coral MobileNet v2 (shared scope MobilenetV2)
// the blocks are the paper's: "MobilenetV2/expanded_conv_16/expand/Relu6",
// ".../depthwise/Relu6" and ".../project/add_fold" are block
// "MobilenetV2/expanded_conv_16"; "MobilenetV2/Conv_1/Relu6" is block
// "MobilenetV2/Conv_1". A node whose name has no '/' (dlcv's conv2d_3,
// batch_normalization_2) is a block of its own. The graph must be built.
func (g *Graph) Blocks() []Block {
	var weighted []*Node
	var shared []string // the path components every scoped name starts with
	first := true
	for _, n := range g.Nodes() {
		if !hasWeights(n.Op) {
			continue
		}
		weighted = append(weighted, n)
		parts := strings.Split(n.Name, "/")
		if len(parts) < 2 {
			continue
		}
		parts = parts[:len(parts)-1] // a block is never a single node's own name
		if first {
			shared, first = parts, false
			continue
		}
		k := 0
		for k < len(shared) && k < len(parts) && shared[k] == parts[k] {
			k++
		}
		shared = shared[:k]
	}
	var bs []Block
	for _, n := range weighted {
		scope := n.Name
		if parts := strings.Split(n.Name, "/"); len(parts) > 1 {
			scope = strings.Join(parts[:len(shared)+1], "/")
		}
		if k := len(bs) - 1; k >= 0 && bs[k].Name == scope {
			bs[k].Nodes = append(bs[k].Nodes, n)
			continue
		}
		bs = append(bs, Block{Name: scope, Nodes: []*Node{n}})
	}
	return bs
}

func hasWeights(op Op) bool {
	switch op.(type) {
	case *Constant, *KNN:
		return false
	}
	return len(op.Params()) > 0
}

// Freeze makes every param of n non-trainable (no gradient), as Keras'
// layer.trainable = False.
func Freeze(n *Node) {
	for _, p := range n.Op.Params() {
		p.Trainable, p.Grad = false, nil
	}
}

// Unfreeze makes n's weights trainable again, with zeroed gradients, and
// returns how many values that is. State stays frozen: a batch norm's
// moving statistics, constants, a k-NN's training set.
func Unfreeze(n *Node) int {
	var ps []*Param
	switch op := n.Op.(type) {
	case *Constant, *KNN:
	case *BatchNorm:
		if op.gamma != nil {
			ps = []*Param{op.gamma, op.beta}
		}
	default:
		ps = op.Params()
	}
	count := 0
	for _, p := range ps {
		if p.Grad == nil || len(p.Grad.Data) != len(p.Value.Data) {
			p.Grad = tensor.New(p.Value.Shape...)
		}
		p.Trainable = true
		count += p.Value.Len()
	}
	return count
}

// FreezeBatchNormStats puts every batch norm of g in inference mode
// (BatchNorm.Frozen): training then normalises with, and keeps, the moving
// statistics, as Keras recommends for fine-tuning, where batches of a
// small dataset would otherwise overwrite the statistics learnt on the
// large one. It returns how many layers that is.
func FreezeBatchNormStats(g *Graph) int {
	k := 0
	for _, n := range g.Nodes() {
		if b, ok := n.Op.(*BatchNorm); ok {
			b.Frozen = true
			k++
		}
	}
	return k
}
