package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/classifier"
)

func init() {
	register(&command{
		name:    "predict",
		summary: "classify images with a model trained by 'dlcv train'",
		run:     runPredict,
	})
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", "--model MODEL IMAGE|FOLDER... [flags]", `  dlcv predict --model runs/mnist/model.safetensors digit.png
  dlcv predict --model smiles.safetensors --top 2 --json face1.jpg face2.jpg
  dlcv predict --model runs/animals/model.safetensors photos/    # every image below the folder`, stderr)
	modelPath := fs.String("model", "", "model file written by 'dlcv train' (required)")
	top := fs.Int("top", 3, "how many classes to show per image (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usageErrorf("--model is required")
	}
	if fs.NArg() == 0 {
		return usageErrorf("no IMAGE given")
	}
	if *top < 0 {
		return usageErrorf("--top %d must not be negative", *top)
	}
	m, err := classifier.Load(*modelPath)
	if err != nil {
		return err
	}
	type result struct {
		Image       string                  `json:"image"`
		Predictions []classifier.Prediction `json:"predictions,omitempty"`
		Error       string                  `json:"error,omitempty"`
	}
	paths, err := photoArgs(fs.Args())
	if err != nil {
		return err
	}
	var results []result
	failed := 0
	for _, path := range paths {
		r := result{Image: path}
		img, err := loadPhoto(path)
		if err == nil {
			r.Predictions, err = m.PredictImage(img, *top)
		}
		if err != nil {
			r.Error = err.Error()
			failed++
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
				fmt.Fprintf(stderr, "%s: %s\n", r.Image, r.Error)
				continue
			}
			fmt.Fprintf(stdout, "%s:", r.Image)
			for i, p := range r.Predictions {
				sep := ","
				if i == 0 {
					sep = ""
				}
				fmt.Fprintf(stdout, "%s %s %.1f%%", sep, p.Label, 100*p.Probability)
			}
			fmt.Fprintln(stdout)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be classified", failed, len(results))
	}
	return nil
}
