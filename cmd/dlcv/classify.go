package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/tflite"
)

const classifyExamples = `  dlcv models pull mobilenet-v2             # once: download into the cache
  dlcv classify cat.jpg
  dlcv classify *.jpg --top 3 --model mobilenet-v2-int8
  dlcv classify photo.png --model ./my_model.tflite --labels labels.txt --json`

func init() {
	register(&command{
		name:    "classify",
		summary: "name what is in photos with a pretrained ImageNet classifier (TFLite)",
		run:     runClassify,
	})
}

type classifyResult struct {
	Image string          `json:"image"`
	Top   []classifyClass `json:"top"`
}

type classifyClass struct {
	Index int     `json:"index"`
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"`
}

func runClassify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("classify", "IMAGE... [--model NAME|PATH] [--labels FILE] [--top K] [--json]", classifyExamples, stderr)
	model := fs.String("model", "mobilenet-v2", "registered model `NAME` (see 'dlcv models') or path to a .tflite file")
	labelsPath := fs.String("labels", "", "label `FILE`, one class a line (default: the registered model's labels)")
	top := fs.Int("top", 5, "number of classes to print per image")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	images, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(images) == 0 {
		return usageErrorf("no image given")
	}
	if *top < 1 {
		return usageErrorf("--top %d: want at least 1", *top)
	}
	modelPath, labelFile, err := pretrained.ResolveModel(*model)
	if err != nil {
		return err
	}
	if *labelsPath != "" {
		labelFile = *labelsPath
	}
	m, err := tflite.Load(modelPath)
	if err != nil {
		return err
	}
	var labels []string
	if labelFile != "" {
		if labels, err = tflite.LoadLabels(labelFile); err != nil {
			return err
		}
	}
	var results []classifyResult
	for _, path := range images {
		img, err := loadPhoto(path)
		if err != nil {
			return err
		}
		classes, err := m.Classify(img, *top, labels)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		r := classifyResult{Image: path}
		for _, c := range classes {
			r.Top = append(r.Top, classifyClass{Index: c.Index, Label: c.Label, Score: c.Score})
		}
		results = append(results, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "%s\n", r.Image)
		for _, c := range r.Top {
			name := c.Label
			if name == "" {
				name = fmt.Sprintf("class %d", c.Index)
			}
			fmt.Fprintf(stdout, "  %s %.1f%%\n", name, 100*c.Score)
		}
	}
	return nil
}
