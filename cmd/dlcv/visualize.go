package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/visualize"
)

func init() {
	register(&command{
		name:    "visualize",
		summary: "draw what a CNN learned: a conv layer's filters, or a layer's activation maps for an image",
		run:     runVisualize,
	})
}

const visualizeUsage = `Usage: dlcv visualize filters MODEL [--layer N|NAME] --out F.png
       dlcv visualize activations MODEL IMAGE [--layer N|NAME] --out F.png

Sub-commands:
  filters      the learned kernels of a Conv2D layer as an image grid
  activations  the output maps of a layer (after it) for one image

Run 'dlcv visualize filters --help' or 'dlcv visualize activations --help' for their flags.
`

func runVisualize(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, visualizeUsage)
		return usageErrorf("want a sub-command: filters or activations")
	}
	switch args[0] {
	case "filters":
		return visualizeFilters(args[1:], stdout, stderr)
	case "activations":
		return visualizeActivations(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, visualizeUsage)
		return nil
	}
	return usageErrorf("unknown sub-command %q: want filters or activations", args[0])
}

const layerHelp = "layer `N|NAME`: 0-based index or name as 'dlcv summary MODEL' lists them (default: the first Conv2D)"

// layerUsage makes a bad --layer choice a usage error (exit 2).
func layerUsage(err error) error {
	var le *visualize.LayerError
	if errors.As(err, &le) {
		return usageErrorf("--layer: %v", err)
	}
	return err
}

func visualizeFilters(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("visualize filters", "MODEL [--layer N|NAME] --out F.png", `  dlcv visualize filters runs/mnist/model.safetensors --out filters.png
  dlcv visualize filters runs/mnist/model.safetensors --layer conv2d_1 --out filters2.png
  dlcv visualize filters model.safetensors --layer 3 --max-filters 16 --norm global --out f.png`, stderr)
	layer := fs.String("layer", "", layerHelp)
	out := fs.String("out", "", "output PNG `file` (required)")
	scale := fs.Int("scale", 0, "pixels per weight (0: tiles of about 40 px, 24 px in the per-channel grid)")
	norm := fs.String("norm", "tile", "min-max normalisation: tile (each filter on its own range) or global (one range for the layer)")
	maxF := fs.Int("max-filters", visualize.DefaultMaxFilters, "draw at most this many filters (the first ones)")
	maxC := fs.Int("max-channels", visualize.DefaultMaxChannels, "per-channel grid: at most this many input channels per filter")
	cols := fs.Int("cols", 0, "columns for one tile per filter (0: about square)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one MODEL argument, got %d", fs.NArg())
	}
	if *out == "" {
		return usageErrorf("--out F.png is required")
	}
	if *norm != visualize.NormTile && *norm != visualize.NormGlobal {
		return usageErrorf("--norm %q: want tile or global", *norm)
	}
	m, err := classifier.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	i, err := visualize.ResolveLayer(m.Net, *layer)
	if err != nil {
		return layerUsage(err)
	}
	r, err := visualize.Filters(m.Net, i, visualize.FilterOptions{Scale: *scale, Norm: *norm, MaxFilters: *maxF, MaxChannels: *maxC, Cols: *cols})
	if err != nil {
		return layerUsage(err)
	}
	if err := visualize.WritePNG(*out, r.Image); err != nil {
		return err
	}
	fmt.Fprint(stdout, r.Summary())
	if n := r.Kernel[3] - r.Filters; n > 0 {
		fmt.Fprintf(stdout, "left out %d filters (--max-filters %d)\n", n, *maxF)
	}
	if n := r.Kernel[2] - r.Channels; n > 0 {
		fmt.Fprintf(stdout, "left out %d input channels per filter (--max-channels %d)\n", n, *maxC)
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d)\n", *out, r.Image.Bounds().Dx(), r.Image.Bounds().Dy())
	return nil
}

func visualizeActivations(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("visualize activations", "MODEL IMAGE [--layer N|NAME] --out F.png", `  dlcv visualize activations runs/mnist/model.safetensors digit.png --out act.png
  dlcv visualize activations runs/mnist/model.safetensors digit.png --layer re_lu_1 --out act2.png
  dlcv visualize activations model.safetensors cat.jpg --layer 2 --norm global --out a.png`, stderr)
	layer := fs.String("layer", "", layerHelp)
	out := fs.String("out", "", "output PNG `file` (required)")
	scale := fs.Int("scale", 0, "pixels per activation (0: maps of about 64 px)")
	norm := fs.String("norm", "tile", "min-max normalisation: tile (each channel on its own range) or global (one range for all maps)")
	maxMaps := fs.Int("max-maps", visualize.DefaultMaxMaps, "draw at most this many channels (the first ones)")
	cols := fs.Int("cols", 0, "columns (0: about square)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want MODEL and IMAGE arguments, got %d argument(s)", fs.NArg())
	}
	if *out == "" {
		return usageErrorf("--out F.png is required")
	}
	if *norm != visualize.NormTile && *norm != visualize.NormGlobal {
		return usageErrorf("--norm %q: want tile or global", *norm)
	}
	m, err := classifier.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	img, err := data.DecodeImage(fs.Arg(1), 0)
	if err != nil {
		return err // names the file
	}
	i, err := visualize.ResolveLayer(m.Net, *layer)
	if err != nil {
		return layerUsage(err)
	}
	r, err := visualize.Activations(m, img, i, visualize.ActivationOptions{Scale: *scale, Norm: *norm, MaxMaps: *maxMaps, Cols: *cols, Source: filepath.Base(fs.Arg(1))})
	if err != nil {
		return layerUsage(err)
	}
	if err := visualize.WritePNG(*out, r.Image); err != nil {
		return err
	}
	fmt.Fprint(stdout, r.Summary())
	if c := r.Output.Shape[3]; r.Maps < c {
		fmt.Fprintf(stdout, "left out %d channels (--max-maps %d)\n", c-r.Maps, *maxMaps)
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d)\n", *out, r.Image.Bounds().Dx(), r.Image.Bounds().Dy())
	return nil
}
