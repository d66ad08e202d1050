package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/metrics"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/train"
)

// EvalOptions say which data to evaluate a model file on.
type EvalOptions struct {
	// Dataset overrides the one recorded in the model file; the test split
	// is rebuilt with the recorded fraction and seed unless Load sets them.
	Load LoadOptions
	// Digits of the report (default 2).
	Digits int
}

// EvalResult is a model's score on a test set.
type EvalResult struct {
	Model      *classifier.Model
	Test       *data.Dataset
	Eval       *train.Result
	Report     *metrics.Report
	ReportText string
	Confusion  [][]int
}

// Evaluate loads a model file and scores it on the test split of its
// dataset (rebuilt from the split recorded at training time).
func Evaluate(modelPath string, o EvalOptions) (*EvalResult, error) {
	m, err := classifier.Load(modelPath)
	if err != nil {
		return nil, err
	}
	var info trainingInfo
	if len(m.Training) > 0 {
		if err := json.Unmarshal(m.Training, &info); err != nil {
			return nil, fmt.Errorf("%s: training metadata: %v", modelPath, err)
		}
	}
	lo := o.Load
	if lo.Dataset == "" {
		if info.Dataset == "" {
			return nil, fmt.Errorf("%s records no dataset: pass one", modelPath)
		}
		lo.Dataset, lo.TestSplit, lo.Seed, lo.Limit = info.Dataset, info.TestSplit, info.Seed, info.Limit
		lo.SkipBad = lo.SkipBad || info.SkipBad
	}
	lo.Preprocess = m.Preprocess
	// An array dataset stays at its size; batches are resized to the
	// model's input as they were in training (a transfer model's).
	ds, adapt, err := loadAdapted(lo, m.Net.InputShape(), "model "+modelPath)
	if err != nil {
		return nil, err
	}
	var net nn.Model = m.Net
	if adapt != nil {
		net = &adaptedModel{Model: m.Net, a: adapt}
	}
	if len(ds.Test.Classes) != len(m.Classes) {
		return nil, fmt.Errorf("dataset %s has %d classes, model %s has %d", lo.Dataset, len(ds.Test.Classes), modelPath, len(m.Classes))
	}
	r := &EvalResult{Model: m, Test: ds.Test}
	if r.Eval, err = train.Evaluate(net, ds.Test, 256, nil); err != nil {
		return nil, err
	}
	if r.Report, err = metrics.NewReport(ds.Test.Y, r.Eval.Pred, m.Classes); err != nil {
		return nil, err
	}
	digits := o.Digits
	if digits == 0 {
		digits = 2
	}
	r.ReportText = r.Report.Text(digits)
	if r.Confusion, err = metrics.ConfusionMatrix(ds.Test.Y, r.Eval.Pred, len(m.Classes)); err != nil {
		return nil, err
	}
	return r, nil
}
