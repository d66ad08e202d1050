package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
)

func init() {
	register(&command{
		name:    "convert",
		summary: "convert an ONNX, TF.js or TFLite model to a dlcv model file (safetensors), or to a dlcv classifier",
		run:     runConvert,
	})
}

func runConvert(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("convert", "MODEL OUT.safetensors [flags]", `  dlcv convert resnet18.onnx resnet18.safetensors
  dlcv convert det.onnx det.safetensors --input-shape 1x3x640x640
  dlcv convert nsfw/model.json nsfw.safetensors
  dlcv convert resnet18.onnx resnet18-classifier.safetensors --classifier --labels imagenet.txt --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225`, stderr)
	var shapes stringList
	fs.Var(&shapes, "input-shape", "fix an ONNX input's shape, `[NAME=]1x3x224x224` (? for a size given at run time)")
	noOpt := fs.Bool("no-optimize", false, "save an ONNX graph as imported (no batch-norm folding or activation fusion)")
	asClassifier := fs.Bool("classifier", false, "write a classifier (class names and preprocessing in the file), which dlcv predict and classify read without flags")
	labels := fs.String("labels", "", "with --classifier: label `FILE`, one class a line")
	size := fs.String("size", "", "with --classifier: input size `HxW`, for a model that takes any size")
	mean := fs.String("mean", "", "with --classifier: per-channel `MEANS` (see dlcv classify)")
	std := fs.String("std", "", "with --classifier: per-channel `STDS`")
	scale := fs.String("scale", "", "with --classifier: factor for pixel values 0..255")
	bgr := fs.Bool("bgr", false, "with --classifier: the model takes BGR")
	layout := fs.String("layout", "", "with --classifier: `nchw` or nhwc, where the input shape does not tell")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want MODEL and OUT.safetensors")
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if *asClassifier {
		if len(shapes) > 0 || *noOpt {
			return usageErrorf("--classifier takes the preprocessing flags, not --input-shape or --no-optimize")
		}
		img, err := imageOptions(*size, *mean, *std, *scale, *bgr)
		if err != nil {
			return err
		}
		m, err := classifier.Open(in, classifier.OpenOptions{Labels: *labels, Height: img.Height, Width: img.Width,
			Mean: img.Mean, Std: img.Std, Scale: img.Scale, BGR: img.BGR, Layout: *layout,
			Warn: func(msg string) { fmt.Fprintln(stderr, "warning:", msg) }})
		if err != nil {
			return err
		}
		if err := m.Save(out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: a %dx%d classifier of %d classes, %d params\n", out, m.Preprocess.Width, m.Preprocess.Height,
			classifier.Classes(m.Net.OutputShape()), params(m.Net.Params()))
		return nil
	}
	if *labels != "" || *size != "" || *mean != "" || *std != "" || *scale != "" || *bgr || *layout != "" {
		return usageErrorf("--labels, --size, --mean, --std, --scale, --bgr and --layout go with --classifier")
	}
	kind, err := modelfile.Expect(in, modelfile.ONNX, modelfile.TFJS, modelfile.TFLite)
	if err != nil {
		return err
	}
	if kind != modelfile.ONNX && (len(shapes) > 0 || *noOpt) {
		return usageErrorf("--input-shape and --no-optimize are for ONNX models; %s is %s", in, kind.Describe())
	}
	var g *nn.Graph
	switch kind {
	case modelfile.TFJS:
		m, err := tfjs.Load(in)
		if err != nil {
			return err
		}
		g = m.Graph
		err = nn.SaveFile(out, g, map[string]string{"tfjs.inputs": strings.Join(m.Inputs, ","), "tfjs.outputs": strings.Join(m.Outputs, ",")})
		if err != nil {
			return err
		}
	case modelfile.TFLite:
		// The float graph taking pixels 0..255 (quantized weights
		// dequantized), as summary shows it.
		if g, err = tflite.LoadGraph(in, tflite.GraphOptions{}); err != nil {
			return err
		}
		if err := nn.SaveFile(out, g, map[string]string{"tflite.input": "pixels 0..255"}); err != nil {
			return err
		}
	default:
		m, err := convertONNX(in, out, shapes, *noOpt)
		if err != nil {
			return err
		}
		g = m.Exec()
	}
	fmt.Fprintf(stdout, "wrote %s: %d nodes, %d params\n", out, len(g.Nodes()), params(g.Params()))
	return nil
}

func convertONNX(in, out string, shapes stringList, noOpt bool) (*onnx.Imported, error) {
	opts := &onnx.Options{NoOptimize: noOpt, InputShapes: map[string][]int{}}
	for _, s := range shapes {
		name, spec := splitNamed(s)
		dims, err := parseDims(spec)
		if err != nil {
			return nil, usageErrorf("--input-shape %q: %v", s, err)
		}
		opts.InputShapes[name] = dims
	}
	m, err := onnx.Load(in, opts)
	if err != nil {
		return nil, err
	}
	if dims, ok := opts.InputShapes[""]; ok && len(m.Inputs) > 0 {
		delete(opts.InputShapes, "")
		opts.InputShapes[m.Inputs[0].Name] = dims
		if m, err = onnx.Load(in, opts); err != nil {
			return nil, err
		}
	}
	return m, m.SaveFile(out)
}

func params(ps []*nn.Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.Value.Data)
	}
	return n
}
