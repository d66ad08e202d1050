package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/pretrained"
)

const classifyExamples = `  dlcv models pull mobilenet-v2             # once: download into the cache
  dlcv classify cat.jpg
  dlcv classify photos/ --top 3 --model mobilenet-v2-int8
  dlcv classify photo.png --model ./my_model.tflite --labels labels.txt --json
  dlcv classify cat.jpg --model resnet18.onnx --labels imagenet.txt --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225
  dlcv classify photo.jpg --model nsfw/model.json --scale 1/255 --labels classes.txt
  dlcv classify digit.png --model runs/mnist/model.safetensors`

func init() {
	register(&command{
		name:    "classify",
		summary: "name what is in photos with a classifier: dlcv, ONNX, TF.js or TFLite (default: pretrained ImageNet MobileNet)",
		run:     runClassify,
	})
}

type classifyResult struct {
	Image string          `json:"image"`
	Top   []classifyClass `json:"top,omitempty"`
	Error string          `json:"error,omitempty"`
}

type classifyClass struct {
	Index int     `json:"index"`
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"`
}

func runClassify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("classify", "IMAGE|FOLDER... [--model NAME|PATH] [--labels FILE] [--top K] [--json] [preprocessing flags]", classifyExamples, stderr)
	model := fs.String("model", "mobilenet-v2", "registered model `NAME` (see 'dlcv models') or a model file: dlcv .safetensors, ONNX, TF.js model.json, TFLite")
	labelsPath := fs.String("labels", "", "label `FILE`, one class a line (default: the model's own, or a label file beside it)")
	top := fs.Int("top", 5, "number of classes to print per image")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	size := fs.String("size", "", "input size `HxW`, for a model that takes any size")
	mean := fs.String("mean", "", "per-channel `MEANS` subtracted after --scale (comma-separated), where the file does not say")
	std := fs.String("std", "", "per-channel `STDS` divided by after the mean")
	scale := fs.String("scale", "", "factor for pixel values 0..255 (default 1/255 with --mean or --std), e.g. 1 or 1/127.5")
	bgr := fs.Bool("bgr", false, "feed photos as BGR (OpenCV-trained models)")
	layout := fs.String("layout", "", "`nchw` or nhwc, for a model whose input shape does not tell where the channels are")
	dequantize := fs.Bool("dequantize", false, "run a quantized TFLite model as its dequantized float graph instead of in integers")
	args, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	images, err := photoArgs(args)
	if err != nil {
		return err
	}
	if len(images) == 0 {
		return usageErrorf("no image given")
	}
	if *top < 1 {
		return usageErrorf("--top %d: want at least 1", *top)
	}
	if *layout != "" && *layout != "nchw" && *layout != "nhwc" {
		return usageErrorf("--layout %q: want nchw or nhwc", *layout)
	}
	img, err := imageOptions(*size, *mean, *std, *scale, *bgr)
	if err != nil {
		return err
	}
	opts := classifier.OpenOptions{Labels: *labelsPath, Height: img.Height, Width: img.Width, Mean: img.Mean, Std: img.Std,
		Scale: img.Scale, BGR: img.BGR, Layout: *layout, Dequantize: *dequantize,
		Warn: func(msg string) { fmt.Fprintln(stderr, "warning:", msg) }}
	// A file that exists is a model file, whatever its name; else a
	// registered name (or a path, reported missing).
	modelPath := *model
	if st, err := os.Stat(modelPath); err != nil || st.IsDir() {
		var labelFile string
		if modelPath, labelFile, err = pretrained.ResolveModel(*model); err != nil {
			return err
		}
		if opts.Labels == "" {
			opts.Labels = labelFile
		}
	}
	m, err := classifier.Open(modelPath, opts)
	if err != nil {
		return err
	}
	results := make([]classifyResult, 0, len(images))
	failed := 0
	for _, path := range images {
		r := classifyResult{Image: path}
		photo, err := loadPhoto(path)
		var ps []classifier.Prediction
		if err == nil {
			if ps, err = m.PredictImage(photo, *top); err != nil {
				err = fmt.Errorf("%s: %w", path, err)
			}
		}
		if err != nil {
			r.Error = err.Error()
			failed++
		}
		for _, p := range ps {
			r.Top = append(r.Top, classifyClass{Index: p.Index, Label: p.Label, Score: float32(p.Probability)})
		}
		results = append(results, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.Error != "" {
				msg := r.Error
				if !strings.HasPrefix(msg, r.Image) {
					msg = r.Image + ": " + msg
				}
				fmt.Fprintln(stderr, msg)
				continue
			}
			fmt.Fprintf(stdout, "%s\n", r.Image)
			for _, c := range r.Top {
				name := c.Label
				if name == "" {
					name = fmt.Sprintf("class %d", c.Index)
				}
				fmt.Fprintf(stdout, "  %s %.1f%%\n", name, 100*c.Score)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be classified", failed, len(results))
	}
	return nil
}
