package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/metrics"
	"github.com/dlcv-go/dlcv/pipeline"
	"github.com/dlcv-go/dlcv/plot"
)

func init() {
	register(&command{
		name:    "evaluate",
		summary: "score a trained model on its test split: classification report and confusion matrix",
		run:     runEvaluate,
	})
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("evaluate", "MODEL [flags]", `  dlcv evaluate runs/mnist/model.safetensors
  dlcv evaluate model.safetensors --json
  dlcv evaluate model.safetensors --dataset data/animals --test-split 0.25 --confusion-png cm.png`, stderr)
	var o pipeline.EvalOptions
	fs.StringVar(&o.Load.Dataset, "dataset", "", "dataset (default: the one the model was trained on, same split)")
	fs.Float64Var(&o.Load.TestSplit, "test-split", 0, "test fraction when --dataset is given")
	fs.Uint64Var(&o.Load.Seed, "seed", 42, "split seed when --dataset is given")
	fs.BoolVar(&o.Load.SkipBad, "skip-bad", false, "skip unreadable images (default: as the model was trained)")
	fs.BoolVar(&o.Load.Offline, "offline", false, "never download datasets")
	fs.BoolVar(&o.Load.Download, "download", false, "download a named dataset (fashion-mnist, cifar10, cifar100) not on this machine, checksum-verified")
	fs.IntVar(&o.Digits, "digits", 2, "digits in the report")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cmPNG := fs.String("confusion-png", "", "also write the confusion matrix as a PNG heat map")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one MODEL file, got %d arguments", fs.NArg())
	}
	r, err := pipeline.Evaluate(fs.Arg(0), o)
	if err != nil {
		return err
	}
	if *cmPNG != "" {
		if err := plot.ConfusionHeatmap(r.Confusion, r.Model.Classes, *cmPNG); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Report    *metrics.Report `json:"report"`
			Confusion [][]int         `json:"confusion_matrix"`
			Loss      float64         `json:"loss"`
		}{r.Report, r.Confusion, r.Eval.Loss})
	}
	fmt.Fprintln(stdout, r.ReportText)
	fmt.Fprintln(stdout, metrics.ConfusionText(r.Confusion, r.Model.Classes))
	return nil
}
