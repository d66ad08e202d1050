package main

import (
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/onnx"
)

func init() {
	register(&command{
		name:    "convert",
		summary: "convert an ONNX model to a dlcv model file (safetensors, loadable with nn.LoadFile)",
		run:     runConvert,
	})
}

func runConvert(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("convert", "MODEL.onnx OUT.safetensors [flags]", `  dlcv convert resnet18.onnx resnet18.safetensors
  dlcv convert det.onnx det.safetensors --input-shape 1x3x640x640`, stderr)
	var shapes stringList
	fs.Var(&shapes, "input-shape", "fix an input's shape, `[NAME=]1x3x224x224` (? for a size given at run time)")
	noOpt := fs.Bool("no-optimize", false, "save the graph as imported (no batch-norm folding or activation fusion)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want MODEL.onnx and OUT.safetensors")
	}
	opts := &onnx.Options{NoOptimize: *noOpt, InputShapes: map[string][]int{}}
	for _, s := range shapes {
		name, spec := splitNamed(s)
		dims, err := parseDims(spec)
		if err != nil {
			return usageErrorf("--input-shape %q: %v", s, err)
		}
		opts.InputShapes[name] = dims
	}
	m, err := onnx.Load(fs.Arg(0), opts)
	if err != nil {
		return err
	}
	if dims, ok := opts.InputShapes[""]; ok && len(m.Inputs) > 0 {
		delete(opts.InputShapes, "")
		opts.InputShapes[m.Inputs[0].Name] = dims
		if m, err = onnx.Load(fs.Arg(0), opts); err != nil {
			return err
		}
	}
	if err := m.SaveFile(fs.Arg(1)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d nodes, %d params\n", fs.Arg(1), len(m.Exec().Nodes()), paramCount(m))
	return nil
}

func paramCount(m *onnx.Imported) int {
	n := 0
	for _, p := range m.Exec().Params() {
		n += len(p.Value.Data)
	}
	return n
}
