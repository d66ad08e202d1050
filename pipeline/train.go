package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/atomicfile"
	"github.com/dlcv-go/dlcv/metrics"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/plot"
	"github.com/dlcv-go/dlcv/train"
	"github.com/dlcv-go/dlcv/zoo"
)

// TrainOptions configure a training run. The zero value trains LeNet on
// MNIST for 20 epochs with SGD (lr 0.01) and batch 128.
type TrainOptions struct {
	Load LoadOptions
	Arch string // zoo architecture, default "lenet"
	// Net, when set, builds the network instead of zoo.New(Arch, ...);
	// Arch is then only the name recorded in the model file, and the
	// input size comes from Load.Preprocess when Arch is not a zoo name.
	Net func(in []int, classes int, seed uint64) (nn.Model, error)

	Epochs    int     // default 20
	BatchSize int     // default 128
	Optimizer string  // "sgd" (default), "adam", "rmsprop"
	LR        float64 // default: 0.01 for SGD, 0.001 otherwise
	Momentum  float64 // SGD only
	Nesterov  bool    // SGD only
	Decay     float64 // SGD: lr / (1 + decay * iterations)
	// LRSchedule: "" (constant), "step:FACTOR:EVERY" or "linear"
	// (polynomial decay to 0 over Epochs).
	LRSchedule string
	// ClassWeights balances classes by their training frequency
	// (scikit-learn's "balanced").
	ClassWeights bool
	Augment      *data.Augment
	// EarlyStop > 0 stops after that many epochs without val_loss
	// improving.
	EarlyStop int
	// Resume continues from a checkpoint written by an earlier run, which
	// must have been made with the same dataset, split, seed, limit and
	// batch size unless Force is set.
	Resume string
	Force  bool
	// Out is the folder for the model, history, report and plots
	// (created; "" writes nothing).
	Out string
	// Digits of the classification report (default 2).
	Digits int
	// Progress gets the progress display, Log the messages.
	Progress, Log io.Writer
	// K and Features configure Arch "knn": the neighbours that vote
	// (default 3) and what images are compared by, "pixels" (default) or
	// "histogram" (zoo.FeaturesPixels, zoo.FeaturesHistogram).
	K        int
	Features string
	// Backbone, when set, trains by transfer learning: a pretrained
	// network (a registered name such as "mobilenet-v2", or a model file)
	// cut at BackboneOutput ("" for a registered model's pooled
	// features) extracts features once, frozen, and a new head (dropout
	// HeadDropout, dense, softmax) is trained on them. See transfer.go.
	Backbone       string
	BackboneOutput string
	HeadDropout    float32
	// FineTune > 0 then unfreezes the backbone's last FineTune blocks
	// (nn.Graph.Blocks) and trains them with the head for FineTuneEpochs
	// (default DefaultFineTuneEpochs) at FineTuneLR (default
	// DefaultFineTuneLRFactor x LR), batch norms in inference mode.
	FineTune       int
	FineTuneEpochs int
	FineTuneLR     float64
}

// TrainResult is what a run produced.
type TrainResult struct {
	Model   *classifier.Model
	History *train.History
	Eval    *train.Result
	Report  *metrics.Report
	// ReportText is scikit-learn's classification_report layout.
	ReportText string
	// Files written, in order.
	Files []string
}

// trainingInfo is stored in the model file so that evaluate can rebuild
// the same test split.
type trainingInfo struct {
	// Dataset is the name, or the folder as an absolute path, so that
	// evaluate finds it from any working directory.
	Dataset string `json:"dataset"`
	// SkipBad: unreadable images were skipped (evaluate skips them too).
	SkipBad   bool    `json:"skip_bad,omitempty"`
	TestSplit float64 `json:"test_split"`
	ValSplit  float64 `json:"val_split,omitempty"`
	Seed      uint64  `json:"seed"`
	Limit     int     `json:"limit,omitempty"`
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	Optimizer string  `json:"optimizer,omitempty"`
	LR        float64 `json:"lr,omitempty"`
	K         int     `json:"k,omitempty"`
	Features  string  `json:"features,omitempty"`
	// Backbone and BackboneOutput: the pretrained features of a transfer
	// model.
	Backbone       string `json:"backbone,omitempty"`
	BackboneOutput string `json:"backbone_output,omitempty"`
	// FineTune blocks were then trained for FineTuneEpochs at FineTuneLR.
	FineTune       int     `json:"fine_tune,omitempty"`
	FineTuneEpochs int     `json:"fine_tune_epochs,omitempty"`
	FineTuneLR     float64 `json:"fine_tune_lr,omitempty"`
}

func (o *TrainOptions) defaults() {
	if o.Arch == "" {
		o.Arch = "lenet"
	}
	if o.Epochs == 0 {
		o.Epochs = 20
	}
	if o.BatchSize == 0 {
		o.BatchSize = 128
	}
	if o.Optimizer == "" {
		o.Optimizer = "sgd"
	}
	if o.LR == 0 {
		o.LR = 0.01
		if o.Optimizer != "sgd" {
			o.LR = 0.001
		}
	}
	if o.Digits == 0 {
		o.Digits = 2
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Load.Log == nil {
		o.Load.Log = o.Log
	}
}

// NewOptimizer makes an optimizer by name.
func NewOptimizer(name string, lr, momentum float64, nesterov bool, decay float64) (optim.Optimizer, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("learning rate %v must be positive", lr)
	}
	switch strings.ToLower(name) {
	case "sgd":
		o := optim.NewSGD(lr, momentum, nesterov)
		o.Decay = decay
		return o, nil
	case "adam":
		return optim.NewAdam(lr, 0, 0, 0), nil
	case "rmsprop":
		return optim.NewRMSprop(lr, 0, 0), nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (use sgd, adam or rmsprop)", name)
}

// parseSchedule turns the LRSchedule option into a callback.
func parseSchedule(s string, lr float64, epochs int) (train.Callback, error) {
	switch {
	case s == "":
		return nil, nil
	case s == "linear":
		return &train.LRSchedule{Schedule: optim.PolynomialDecay(lr, epochs, 1)}, nil
	case strings.HasPrefix(s, "step:"):
		var factor float64
		var every int
		if _, err := fmt.Sscanf(s, "step:%g:%d", &factor, &every); err != nil || factor <= 0 || every <= 0 {
			return nil, fmt.Errorf("lr schedule %q: want step:FACTOR:EVERY, e.g. step:0.5:10", s)
		}
		return &train.LRSchedule{Schedule: optim.StepDecay(lr, factor, every)}, nil
	}
	return nil, fmt.Errorf("unknown lr schedule %q (use step:FACTOR:EVERY or linear)", s)
}

// Train runs the whole pipeline.
func Train(o TrainOptions) (*TrainResult, error) {
	o.defaults()
	if o.FineTune < 0 || o.FineTuneEpochs < 0 || o.FineTuneLR < 0 {
		return nil, fmt.Errorf("fine-tuning: blocks %d, epochs %d and learning rate %g must not be negative", o.FineTune, o.FineTuneEpochs, o.FineTuneLR)
	}
	if o.Backbone != "" {
		return trainTransfer(o)
	}
	if o.FineTune > 0 {
		return nil, fmt.Errorf("--fine-tune needs a pretrained --backbone")
	}
	arch, err := zoo.Get(o.Arch)
	if err != nil {
		if o.Net == nil {
			return nil, err
		}
		p := o.Load.Preprocess
		if p.Width == 0 || p.Height == 0 || p.Channels == 0 {
			return nil, fmt.Errorf("network %s: set the input size and channels", o.Arch)
		}
		arch = &zoo.Arch{Name: o.Arch, DefaultInput: []int{p.Height, p.Width, p.Channels}}
	}
	opt, err := NewOptimizer(o.Optimizer, o.LR, o.Momentum, o.Nesterov, o.Decay)
	if err != nil {
		return nil, err
	}
	sched, err := parseSchedule(o.LRSchedule, o.LR, o.Epochs)
	if err != nil {
		return nil, err
	}
	var resume *train.Checkpoint
	if o.Resume != "" {
		if resume, err = train.LoadCheckpoint(o.Resume); err != nil {
			return nil, err
		}
		if resume.OptimizerName() != opt.Name() {
			return nil, fmt.Errorf("checkpoint %s was trained with %s, not %s (pass --optimizer %s)", o.Resume, resume.OptimizerName(), opt.Name(), resume.OptimizerName())
		}
		if err := checkResume(o, resume); err != nil {
			return nil, err
		}
	}
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(o.Log, "[INFO] loading dataset %s...\n", datasetName(o.Load.Dataset))
	ds, err := Load(o.Load, arch.DefaultInput)
	if err != nil {
		return nil, err
	}
	// Decoding leaves large garbage (compressed files, image buffers):
	// return it now so that training's peak memory is the data plus the model.
	debug.FreeOSMemory()
	if len(ds.Skipped) > 0 {
		fmt.Fprintf(o.Log, "[WARN] skipped %d unreadable images, e.g. %s\n", len(ds.Skipped), ds.Skipped[0])
	}
	nval := 0
	if ds.Val != nil {
		nval = ds.Val.Len()
	}
	fmt.Fprintf(o.Log, "[INFO] %d training, %d validation and %d test images of shape %v, %d classes\n", ds.Train.Len(), nval, ds.Test.Len(), ds.Train.SampleShape(), len(ds.Train.Classes))
	if ds.Val == nil && o.EarlyStop > 0 {
		return nil, fmt.Errorf("early stopping watches the validation loss: set a validation split (--val-split)")
	}
	if o.Arch == "knn" && o.Net == nil {
		return trainKNN(o, ds, arch)
	}
	in := ds.Train.SampleShape()
	var net nn.Model
	if o.Net != nil {
		net, err = o.Net(in, len(ds.Train.Classes), o.Load.Seed)
	} else {
		net, err = zoo.New(o.Arch, in, len(ds.Train.Classes), o.Load.Seed)
	}
	if err != nil {
		return nil, err
	}
	var weights []float32
	if o.ClassWeights {
		weights = data.ClassWeights(ds.Train.Y, len(ds.Train.Classes))
		var parts []string
		for i, w := range weights {
			parts = append(parts, fmt.Sprintf("%s %.3f", ds.Train.Classes[i], w))
		}
		fmt.Fprintf(o.Log, "[INFO] class weights: %s\n", strings.Join(parts, ", "))
	}
	info, _ := json.Marshal(trainingInfo{Dataset: recordedDataset(o.Load.Dataset), SkipBad: o.Load.SkipBad, TestSplit: o.Load.TestSplit, ValSplit: o.Load.ValSplit, Seed: o.Load.Seed, Limit: o.Load.Limit,
		Epochs: o.Epochs, BatchSize: o.BatchSize, Optimizer: opt.Name(), LR: o.LR})
	model := &classifier.Model{Net: net, Classes: ds.Train.Classes, Preprocess: ds.Preprocess, Arch: arch.Name, Training: info}
	meta, err := model.Meta()
	if err != nil {
		return nil, err
	}
	var cbs []train.Callback
	if sched != nil {
		cbs = append(cbs, sched)
	}
	if o.EarlyStop > 0 {
		cbs = append(cbs, &train.EarlyStopping{Metric: "val_loss", Patience: o.EarlyStop})
	}
	res := &TrainResult{Model: model}
	if o.Out != "" {
		ck := filepath.Join(o.Out, "checkpoint.safetensors")
		cbs = append(cbs, &train.ModelCheckpoint{Path: ck, Meta: meta})
	}
	fmt.Fprintf(o.Log, "[INFO] training %s (%d params) for %d epochs, batch %d, %s lr %g\n", arch.Name, countParams(net), o.Epochs, o.BatchSize, opt.Name(), o.LR)
	// Epochs are watched (early stopping, checkpoints) on the validation
	// set only; the test set is used once, for the report below.
	h, err := train.Fit(net, ds.Train, ds.Val, train.Config{
		Epochs: o.Epochs, BatchSize: o.BatchSize, Seed: o.Load.Seed, Optimizer: opt,
		ClassWeights: weights, Augment: o.Augment, Callbacks: cbs, Progress: o.Progress, Resume: resume,
	})
	res.History = h
	if err != nil {
		return res, err
	}
	if err := res.report(o, ds.Test); err != nil {
		return res, err
	}
	if o.Out != "" {
		os.Remove(filepath.Join(o.Out, "checkpoint.safetensors"))
	}
	return res, nil
}

// report scores the model once on the test set and writes the files.
func (res *TrainResult) report(o TrainOptions, test *data.Dataset) error {
	fmt.Fprintln(o.Log, "[INFO] evaluating network...")
	var err error
	if res.Eval, err = train.Evaluate(res.Model.Net, test, 256, nil); err != nil {
		return err
	}
	if res.Report, err = metrics.NewReport(test.Y, res.Eval.Pred, test.Classes); err != nil {
		return err
	}
	res.ReportText = res.Report.Text(o.Digits)
	if o.Out != "" {
		return res.write(o.Out, test)
	}
	return nil
}

// trainKNN is Train for the k-NN baseline: no epochs, the same split,
// report, model file and confusion matrix as the networks.
func trainKNN(o TrainOptions, ds *Loaded, arch *zoo.Arch) (*TrainResult, error) {
	net, h, err := fitKNN(o, ds)
	if err != nil {
		return nil, err
	}
	info, _ := json.Marshal(trainingInfo{Dataset: recordedDataset(o.Load.Dataset), SkipBad: o.Load.SkipBad, TestSplit: o.Load.TestSplit, ValSplit: o.Load.ValSplit,
		Seed: o.Load.Seed, Limit: o.Load.Limit, K: net.Graph().NodeByName("knn").Op.(*nn.KNN).K, Features: featureName(o.Features)})
	res := &TrainResult{Model: &classifier.Model{Net: net, Classes: ds.Train.Classes, Preprocess: ds.Preprocess, Arch: arch.Name, Training: info}, History: h}
	return res, res.report(o, ds.Test)
}

// resumeSettings are the settings a resumed run must share with its
// checkpoint (else the epochs continue on other data), with their flags.
var resumeSettings = []struct{ field, flag string }{
	{"dataset", "--dataset"}, {"test_split", "--test-split"}, {"val_split", "--val-split"}, {"seed", "--seed"}, {"limit", "--limit"}, {"batch_size", "--batch-size"},
}

// checkResume refuses to resume a checkpoint made with other settings,
// naming both values, unless o.Force.
func checkResume(o TrainOptions, c *train.Checkpoint) error {
	run, _ := json.Marshal(trainingInfo{Dataset: recordedDataset(o.Load.Dataset), TestSplit: o.Load.TestSplit, ValSplit: o.Load.ValSplit, Seed: o.Load.Seed, Limit: o.Load.Limit, BatchSize: o.BatchSize})
	fields := make([]string, len(resumeSettings))
	for i, s := range resumeSettings {
		fields[i] = s.field
	}
	ms, err := c.CompareSettings(classifier.MetaTraining, run, fields...)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", o.Resume, err)
	}
	if len(ms) == 0 {
		return nil
	}
	var parts []string
	for _, m := range ms {
		flag := m.Setting
		for _, s := range resumeSettings {
			if s.field == m.Setting {
				flag = s.flag
			}
		}
		none := func(v string) string {
			if v == "" {
				return "none"
			}
			return v
		}
		parts = append(parts, fmt.Sprintf("%s %s in the checkpoint, %s now", flag, none(m.Checkpoint), none(m.Run)))
	}
	if !o.Force {
		return fmt.Errorf("checkpoint %s was made with other settings: %s; resume with the checkpoint's, or pass --force to continue with the new ones", o.Resume, strings.Join(parts, "; "))
	}
	fmt.Fprintf(o.Log, "[WARN] --force: resuming %s with other settings: %s\n", o.Resume, strings.Join(parts, "; "))
	return nil
}

// recordedDataset is the dataset as the model file records it: a name
// as given, a folder (or the PATH of NAME:PATH) made absolute.
func recordedDataset(s string) string {
	s = datasetName(s)
	abs := func(p string) string {
		if _, err := os.Stat(p); err != nil {
			return p
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	if name, path, ok := strings.Cut(s, ":"); ok && len(name) > 1 && path != "" {
		return name + ":" + abs(path)
	}
	return abs(s)
}

func datasetName(s string) string {
	if s == "" {
		return "mnist"
	}
	return s
}

func countParams(m nn.Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}

// write saves the model, history, report and plots into dir.
func (r *TrainResult) write(dir string, test *data.Dataset) error {
	add := func(name string, err error) error {
		if err == nil {
			r.Files = append(r.Files, filepath.Join(dir, name))
		}
		return err
	}
	if err := add("model.safetensors", r.Model.Save(filepath.Join(dir, "model.safetensors"))); err != nil {
		return err
	}
	if err := add("history.json", r.History.SaveJSON(filepath.Join(dir, "history.json"))); err != nil {
		return err
	}
	if err := add("history.csv", r.History.SaveCSV(filepath.Join(dir, "history.csv"))); err != nil {
		return err
	}
	if err := add("report.txt", atomicfile.WriteBytes(filepath.Join(dir, "report.txt"), []byte(r.ReportText))); err != nil {
		return err
	}
	rj, err := json.MarshalIndent(r.Report, "", "  ")
	if err != nil {
		return err
	}
	if err := add("report.json", atomicfile.WriteBytes(filepath.Join(dir, "report.json"), append(rj, '\n'))); err != nil {
		return err
	}
	if hasLoss(r.History) { // a k-NN has no training curves
		if err := add("training.png", plot.TrainingCurves(PlotHistory(r.History), filepath.Join(dir, "training.png"), "")); err != nil {
			return err
		}
	}
	cm, err := metrics.ConfusionMatrix(test.Y, r.Eval.Pred, len(test.Classes))
	if err != nil {
		return err
	}
	return add("confusion.png", plot.ConfusionHeatmap(cm, test.Classes, filepath.Join(dir, "confusion.png")))
}

// hasLoss reports whether any epoch of h has a finite training loss.
func hasLoss(h *train.History) bool {
	for _, e := range h.Epochs {
		if !math.IsNaN(e.Loss) && !math.IsInf(e.Loss, 0) {
			return true
		}
	}
	return false
}

// PlotHistory converts a training history for plot.TrainingCurves.
func PlotHistory(h *train.History) plot.History {
	var p plot.History
	hasVal := len(h.Epochs) > 0 && !math.IsNaN(h.Epochs[0].ValLoss)
	for _, e := range h.Epochs {
		p.Epochs = append(p.Epochs, e.Epoch)
		p.Loss = append(p.Loss, e.Loss)
		p.Acc = append(p.Acc, e.Accuracy)
		if hasVal {
			p.ValLoss = append(p.ValLoss, e.ValLoss)
			p.ValAcc = append(p.ValAcc, e.ValAccuracy)
		}
	}
	return p
}
