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

// ResolveLayer turns spec into a layer index of net: a 0-based index as
// `dlcv summary` orders the layers, or a layer name as Summary prints it
// (conv2d_1). An empty spec means the first Conv2D. Errors are
// *LayerError naming the bad spec and listing the valid choices.
func ResolveLayer(net *nn.Sequential, spec string) (int, error) {
	layers, names := net.Layers(), net.LayerNames()
	if len(names) != len(layers) {
		return 0, fmt.Errorf("visualize: the model is not built")
	}
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
	for i, n := range names {
		if n == spec {
			return i, nil
		}
	}
	return 0, layerErrorf("no layer named %q; layers: %s", spec, listLayers(net, nil))
}

// LayerLabel is "conv2d_1 (Conv2D, layer 3)".
func LayerLabel(net *nn.Sequential, i int) string {
	return fmt.Sprintf("%s (%s, layer %d)", net.LayerNames()[i], net.Layers()[i].Kind(), i)
}

// listLayers lists "0 conv2d (Conv2D), 1 re_lu (ReLU), ..." for the
// layers keep accepts (all when keep is nil).
func listLayers(net *nn.Sequential, keep func(i int) bool) string {
	var parts []string
	names := net.LayerNames()
	for i, l := range net.Layers() {
		if keep == nil || keep(i) {
			parts = append(parts, fmt.Sprintf("%d %s (%s)", i, names[i], l.Kind()))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func isConv(l nn.Layer) bool {
	_, ok := l.(*nn.Conv2D)
	return ok
}
