package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
	"github.com/dlcv-go/dlcv/zoo"
)

func init() {
	register(&command{
		name:    "summary",
		summary: "print a model's layers, output shapes and parameter counts (Keras' model.summary())",
		run:     runSummary,
	})
}

func runSummary(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("summary", "MODEL|ARCH [flags]", `  dlcv summary lenet
  dlcv summary minivggnet --input 32x32x3 --classes 3
  dlcv summary runs/mnist/model.safetensors
  dlcv summary resnet18.onnx
  dlcv summary path/to/model.json   (a TF.js model.json)
  dlcv summary mobilenet_v2_1.0_224_quant.tflite`, stderr)
	input := fs.String("input", "", "input HxWxC for an architecture name (default: its usual input)")
	classes := fs.Int("classes", 10, "number of classes for an architecture name")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one MODEL file or architecture name")
	}
	arg := fs.Arg(0)
	if _, err := os.Stat(arg); err == nil {
		kind, err := modelfile.Expect(arg, modelfile.Safetensors, modelfile.ONNX, modelfile.TFJS, modelfile.TFLite)
		if err != nil {
			return err
		}
		switch kind {
		case modelfile.TFLite:
			return summaryTFLite(arg, stdout)
		case modelfile.TFJS:
			m, err := tfjs.Load(arg)
			if err != nil {
				return err
			}
			fmt.Fprint(stdout, m.Graph.Summary())
			fmt.Fprint(stdout, m.Describe())
			return nil
		case modelfile.ONNX:
			m, err := onnx.Load(arg, nil)
			if err != nil {
				return err
			}
			fmt.Fprint(stdout, m.Summary())
			return nil
		}
		if net, meta, err := nn.LoadFile(arg); err == nil && meta[onnx.MetaInputs] != "" {
			// A model converted from ONNX: no classes or preprocessing.
			fmt.Fprint(stdout, net.Summary())
			fmt.Fprintf(stdout, "ONNX inputs: %s\nONNX outputs: %s\n", meta[onnx.MetaInputs], meta[onnx.MetaOutputs])
			return nil
		}
		m, err := classifier.Load(arg)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, m.Net.Summary())
		fmt.Fprintf(stdout, "Classes: %s\n", strings.Join(m.Classes, ", "))
		fmt.Fprintf(stdout, "Input: %dx%d, %d channel(s)\n", m.Preprocess.Width, m.Preprocess.Height, m.Preprocess.Channels)
		return nil
	}
	a, err := zoo.Get(arg)
	if err != nil {
		return fmt.Errorf("%s is neither a model file nor an architecture: %w", arg, err)
	}
	in := a.DefaultInput
	if *input != "" {
		var h, w, c int
		if _, err := fmt.Sscanf(strings.ToLower(*input), "%dx%dx%d", &h, &w, &c); err != nil || h <= 0 || w <= 0 || c <= 0 {
			return usageErrorf("--input %q: want HxWxC, e.g. 32x32x3", *input)
		}
		in = []int{h, w, c}
	}
	m, err := zoo.New(a.Name, in, *classes, 0)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, m.Summary())
	return nil
}

// summaryTFLite prints the float graph the importer makes and what the
// file says about its input and output.
func summaryTFLite(path string, stdout io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	g, err := tflite.ParseGraph(b, tflite.GraphOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprint(stdout, g.Summary())
	fmt.Fprintf(stdout, "TFLite model (the graph takes pixels 0..255 and maps them as the input's quantization says, or as (p - 127.5) / 127.5 for a float input)\n")
	// The interpreter also reads the input's type and quantization; a
	// model only the graph importer runs still gets its summary.
	if m, err := tflite.Parse(b); err == nil {
		q := ""
		if iq := m.InputQuant(); iq != nil && len(iq.Scale) == 1 {
			q = fmt.Sprintf(", scale %g, zero point %d", iq.Scale[0], iq.ZeroPoint[0])
		}
		fmt.Fprintf(stdout, "Input: %v %s%s\nOutput: %v\n", m.InputShape(), m.InputType(), q, m.OutputShape())
		if m.Description != "" {
			fmt.Fprintf(stdout, "Description: %s\n", m.Description)
		}
	} else {
		fmt.Fprintf(stdout, "Integer interpreter: %v\n", err)
	}
	return nil
}
