package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
)

const runExamples = `  dlcv run model.onnx --input x.npy --out results/
  dlcv run model.onnx --input images=x.npy --input scale=s.pb
  dlcv run resnet18.onnx --image cat.jpg --size 224x224 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225
  dlcv run model.onnx --input x.npy --profile --repeat 10
  dlcv run model.json --input x_nhwc.npy --out results/      (TF.js; TFLite and dlcv files alike, tensors in their own layout)
  dlcv run mobilenet_v2_quant.tflite --input x.npy --profile  (quantized TFLite: the integer interpreter, time per TFLite operator)
  dlcv run --check /usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding`

func init() {
	register(&command{
		name:    "run",
		summary: "run a model (ONNX, TF.js, TFLite, dlcv) on raw tensors (.npy, .pb), an ONNX model on photos, or check it against reference outputs",
		run:     runRun,
	})
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "MODEL [--input [NAME=]FILE]... [--image [NAME=]PHOTO] [--out DIR] | --check DIR", runExamples, stderr)
	var inputs, images, shapes stringList
	fs.Var(&inputs, "input", "an input tensor `[NAME=]FILE` (.npy or TensorProto .pb; ONNX models: in the ONNX layout, others: their own); in order without NAME (repeatable)")
	fs.Var(&images, "image", "an image input `[NAME=]PHOTO` (JPEG, PNG, BMP, ...), preprocessed by --size, --mean, --std, --scale, --bgr")
	fs.Var(&shapes, "input-shape", "fix an input's shape at import, `[NAME=]1x3x224x224` (? for a size given at run time)")
	size := fs.String("size", "", "resize photos to `HxW` (default: the input's declared size, or the metadata's)")
	mean := fs.String("mean", "", "per-channel `MEANS` subtracted after --scale (comma-separated)")
	std := fs.String("std", "", "per-channel `STDS` divided by after the mean")
	scale := fs.String("scale", "", "factor for pixel values 0..255 (default 1/255), e.g. 1 or 1/127.5")
	bgr := fs.Bool("bgr", false, "feed photos as BGR (OpenCV-trained models)")
	out := fs.String("out", "", "write every output to `DIR`/NAME.npy")
	check := fs.String("check", "", "run an ONNX backend-test `DIR` (model.onnx, test_data_set_*/) and compare with its outputs")
	rtol := fs.Float64("rtol", onnx.CheckRtol, "relative tolerance of --check")
	atol := fs.Float64("atol", onnx.CheckAtol, "absolute tolerance of --check")
	profile := fs.Bool("profile", false, "print the time per op kind and the slowest nodes")
	repeat := fs.Int("repeat", 1, "runs (timed after one warm-up run when more than 1, or with --profile)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	noOpt := fs.Bool("no-optimize", false, "run the graph as imported (no batch-norm folding, activation fusion)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *threads > 0 {
		kernels.SetThreads(*threads)
	}
	if *check != "" {
		if fs.NArg() != 0 {
			return usageErrorf("--check takes a folder, not a model")
		}
		r, err := onnx.CheckDir(*check, *rtol, *atol)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, r.String())
		if !r.Pass() {
			return fmt.Errorf("%s: outputs differ from the reference", *check)
		}
		return nil
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one MODEL file")
	}
	if *repeat < 1 {
		return usageErrorf("--repeat %d: want at least 1", *repeat)
	}
	opts := &onnx.Options{NoOptimize: *noOpt}
	if len(shapes) > 0 {
		opts.InputShapes = map[string][]int{}
	}
	for _, s := range shapes {
		name, spec := splitNamed(s)
		dims, err := parseDims(spec)
		if err != nil {
			return usageErrorf("--input-shape %q: %v", s, err)
		}
		opts.InputShapes[name] = dims
	}
	kind, err := modelfile.Expect(fs.Arg(0), modelfile.ONNX, modelfile.TFJS, modelfile.TFLite, modelfile.Safetensors)
	if err != nil {
		return err
	}
	x := execOptions{out: *out, runs: *repeat, profile: *profile}
	if kind == modelfile.TFLite && len(images) == 0 && len(shapes) == 0 && !*noOpt {
		// A quantized model runs on the integer interpreter, with the
		// results (and speed) of dlcv classify and serve; one the
		// interpreter cannot compile, or a float one, as a graph below.
		if m, err := tflite.Load(fs.Arg(0)); err == nil && m.Quantized() {
			feed, err := graphInputs([]string{m.InputName()}, [][]int{batchFree(m.InputShape())}, inputs)
			if err != nil {
				return err
			}
			return execTFLite(m, feed, x, stdout)
		}
	}
	if kind != modelfile.ONNX {
		if len(images) > 0 || len(shapes) > 0 {
			return usageErrorf("--image and --input-shape are for ONNX models; give %s its tensors with --input", kind.Describe())
		}
		g, ins, outs, err := loadGraphModel(kind, fs.Arg(0))
		if err != nil {
			return err
		}
		if !*noOpt {
			if g, err = nn.Optimize(g); err != nil {
				return fmt.Errorf("%s: %w", fs.Arg(0), err)
			}
		}
		var shapes [][]int
		for _, v := range g.Inputs() {
			shapes = append(shapes, v.Shape())
		}
		feed, err := graphInputs(ins, shapes, inputs)
		if err != nil {
			return err
		}
		return execGraph(g, feed, outs, x, stdout)
	}
	m, err := onnx.Load(fs.Arg(0), opts)
	if err != nil {
		return err
	}
	// --input-shape without a name fixes the first input.
	if dims, ok := opts.InputShapes[""]; ok && len(m.Inputs) > 0 {
		delete(opts.InputShapes, "")
		opts.InputShapes[m.Inputs[0].Name] = dims
		if m, err = onnx.Load(fs.Arg(0), opts); err != nil {
			return err
		}
	}
	imgOpts, err := imageOptions(*size, *mean, *std, *scale, *bgr)
	if err != nil {
		return err
	}
	feed, err := runInputs(m, inputs, images, imgOpts.WithDefaults(m.Preprocess))
	if err != nil {
		return err
	}
	var names []string
	for _, o := range m.Outputs {
		names = append(names, o.Name)
	}
	return execGraph(m.Exec(), feed, names, x, stdout)
}

type execOptions struct {
	out     string // folder for NAME.npy, or ""
	runs    int
	profile bool
}

// execGraph runs g on feed, prints each output (named by names) and
// writes it to x.out; with x.profile or several runs, times them.
func execGraph(g *nn.Graph, feed []*tensor.Tensor, names []string, x execOptions, stdout io.Writer) error {
	g.SetFrozen(true)
	sess := g.NewSession()
	return execRuns(func(prof *nn.Profile) ([]*tensor.Tensor, error) {
		sess.SetProfile(prof)
		return sess.Run(false, feed...)
	}, names, x, stdout)
}

// execTFLite is execGraph for the TFLite interpreter (one input, one
// output).
func execTFLite(m *tflite.Model, feed []*tensor.Tensor, x execOptions, stdout io.Writer) error {
	return execRuns(func(prof *nn.Profile) ([]*tensor.Tensor, error) {
		run := m.Run
		if prof != nil {
			run = func(t *tensor.Tensor) (*tensor.Tensor, error) { return m.RunProfile(t, prof) }
		}
		out, err := run(feed[0])
		return []*tensor.Tensor{out}, err
	}, []string{m.OutputName()}, x, stdout)
}

// batchFree is shape with its first (batch) dimension open, as the
// TFLite interpreter runs any number of images.
func batchFree(shape []int) []int {
	s := append([]int(nil), shape...)
	if len(s) > 0 {
		s[0] = -1
	}
	return s
}

// execRuns runs a model (run, recording into its profile argument when
// that is not nil) as execGraph describes.
func execRuns(run func(prof *nn.Profile) ([]*tensor.Tensor, error), names []string, x execOptions, stdout io.Writer) error {
	if x.profile || x.runs > 1 {
		if _, err := run(nil); err != nil { // warm up: plans and buffers
			return err
		}
	}
	var prof *nn.Profile
	if x.profile {
		prof = &nn.Profile{}
	}
	var outs []*tensor.Tensor
	var err error
	t0 := time.Now()
	for range x.runs {
		if outs, err = run(prof); err != nil {
			return err
		}
	}
	elapsed := time.Since(t0) / time.Duration(x.runs)
	for i, o := range outs {
		name := fmt.Sprintf("output%d", i)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		fmt.Fprintf(stdout, "%s %s %s\n", name, tensor.ShapeString(o.Shape), describeValues(o))
		if x.out != "" {
			if err := os.MkdirAll(x.out, 0o755); err != nil {
				return err
			}
			if err := npy.WriteFile(filepath.Join(x.out, fileName(name)+".npy"), o); err != nil {
				return err
			}
		}
	}
	if x.runs > 1 || x.profile {
		fmt.Fprintf(stdout, "%.3f ms per run (%d runs, %d threads)\n", float64(elapsed.Microseconds())/1000, x.runs, kernels.Threads())
	}
	if prof != nil {
		return prof.Write(stdout, 10)
	}
	return nil
}

// loadGraphModel imports a TF.js or TFLite model, or reads a dlcv model
// file, for raw tensors: a TFLite graph takes the input's real values
// (as the TFLite interpreter's float API does), a TF.js graph its
// tensors as TF.js does (NHWC).
func loadGraphModel(kind modelfile.Kind, path string) (g *nn.Graph, ins, outs []string, err error) {
	switch kind {
	case modelfile.TFJS:
		m, err := tfjs.Load(path)
		if err != nil {
			return nil, nil, nil, err
		}
		return m.Graph, m.Inputs, m.Outputs, nil
	case modelfile.TFLite:
		g, err = tflite.LoadGraph(path, tflite.GraphOptions{RealInput: true})
	default:
		var net nn.Model
		if net, _, err = nn.LoadFile(path); err == nil {
			g = net.Graph()
		}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	for _, v := range g.Inputs() {
		ins = append(ins, v.Node().Name)
	}
	for _, v := range g.Outputs() {
		outs = append(outs, v.Node().Name)
	}
	return g, ins, outs, nil
}

// graphInputs reads --input tensors for a model's inputs (named ins, of
// the given shapes, -1 for any size), in the model's own layout.
func graphInputs(ins []string, shapes [][]int, inputs []string) ([]*tensor.Tensor, error) {
	feed := make([]*tensor.Tensor, len(ins))
	next := 0
	for _, s := range inputs {
		name, path := splitNamed(s)
		i := -1
		if name == "" {
			for next < len(feed) && feed[next] != nil {
				next++
			}
			i = next
		} else {
			i = slices.Index(ins, name)
			if i < 0 {
				return nil, usageErrorf("the model has no input %q (it has %s)", name, strings.Join(ins, ", "))
			}
		}
		if i >= len(feed) {
			return nil, usageErrorf("more inputs than the model's %d", len(feed))
		}
		if feed[i] != nil {
			return nil, usageErrorf("input %q is given twice", ins[i])
		}
		x, err := onnx.ReadInput(path)
		if err != nil {
			return nil, err
		}
		want := shapes[i]
		ok := len(want) == len(x.Shape)
		for k := 0; ok && k < len(want); k++ {
			ok = want[k] < 0 || want[k] == x.Shape[k]
		}
		if !ok {
			return nil, fmt.Errorf("%s: input %q has shape %s, the model takes %s", path, ins[i], tensor.ShapeString(x.Shape), shapeText(want))
		}
		feed[i] = x
	}
	for i, f := range feed {
		if f == nil {
			return nil, usageErrorf("no value for input %q %s (give --input)", ins[i], shapeText(shapes[i]))
		}
	}
	return feed, nil
}

func shapeText(s []int) string { return strings.ReplaceAll(tensor.ShapeString(s), "-1", "?") }

// runInputs reads the tensors and photos for the model's inputs, in the
// graph's layouts.
func runInputs(m *onnx.Imported, inputs, images []string, io onnx.ImageOptions) ([]*tensor.Tensor, error) {
	feed := make([]*tensor.Tensor, len(m.Inputs))
	next := 0
	place := func(name string) (int, error) {
		if name == "" {
			for next < len(feed) && feed[next] != nil {
				next++
			}
			if next == len(feed) {
				return 0, usageErrorf("more inputs than the model's %d", len(feed))
			}
			return next, nil
		}
		for i, in := range m.Inputs {
			if in.Name == name {
				if feed[i] != nil {
					return 0, usageErrorf("input %q is given twice", name)
				}
				return i, nil
			}
		}
		return 0, usageErrorf("the model has no input %q (it has %s)", name, inputNames(m))
	}
	for _, s := range inputs {
		name, path := splitNamed(s)
		i, err := place(name)
		if err != nil {
			return nil, err
		}
		x, err := onnx.ReadInput(path)
		if err != nil {
			return nil, err
		}
		if feed[i], err = m.Inputs[i].FromONNX(x); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, s := range images {
		name, path := splitNamed(s)
		i, err := place(name)
		if err != nil {
			return nil, err
		}
		img, err := onnx.DecodeImage(path)
		if err != nil {
			return nil, err
		}
		if feed[i], err = m.Inputs[i].ImageInput(img, io); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for i, f := range feed {
		if f == nil {
			return nil, usageErrorf("no value for input %q %v (give --input or --image)", m.Inputs[i].Name, m.Inputs[i].Shape)
		}
	}
	return feed, nil
}

func inputNames(m *onnx.Imported) string {
	var s []string
	for _, in := range m.Inputs {
		s = append(s, strconv.Quote(in.Name))
	}
	return strings.Join(s, ", ")
}

// splitNamed splits NAME=VALUE; a value with no '=' (or a Windows path
// like C:=...) has no name.
func splitNamed(s string) (string, string) {
	if name, v, ok := strings.Cut(s, "="); ok && name != "" && !strings.ContainsAny(name, `/\`) {
		return name, v
	}
	return "", s
}

// parseDims parses 1x3x224x224 (? or -1 for a size given at run time).
func parseDims(s string) ([]int, error) {
	var dims []int
	for _, f := range strings.Split(strings.ToLower(s), "x") {
		if f == "?" || f == "-1" {
			dims = append(dims, -1)
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 1 {
			return nil, fmt.Errorf("dimension %q is not a size", f)
		}
		dims = append(dims, d)
	}
	return dims, nil
}

func imageOptions(size, mean, std, scale string, bgr bool) (onnx.ImageOptions, error) {
	o := onnx.ImageOptions{BGR: bgr}
	if size != "" {
		var h, w int
		if n, _ := fmt.Sscanf(strings.ToLower(size), "%dx%d", &h, &w); n != 2 || h < 1 || w < 1 {
			return o, usageErrorf("--size %q: want HxW, e.g. 224x224", size)
		}
		o.Height, o.Width = h, w
	}
	var err error
	if o.Mean, err = floatList(mean); err != nil {
		return o, usageErrorf("--mean: %v", err)
	}
	if o.Std, err = floatList(std); err != nil {
		return o, usageErrorf("--std: %v", err)
	}
	if scale != "" {
		num, den, isFrac := strings.Cut(scale, "/")
		a, err1 := strconv.ParseFloat(num, 64)
		b := 1.0
		var err2 error
		if isFrac {
			b, err2 = strconv.ParseFloat(den, 64)
		}
		if err1 != nil || err2 != nil || b == 0 || !(a/b > 0) {
			return o, usageErrorf("--scale %q: want a positive number or fraction (1/255)", scale)
		}
		o.Scale = float32(a / b)
	}
	return o, nil
}

func floatList(s string) ([]float32, error) {
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// describeValues summarises a tensor: its range, and the top classes of
// a (1, K) score vector.
func describeValues(t *tensor.Tensor) string {
	if len(t.Data) == 0 {
		return "(empty)"
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, v := range t.Data {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		sum += float64(v)
	}
	s := fmt.Sprintf("min %.6g max %.6g mean %.6g", lo, hi, sum/float64(len(t.Data)))
	if n := len(t.Data); len(t.Shape) == 2 && t.Shape[0] == 1 && n > 1 {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case t.Data[a] > t.Data[b]:
				return -1
			case t.Data[a] < t.Data[b]:
				return 1
			}
			return 0
		})
		s += "; top:"
		for _, i := range idx[:min(5, n)] {
			s += fmt.Sprintf(" %d (%.4g)", i, t.Data[i])
		}
	}
	return s
}

// fileName makes an output name safe as a file name.
func fileName(name string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", ":", "_", " ", "_")
	n := r.Replace(name)
	if n == "" || n == "." || n == ".." {
		n = "output"
	}
	return n
}
