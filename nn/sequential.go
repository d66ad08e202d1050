package nn

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dlcv-go/dlcv/tensor"
)

// Sequential is a stack of layers, each feeding the next: a chain-shaped
// Graph. Build makes the graph (an input node, then one node per layer);
// every Model method is the graph's.
type Sequential struct {
	*chainGraph
	layers []Layer
}

// chainGraph names the embedded graph so that the promoted Graph method
// (Model) is not shadowed by a field called Graph.
type chainGraph = Graph

// NewSequential returns a model made of layers, in order. Call Build
// before using it.
func NewSequential(layers ...Layer) *Sequential {
	return &Sequential{chainGraph: NewGraph(), layers: layers}
}

// Build builds the chain for inputs of shape inShape (without the batch
// dimension, e.g. (28, 28, 1)), initialising weights layer by layer from a
// generator seeded with seed.
func (m *Sequential) Build(inShape []int, seed uint64) error {
	if len(m.layers) == 0 {
		return fmt.Errorf("Sequential: no layers to build")
	}
	if m.built {
		return fmt.Errorf("Sequential: Build called twice")
	}
	g := NewGraph()
	x := g.Input("", inShape...)
	shape := x.Shape()
	for i, l := range m.layers {
		if l == nil {
			return fmt.Errorf("Sequential: layer %d is nil", i)
		}
		// Checked here too, so the error names the layer's position.
		if _, err := l.Shapes([][]int{shape}); err != nil {
			return fmt.Errorf("Sequential: layer %d (%s) on input %s: %w", i, l.Kind(), shapeText(shape), err)
		}
		n := g.Node("", l, x)
		if len(n.Outputs) != 1 {
			return fmt.Errorf("Sequential: layer %d (%s) has %d outputs, want 1", i, l.Kind(), len(n.Outputs))
		}
		x = n.Outputs[0]
		shape = x.Shape()
	}
	g.Output(x)
	if err := g.Build(seed); err != nil {
		return fmt.Errorf("Sequential: %w", err)
	}
	m.chainGraph = g
	return nil
}

// Layers returns the model's layers.
func (m *Sequential) Layers() []Layer { return m.layers }

// LayerNames returns the layers' names as Summary prints them (conv2d,
// conv2d_1, re_lu, ...), in layer order; nil before Build.
func (m *Sequential) LayerNames() []string {
	if !m.built {
		return nil
	}
	names := make([]string, 0, len(m.layers))
	for _, n := range m.order[1:] {
		names = append(names, n.Name)
	}
	return names
}

// LayerNodes returns the graph node of each layer, in layer order.
func (m *Sequential) LayerNodes() []*Node {
	if !m.built {
		return nil
	}
	return m.order[1:]
}

// Summary describes the model as Keras' model.summary() does for a
// Sequential model: one row per layer with its output shape and parameter
// count, then the totals.
func (m *Sequential) Summary() string {
	if !m.built {
		return "Sequential (not built)\n"
	}
	rows := make([]summaryRow, 0, len(m.layers))
	for _, n := range m.LayerNodes() {
		rows = append(rows, summaryRow{name: n.Name, kind: n.Op.Kind(), shape: kerasShape(n.Outputs[0].shape), params: n.Op.Params()})
	}
	return formatSummary("sequential", rows, false)
}

// summaryRow is one line of a model summary.
type summaryRow struct {
	name, kind, shape string
	params            []*Param
	connected         []string
}

// formatSummary lays rows out as Keras 2's model.summary() does.
func formatSummary(model string, rows []summaryRow, connected bool) string {
	w1, w2, w3 := 29, 26, 10
	for _, r := range rows {
		w1 = max(w1, len(r.name)+len(r.kind)+6)
		w2 = max(w2, len(r.shape)+3)
		n := 0
		for _, p := range r.params {
			n += p.Value.Len()
		}
		w3 = max(w3, len(thousands(n))+1) // a layer of 10M+ weights keeps "Connected to" aligned
	}
	total := w1 + w2 + w3
	w4 := 0
	if connected {
		w4 = 30
		for _, r := range rows {
			for _, c := range r.connected {
				w4 = max(w4, len(c)+4)
			}
		}
		total += w4
	}
	var b strings.Builder
	rule := func(c string) { b.WriteString(strings.Repeat(c, total) + "\n") }
	line := func(a, s, p string, c string) {
		if !connected {
			fmt.Fprintf(&b, " %-*s %-*s %s\n", w1-2, a, w2-1, s, p)
			return
		}
		fmt.Fprintf(&b, " %-*s %-*s %-*s %s\n", w1-2, a, w2-1, s, w3-1, p, c)
	}
	fmt.Fprintf(&b, "Model: %q\n", model)
	rule("_")
	line("Layer (type)", "Output Shape", "Param #", "Connected to")
	rule("=")
	var count, trainable int
	for i, r := range rows {
		n := 0
		for _, p := range r.params {
			n += p.Value.Len()
			if p.Trainable {
				trainable += p.Value.Len()
			}
		}
		count += n
		conn := ""
		if len(r.connected) > 0 {
			conn = r.connected[0]
		} else if connected {
			conn = "[]"
		}
		line(fmt.Sprintf("%s (%s)", r.name, r.kind), r.shape, thousands(n), conn)
		for _, c := range r.connected[min(1, len(r.connected)):] {
			line("", "", "", c)
		}
		if i < len(rows)-1 {
			b.WriteString("\n")
		}
	}
	rule("=")
	fmt.Fprintf(&b, "Total params: %s\n", thousands(count))
	fmt.Fprintf(&b, "Trainable params: %s\n", thousands(trainable))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", thousands(count-trainable))
	rule("_")
	return b.String()
}

// kerasShape formats a shape as Keras does, with None for unknown sizes:
// (None, 28, 28, 1).
func kerasShape(s []int) string {
	if s == nil {
		return "?"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "None"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Summary describes the graph as Keras' model.summary() does for a
// functional model: layer (type), output shape, params and the layers it
// is connected to.
func (g *Graph) Summary() string {
	if !g.built {
		return "Graph (not built)\n"
	}
	rows := make([]summaryRow, 0, len(g.order))
	for _, n := range g.order {
		shapes := make([]string, len(n.Outputs))
		for i, v := range n.Outputs {
			shapes[i] = kerasShape(v.shape)
		}
		shape := strings.Join(shapes, ", ")
		if _, ok := n.Op.(*InputOp); ok {
			shape = "[" + shape + "]"
		}
		var conn []string
		for _, v := range n.Inputs {
			conn = append(conn, fmt.Sprintf("%s[0][%d]", v.node.Name, v.index))
		}
		rows = append(rows, summaryRow{name: n.Name, kind: n.Op.Kind(), shape: shape, params: n.Op.Params(), connected: conn})
	}
	return formatSummary("model", rows, true)
}

// Shapes of a built model as "(batch, 28, 28, 1)" for messages.
func batchShape(s []int) string {
	return "(batch, " + strings.Trim(tensor.ShapeString(s), "(,)") + ")"
}

// thousands formats n with comma separators: 1,256,080.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// snakeCase turns a layer kind into a Keras-style layer name:
// Conv2D -> conv2d, MaxPool2D -> max_pool2d.
func snakeCase(kind string) string {
	var b strings.Builder
	r := []rune(kind)
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && !unicode.IsDigit(r[i-1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
