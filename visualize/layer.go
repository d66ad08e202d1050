package visualize

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// LayerError says that the chosen layer does not exist or does not fit
// the request (a ReLU has no kernels); the message lists valid choices.
type LayerError struct{ Msg string }

func (e *LayerError) Error() string { return e.Msg }

func layerErrorf(format string, args ...any) error {
	return &LayerError{Msg: fmt.Sprintf(format, args...)}
}

// Layers are the nodes of net's graph that compute something (all but its
// inputs and constants), in topological order: the layers `dlcv summary`
// lists, numbered from 0.
func Layers(net nn.Model) []*nn.Node {
	var ls []*nn.Node
	for _, n := range net.Graph().Nodes() {
		switch n.Op.(type) {
		case *nn.InputOp, *nn.Constant:
			continue
		}
		ls = append(ls, n)
	}
	return ls
}

// ResolveLayer turns spec into a layer index of net (see Layers): a
// 0-based index, or a layer name as Summary prints it (conv2d_1). An empty
// spec means the first Conv2D. Errors are *LayerError naming the bad spec
// and listing the valid choices.
func ResolveLayer(net nn.Model, spec string) (int, error) {
	if !net.Graph().Built() {
		return 0, fmt.Errorf("visualize: the model is not built")
	}
	layers := Layers(net)
	spec = strings.TrimSpace(spec)
	if spec == "" {
		if i := firstConv(layers); i >= 0 {
			return i, nil
		}
		return 0, layerErrorf("the model has no Conv2D layer; layers: %s", listLayers(net, nil))
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 || i >= len(layers) {
			return 0, layerErrorf("layer %d out of range: the model has %d layers (0..%d): %s", i, len(layers), len(layers)-1, listLayers(net, nil))
		}
		return i, nil
	}
	for i, n := range layers {
		if n.Name == spec {
			return i, nil
		}
	}
	return 0, layerErrorf("no layer named %q; layers: %s", spec, listLayers(net, nil))
}

// LayerLabel is "conv2d_1 (Conv2D, layer 3)".
func LayerLabel(net nn.Model, i int) string {
	n := Layers(net)[i]
	return fmt.Sprintf("%s (%s, layer %d)", n.Name, n.Op.Kind(), i)
}

// listLayers lists "0 conv2d (Conv2D), 1 re_lu (ReLU), ..." for the
// layers keep accepts (all when keep is nil).
func listLayers(net nn.Model, keep func(i int) bool) string {
	var parts []string
	for i, n := range Layers(net) {
		if keep == nil || keep(i) {
			parts = append(parts, fmt.Sprintf("%d %s (%s)", i, n.Name, n.Op.Kind()))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func isConv(n *nn.Node) bool {
	_, ok := n.Op.(*nn.Conv2D)
	return ok
}

// shapeText formats a per-sample shape: (7, 7, 50).
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
