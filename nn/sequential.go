package nn

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dlcv-go/dlcv/tensor"
)

// Sequential is a stack of layers, each feeding the next.
type Sequential struct {
	layers []Layer
	shapes [][]int // shapes[0] is the input; shapes[i+1] is layer i's output (no batch)
	names  []string
	params []*Param
	// trainOut is the last TrainStep's output: the logits when softmax was
	// fused into the loss, else the final layer's output.
	trainOut *tensor.Tensor
}

// NewSequential returns a model made of layers, in order. Call Build
// before using it.
func NewSequential(layers ...Layer) *Sequential {
	return &Sequential{layers: layers}
}

// Build builds every layer in turn for inputs of shape inShape (without
// the batch dimension, e.g. (28, 28, 1)), initialising weights from a
// generator seeded with seed. Layers that draw random numbers while
// training (RNGUser) get their own generators derived from seed. The first
// layer is told not to compute the gradient of the model input.
func (m *Sequential) Build(inShape []int, seed uint64) error {
	if len(m.layers) == 0 {
		return fmt.Errorf("Sequential: no layers to build")
	}
	rng := NewRNG(seed)
	m.shapes = [][]int{append([]int(nil), inShape...)}
	m.params = nil
	m.names = m.names[:0]
	counts := map[string]int{}
	shape := m.shapes[0]
	for i, l := range m.layers {
		out, err := l.Build(shape, rng)
		if err != nil {
			m.shapes = nil
			return fmt.Errorf("Sequential: layer %d (%s) on input %s: %w", i, l.Kind(), batchShape(shape), err)
		}
		if u, ok := l.(RNGUser); ok {
			u.SetRNG(NewRNG(seed + 0x5eed + uint64(i)*0x9e3779b97f4a7c15))
		}
		shape = append([]int(nil), out...)
		m.shapes = append(m.shapes, shape)
		m.params = append(m.params, l.Params()...)
		name := snakeCase(l.Kind())
		if k := counts[name]; k > 0 {
			m.names = append(m.names, fmt.Sprintf("%s_%d", name, k))
		} else {
			m.names = append(m.names, name)
		}
		counts[name]++
	}
	if s, ok := m.layers[0].(InputGradSkipper); ok {
		s.SkipInputGrad(true)
	}
	m.fuseReLUs(true)
	return nil
}

// SetFusion turns the ReLU fusion on (the default after Build) or off.
// Fused, a Conv2D followed by a ReLU outputs the rectified values itself;
// code that reads a single layer's output (the activation maps of a
// Conv2D) turns fusion off first so that each layer computes exactly its
// own function. Results of the whole model are the same either way.
func (m *Sequential) SetFusion(on bool) { m.fuseReLUs(on) }

// reluFuser is a layer that can apply the ReLU layer that follows it to
// its own output while the output is still in cache (Conv2D). The ReLU
// then passes its input through; its Backward is unchanged.
type reluFuser interface {
	setFusedReLU(on bool)
}

// fuseReLUs pairs each reluFuser with a ReLU right after it, and each
// ReLU with a 2x2 max pool right after it (the pool applies the ReLU's
// gradient mask in its Backward).
func (m *Sequential) fuseReLUs(on bool) {
	for i, l := range m.layers {
		switch l := l.(type) {
		case *ReLU:
			l.fused, l.gradFused = false, false
			if on && i+1 < len(m.layers) {
				if p, ok := m.layers[i+1].(*MaxPool2D); ok && p.fast() {
					l.gradFused = true
				}
			}
		case *MaxPool2D:
			l.reluGrad = false
			if on && i > 0 {
				_, afterReLU := m.layers[i-1].(*ReLU)
				l.reluGrad = afterReLU && l.fast()
			}
		}
	}
	for i, l := range m.layers {
		f, ok := l.(reluFuser)
		if !ok {
			continue
		}
		var next *ReLU
		if on && i+1 < len(m.layers) {
			next, _ = m.layers[i+1].(*ReLU)
		}
		f.setFusedReLU(next != nil)
		if next != nil {
			next.fused = true
		}
	}
}

// Layers returns the model's layers.
func (m *Sequential) Layers() []Layer { return m.layers }

// LayerNames returns the layers' names as Summary prints them (conv2d,
// conv2d_1, re_lu, ...), in layer order; nil before Build.
func (m *Sequential) LayerNames() []string { return append([]string(nil), m.names...) }

// InputShape is the built input shape without the batch dimension.
func (m *Sequential) InputShape() []int {
	if m.shapes == nil {
		return nil
	}
	return append([]int(nil), m.shapes[0]...)
}

// OutputShape is the built output shape without the batch dimension.
func (m *Sequential) OutputShape() []int {
	if m.shapes == nil {
		return nil
	}
	return append([]int(nil), m.shapes[len(m.shapes)-1]...)
}

// Params lists every layer's parameters, in layer order.
func (m *Sequential) Params() []*Param { return m.params }

// Forward runs the batch x of shape (N, InputShape...) through every layer.
// The result is owned by the last layer (valid until the next call).
func (m *Sequential) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	return m.forward(x, training, len(m.layers))
}

// Predict is Forward in inference mode.
func (m *Sequential) Predict(x *tensor.Tensor) (*tensor.Tensor, error) {
	return m.Forward(x, false)
}

// forward runs layers[:upto].
func (m *Sequential) forward(x *tensor.Tensor, training bool, upto int) (*tensor.Tensor, error) {
	if m.shapes == nil {
		return nil, fmt.Errorf("Sequential: Forward before Build")
	}
	if x.Dims() != len(m.shapes[0])+1 || !tensor.EqualShape(x.Shape[1:], m.shapes[0]) {
		return nil, fmt.Errorf("Sequential: input shape %s, model built for %s", tensor.ShapeString(x.Shape), batchShape(m.shapes[0]))
	}
	var err error
	for i, l := range m.layers[:upto] {
		if x, err = l.Forward(x, training); err != nil {
			return nil, fmt.Errorf("Sequential: layer %d (%s): %w", i, l.Kind(), err)
		}
	}
	return x, nil
}

// Backward takes dL/dy for the last Forward, accumulates every layer's
// parameter gradients and returns dL/dx (nil when the first layer skips
// it, which is the case after Build).
func (m *Sequential) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	return m.backward(dy, len(m.layers))
}

// backward runs layers[:from] in reverse.
func (m *Sequential) backward(dy *tensor.Tensor, from int) (*tensor.Tensor, error) {
	var err error
	for i := from - 1; i >= 0; i-- {
		l := m.layers[i]
		if dy, err = l.Backward(dy); err != nil {
			return nil, fmt.Errorf("Sequential: layer %d (%s) backward: %w", i, l.Kind(), err)
		}
		if dy == nil && i > 0 {
			return nil, fmt.Errorf("Sequential: layer %d (%s) returned no input gradient", i, l.Kind())
		}
	}
	return dy, nil
}

// TrainStep computes the gradients of loss for one batch: it zeroes the
// gradients, runs Forward in training mode, evaluates the loss and runs
// Backward. It returns the loss. Updating the weights is the optimizer's
// job. When the last layer is a Softmax and the loss is a LogitsLoss, the
// softmax is fused into the loss (stable and cheaper).
func (m *Sequential) TrainStep(x, target *tensor.Tensor, loss Loss) (float64, error) {
	if m.shapes == nil {
		return 0, fmt.Errorf("Sequential: TrainStep before Build")
	}
	ZeroGrads(m.params)
	n := len(m.layers)
	ll, fuse := loss.(LogitsLoss)
	if _, ok := m.layers[n-1].(*Softmax); !ok {
		fuse = false
	}
	upto := n
	if fuse {
		upto = n - 1
	}
	y, err := m.forward(x, true, upto)
	if err != nil {
		return 0, err
	}
	m.trainOut = y
	var l float64
	if fuse {
		l, err = ll.ForwardLogits(y, target)
	} else {
		l, err = loss.Forward(y, target)
	}
	if err != nil {
		return 0, fmt.Errorf("Sequential: loss %s: %w", loss.Name(), err)
	}
	dy, err := loss.Backward()
	if err != nil {
		return 0, fmt.Errorf("Sequential: loss %s backward: %w", loss.Name(), err)
	}
	if _, err := m.backward(dy, upto); err != nil {
		return 0, err
	}
	return l, nil
}

// TrainOutput is the output of the last TrainStep (the logits before the
// fused softmax, when fused): the training loop reads accuracy from it.
// Its argmax equals the prediction's either way.
func (m *Sequential) TrainOutput() *tensor.Tensor { return m.trainOut }

// Summary describes the model as Keras' model.summary() does: one row per
// layer with its output shape and parameter count, then the totals.
func (m *Sequential) Summary() string {
	if m.shapes == nil {
		return "Sequential (not built)\n"
	}
	const w1, w2, w3 = 29, 26, 10
	var b strings.Builder
	rule := func(c string) { b.WriteString(strings.Repeat(c, w1+w2+w3) + "\n") }
	row := func(a, s, p string) {
		fmt.Fprintf(&b, " %-*s %-*s %s\n", w1-2, a, w2-1, s, p)
	}
	b.WriteString("Model: \"sequential\"\n")
	rule("_")
	row("Layer (type)", "Output Shape", "Param #")
	rule("=")
	var total, trainable int
	for i, l := range m.layers {
		count := 0
		for _, p := range l.Params() {
			count += p.Value.Len()
			if p.Trainable {
				trainable += p.Value.Len()
			}
		}
		total += count
		shape := "(None, " + strings.Trim(tensor.ShapeString(m.shapes[i+1]), "(,)") + ")"
		row(fmt.Sprintf("%s (%s)", m.names[i], l.Kind()), shape, thousands(count))
		if i < len(m.layers)-1 {
			b.WriteString("\n")
		}
	}
	rule("=")
	fmt.Fprintf(&b, "Total params: %s\n", thousands(total))
	fmt.Fprintf(&b, "Trainable params: %s\n", thousands(trainable))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", thousands(total-trainable))
	rule("_")
	return b.String()
}

// batchShape formats a per-sample shape with a leading batch axis:
// (batch, 28, 28, 1).
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
