package classifier

import (
	"fmt"
	"image"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
)

// OpenOptions say what a model file may not: how a photo becomes the
// network's input, and the class names. What the file records wins over
// nothing; a field set here wins over the file, except for a dlcv
// classifier or a quantized TFLite model, whose files fix their
// preprocessing (setting it is an error). The names in brackets are the
// `dlcv classify` flags that set them.
type OpenOptions struct {
	// Labels is a label file, one class a line (--labels). Default: the
	// class names a dlcv model stores, else a label file beside the model
	// (pretrained.LabelsBeside: NAME.txt, NAME_labels.txt, labels.txt,
	// imagenet_labels.txt), else none (predictions carry indices; Warn is
	// told).
	Labels string
	// Height and Width are the input size, for a network that does not fix
	// it (--size HxW).
	Height, Width int
	// Mean, Std and Scale map pixel values p in 0..255 onto the network's
	// input, (p*Scale - Mean[c]) / Std[c] (--mean, --std, --scale). Scale
	// 0 means 1/255 when Mean or Std is set.
	Mean, Std []float32
	Scale     float32
	// BGR feeds the channels in BGR order (--bgr).
	BGR bool
	// Layout is "nchw" or "nhwc" for a network whose input shape does not
	// tell where the channels are (--layout).
	Layout string
	// Dequantize runs a quantized TFLite model as its dequantized float
	// graph, as it trains, instead of in integers as TFLite does
	// (--dequantize).
	Dequantize bool
	// Warn, when set, is told what Open assumed (no label file found, a
	// background label added or dropped).
	Warn func(msg string)
}

func (o *OpenOptions) warnf(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// normSet reports whether the options set any of the input mapping.
func (o *OpenOptions) normSet() bool {
	return o.Mean != nil || o.Std != nil || o.Scale != 0 || o.BGR
}

// Open reads a model file of any kind dlcv imports as a classifier,
// recognising it by content (modelfile.Sniff): a dlcv model
// (.safetensors, from `dlcv train` or `dlcv convert`), an ONNX model, a
// TensorFlow.js model.json (graph or layers model) or a TFLite file. The
// model takes one image input and has one score vector output (its first
// output). Preprocessing comes from the file where it says (a dlcv
// classifier's metadata, a quantized TFLite input's quantization, an ONNX
// model's metadata_props "mean", "std", "scale", "image_size",
// "color_order"), else from o; where neither says, the error names the
// option (flag) to set. The labels are checked against the output count:
// a label file with a leading "background" for a 1000-class model, or
// 1000 labels for a 1001-output ImageNet model (background at 0), are
// aligned; any other mismatch is an error naming both counts.
func Open(path string, o OpenOptions) (*Model, error) {
	kind, err := modelfile.Expect(path, modelfile.Safetensors, modelfile.ONNX, modelfile.TFJS, modelfile.TFLite)
	if err != nil {
		return nil, err
	}
	if o.Layout != "" && o.Layout != "nchw" && o.Layout != "nhwc" {
		return nil, fmt.Errorf("layout %q: want nchw or nhwc", o.Layout)
	}
	if (o.Height > 0) != (o.Width > 0) || o.Height < 0 || o.Width < 0 {
		return nil, fmt.Errorf("input size %dx%d: want both positive", o.Height, o.Width)
	}
	var m *Model
	switch kind {
	case modelfile.Safetensors:
		m, err = openDlcv(path, &o)
	case modelfile.ONNX:
		m, err = openONNX(path, &o)
	case modelfile.TFJS:
		m, err = openTFJS(path, &o)
	case modelfile.TFLite:
		m, err = openTFLite(path, &o)
	}
	if err != nil {
		return nil, err
	}
	m.Format = kind
	if err := m.setLabels(path, &o); err != nil {
		return nil, err
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// openDlcv reads a dlcv model file: a classifier (with class names and
// preprocessing) or a converted import (a graph only; `dlcv convert`).
func openDlcv(path string, o *OpenOptions) (*Model, error) {
	net, meta, err := nn.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if _, ok := meta[MetaPreprocess]; ok {
		if o.normSet() || o.Height > 0 || o.Layout != "" {
			return nil, fmt.Errorf("%s is a dlcv classifier: its file sets the preprocessing (drop --size, --mean, --std, --scale, --bgr, --layout)", path)
		}
		m, err := FromMeta(net, meta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	// A converted ONNX model keeps its metadata_props as onnx.meta.KEY.
	md := map[string]string{}
	for k, v := range meta {
		if s, ok := strings.CutPrefix(k, "onnx.meta."); ok {
			md[s] = v
		}
	}
	return imported(path, net.Graph(), nil, onnx.ParsePreprocess(md), "", o)
}

func openONNX(path string, o *OpenOptions) (*Model, error) {
	im, err := onnx.Load(path, nil)
	if err != nil {
		return nil, err
	}
	if len(im.Inputs) != 1 {
		return nil, fmt.Errorf("%s has %d inputs; a classifier takes one image", path, len(im.Inputs))
	}
	layout := ""
	if im.Inputs[0].Layout() == "NHWC" {
		layout = "nhwc" // the importer made the NCHW input channels last
	}
	return imported(path, im.Graph, im.Exec(), im.Preprocess, layout, o)
}

func openTFJS(path string, o *OpenOptions) (*Model, error) {
	tm, err := tfjs.Load(path)
	if err != nil {
		return nil, err
	}
	if len(tm.Inputs) != 1 {
		return nil, fmt.Errorf("%s has %d inputs (%s); a classifier takes one image", path, len(tm.Inputs), strings.Join(tm.Inputs, ", "))
	}
	return imported(path, tm.Graph, nil, onnx.Preprocess{}, "", o)
}

// openTFLite: a quantized input's own dequantization is the input map
// (the graph takes pixels in [0, 1] and maps them itself); a float
// input's mapping the file does not record, so it comes from o.
func openTFLite(path string, o *OpenOptions) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tm, err := tflite.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t := tm.InputType(); t == tflite.Uint8 || t == tflite.Int8 {
		if o.normSet() {
			return nil, fmt.Errorf("%s is a quantized TFLite model: its input quantization sets the preprocessing (drop --mean, --std, --scale, --bgr)", path)
		}
		g, err := tflite.ParseGraph(b, tflite.GraphOptions{PixelMax: 1})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// The graph maps pixels in [0, 1] itself: a scale of 1/255 adds
		// no input nodes.
		m, err := imported(path, g, nil, onnx.Preprocess{}, "nhwc", &OpenOptions{Height: o.Height, Width: o.Width, Scale: 1.0 / 255})
		if err != nil {
			return nil, err
		}
		if !o.Dequantize {
			// TFLite's own preprocessing and integer arithmetic: today's
			// reference agreement.
			m.direct = func(img image.Image) ([]float32, error) {
				x, err := tm.Preprocess(img)
				if err != nil {
					return nil, err
				}
				y, err := tm.Run(x)
				if err != nil {
					return nil, err
				}
				return tm.Probabilities(y.Data), nil
			}
		}
		return m, nil
	}
	if !o.normSet() {
		return nil, fmt.Errorf("%s is a float TFLite model, whose file does not say how its input is scaled: %s (MobileNet-style [-1, 1]: --mean 127.5 --std 127.5 --scale 1)", path, normHint)
	}
	g, err := tflite.ParseGraph(b, tflite.GraphOptions{RealInput: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return imported(path, g, nil, onnx.Preprocess{}, "nhwc", o)
}

const normHint = "pass --scale (1/255 for inputs in [0, 1], 1 for 0..255) or --mean and --std (torchvision: --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225)"

// imported makes a classifier of an imported graph: the input map from
// the file's preprocessing p and o (o wins), the layout from the input
// shape (or layout, when the importer knows it, or o.Layout), the size
// from the shape or o.
func imported(path string, g *nn.Graph, exec *nn.Graph, p onnx.Preprocess, layout string, o *OpenOptions) (*Model, error) {
	if !g.Built() {
		return nil, fmt.Errorf("%s: the graph is not built", path)
	}
	if len(g.Inputs()) != 1 {
		return nil, fmt.Errorf("%s has %d inputs; a classifier takes one image", path, len(g.Inputs()))
	}
	s := g.InputShape()
	if len(s) != 3 {
		return nil, fmt.Errorf("%s: the input is %s per image, not an image (height, width, channels)", path, shapeText(s))
	}
	if o.Layout != "" {
		layout = o.Layout
	}
	if layout == "" {
		chLast, chFirst := s[2] == 1 || s[2] == 3, s[0] == 1 || s[0] == 3
		switch {
		case chLast && !chFirst:
			layout = "nhwc"
		case chFirst && !chLast:
			layout = "nchw"
		default:
			return nil, fmt.Errorf("%s: the input shape %s does not say where the channels are: pass --layout nchw or --layout nhwc", path, shapeText(s))
		}
	}
	h, w, c := s[0], s[1], s[2]
	if layout == "nchw" {
		c, h, w = s[0], s[1], s[2]
	}
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("%s: the input has %s channels (layout %s); an image has 1 or 3", path, dimText(c), layout)
	}
	if o.Height > 0 {
		if (h > 0 && h != o.Height) || (w > 0 && w != o.Width) {
			return nil, fmt.Errorf("%s takes %sx%s images, not %dx%d (drop --size)", path, dimText(h), dimText(w), o.Height, o.Width)
		}
		h, w = o.Height, o.Width
	}
	if h <= 0 || w <= 0 {
		if p.Height > 0 && p.Width > 0 && (h <= 0 || h == p.Height) && (w <= 0 || w == p.Width) {
			h, w = p.Height, p.Width
		} else {
			return nil, fmt.Errorf("%s takes images of any size (%sx%s): pass --size HxW", path, dimText(h), dimText(w))
		}
	}
	im := &inputMap{mean: p.Mean, std: p.Std, scale: p.Scale, bgr: p.ColorOrder == "BGR", nchw: layout == "nchw"}
	if o.Mean != nil {
		im.mean = o.Mean
	}
	if o.Std != nil {
		im.std = o.Std
	}
	if o.Scale != 0 {
		im.scale = o.Scale
	}
	if o.BGR {
		im.bgr = true
	}
	if im.mean == nil && im.std == nil && im.scale == 0 {
		return nil, fmt.Errorf("%s does not say how its input is scaled: %s", path, normHint)
	}
	if im.scale == 0 {
		im.scale = 1.0 / 255
	}
	if err := im.validate(c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n := Classes(g.OutputShape()); n < 0 {
		return nil, fmt.Errorf("%s: the first output is %s per image, not one score per class", path, shapeText(g.OutputShape()))
	}
	logits := !endsInSoftmax(g)
	net, err := im.prepend(g, h, w, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if exec != nil {
		if exec, err = im.prepend(exec, h, w, c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &Model{Net: net, exec: exec, Logits: logits, Preprocess: data.Preprocess{Width: w, Height: h, Channels: c}}, nil
}

// inputMap says how a photo's pixel values p (0..255, RGB) become an
// imported network's input: (p*scale - mean[c]) / std[c], the channels in
// BGR order when bgr, laid out (C, H, W) when nchw. No mean or std: 0
// and 1.
type inputMap struct {
	scale     float32
	mean, std []float32
	bgr, nchw bool
}

func (im *inputMap) validate(channels int) error {
	if !(im.scale > 0) || math.IsInf(float64(im.scale), 0) {
		return fmt.Errorf("input scale %g must be positive", im.scale)
	}
	for _, v := range []struct {
		what string
		vs   []float32
	}{{"mean", im.mean}, {"std", im.std}} {
		if len(v.vs) != 0 && len(v.vs) != 1 && len(v.vs) != channels {
			return fmt.Errorf("%d %s values for %d channels (want 1 or %d)", len(v.vs), v.what, channels, channels)
		}
		for _, x := range v.vs {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || (v.what == "std" && x == 0) {
				return fmt.Errorf("input %s %v: want finite numbers (a std not 0)", v.what, v.vs)
			}
		}
	}
	return nil
}

// prepend returns g behind nodes that apply the map to what Preprocess
// gives (HWC pixels in [0, 1], RGB), so that the returned graph takes
// that, as every dlcv classifier does: evaluation, fine-tuning and the
// model file need nothing else. The nodes are constants (not trained);
// the graph shares g's ops and weights. A map that changes nothing adds
// no node.
func (im *inputMap) prepend(g *nn.Graph, h, w, c int) (*nn.Graph, error) {
	a, b := make([]float32, c), make([]float32, c) // x*a + b per channel
	identity := !im.bgr && !im.nchw
	for k := range c {
		a[k], b[k] = 255*im.scale, 0
		if len(im.mean) > 0 {
			b[k] = -im.mean[k%len(im.mean)]
		}
		if len(im.std) > 0 {
			s := im.std[k%len(im.std)]
			a[k], b[k] = a[k]/s, b[k]/s
		}
		identity = identity && math.Abs(float64(a[k])-1) < 1e-7 && b[k] == 0
	}
	if identity {
		return g, nil
	}
	if len(g.Inputs()) != 1 {
		return nil, fmt.Errorf("%d inputs; a classifier takes one image", len(g.Inputs()))
	}
	old := g.Inputs()[0].Node().Name
	ng := nn.NewGraph()
	name := func(s string) string {
		n := old + "/" + s
		for g.NodeByName(n) != nil {
			n += "_"
		}
		return n
	}
	konst := func(s string, v []float32) *nn.Value {
		t, _ := tensor.FromSlice(v, len(v))
		return ng.Node(name(s), nn.NewConstant(t)).Outputs[0]
	}
	v := ng.Input(name("pixels"), h, w, c)
	if im.bgr && c == 3 {
		v = ng.Node(name("bgr"), nn.NewGather(3), v, konst("bgr_order", []float32{2, 1, 0})).Outputs[0]
	}
	v = ng.Node(name("scale"), nn.NewMul(), v, konst("scale_values", a)).Outputs[0]
	last := name("shift")
	if !im.nchw {
		last = old // the graph's nodes read the normalised pixels by the input's name
	}
	v = ng.Node(last, nn.NewAdd(), v, konst("shift_values", b)).Outputs[0]
	if im.nchw {
		ng.Node(old, nn.NewTranspose(0, 3, 1, 2), v)
	}
	for _, n := range g.Nodes() {
		if n == g.Inputs()[0].Node() {
			continue
		}
		refs := make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			refs[i] = in.Name()
		}
		if _, err := ng.AddNode(n.Name, n.Op, refs...); err != nil {
			return nil, err
		}
	}
	outs := make([]string, len(g.Outputs()))
	for i, o := range g.Outputs() {
		outs[i] = o.Name()
	}
	ng.OutputRefs(outs...)
	if err := ng.Build(0); err != nil {
		return nil, fmt.Errorf("adding the input nodes: %w", err)
	}
	return ng, nil
}

func dimText(d int) string {
	if d < 0 {
		return "?"
	}
	return fmt.Sprint(d)
}

// endsInSoftmax reports whether the first output is a softmax's, maybe
// reshaped.
func endsInSoftmax(g *nn.Graph) bool {
	v := g.Outputs()[0]
	for range 8 {
		n := v.Node()
		if n == nil {
			return false
		}
		switch n.Op.Kind() {
		case "Softmax":
			return true
		case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Cast":
			if len(n.Inputs) == 0 {
				return false
			}
			v = n.Inputs[0]
		default:
			return false
		}
	}
	return false
}

// setLabels reads the class names: o.Labels, else those the file stores,
// else a label file beside the model; then aligns them with the outputs.
func (m *Model) setLabels(path string, o *OpenOptions) error {
	n := Classes(m.Net.OutputShape())
	file := o.Labels
	if file == "" && len(m.Classes) > 0 {
		return nil // a dlcv classifier's own names (Check compares counts)
	}
	if file == "" {
		file = pretrained.LabelsBeside(path)
		if file == "" {
			m.Classes = nil
			o.warnf("%s: no label file (pass --labels FILE): classes are shown by index", path)
			return nil
		}
	}
	labels, err := ReadLabels(file)
	if err != nil {
		return err
	}
	aligned, err := AlignLabels(labels, n)
	if err != nil {
		return fmt.Errorf("%s: %w (model %s)", file, err, path)
	}
	if len(aligned) != len(labels) {
		o.warnf("%s: %d labels for %d classes: %s", file, len(labels), n, map[bool]string{true: `dropped the leading "background"`, false: `added "background" as class 0`}[len(aligned) < len(labels)])
	}
	labels = aligned
	if len(labels) != n {
		return fmt.Errorf("%s: %d labels, the model outputs %d classes", file, len(labels), n)
	}
	m.Classes = labels
	return nil
}

// ReadLabels reads a label file: one class a line, line i = class i
// (blank lines at the end are dropped, a byte order mark is ignored).
func ReadLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimPrefix(string(b), "\ufeff")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no labels", path)
	}
	return lines, nil
}

// AlignLabels fits labels to a model with n classes: equal counts as
// they are; the ImageNet one-off cases explicitly (a leading "background"
// label with one label too many is dropped; 1000 labels for 1001 outputs
// get "background" at index 0, as TF-slim models have it); any other
// mismatch is an error naming both counts.
func AlignLabels(labels []string, n int) ([]string, error) {
	switch {
	case len(labels) == n:
		return labels, nil
	case len(labels) == n+1 && strings.EqualFold(labels[0], "background"):
		return labels[1:], nil
	case len(labels)+1 == n && n == 1001 && !slices.ContainsFunc(labels, func(s string) bool { return strings.EqualFold(s, "background") }):
		return append([]string{"background"}, labels...), nil
	}
	return nil, fmt.Errorf("%d labels, the model outputs %d classes", len(labels), n)
}
