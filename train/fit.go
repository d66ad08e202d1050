package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// Config holds the settings of a training run. Zero values get Keras'
// defaults where Keras has one.
type Config struct {
	Epochs    int    // default 10
	BatchSize int    // default 32
	Seed      uint64 // drives shuffling, augmentation and dropout
	// Optimizer defaults to SGD with learning rate 0.01.
	Optimizer optim.Optimizer
	// Loss defaults to categorical cross-entropy (fused with a final
	// Softmax), weighted by ClassWeights when set.
	Loss         nn.Loss
	ClassWeights []float32
	// Augment, when set, transforms training images on the fly.
	Augment   *data.Augment
	Callbacks []Callback
	// Progress receives a progress bar (terminal) or one line per epoch;
	// nil is silent.
	Progress io.Writer
	// Resume continues a run from a checkpoint (see LoadCheckpoint): the
	// epochs it already holds are kept in the History and skipped.
	Resume *Checkpoint
}

// Trainer is the state of a running Fit, handed to callbacks.
type Trainer struct {
	Model     nn.Model
	Optimizer optim.Optimizer
	Config    Config
	History   *History
	// Stop, set by a callback, ends training after the current epoch.
	Stop bool
	// StopReason says why (printed by the caller).
	StopReason string
}

// ErrNonFinite is wrapped by the error Fit returns when the loss becomes
// NaN or infinite.
var ErrNonFinite = errors.New("loss is not finite")

// Fit trains m on trainSet, evaluating on valSet (may be nil) after each
// epoch, and returns the History. It stops early when a callback asks, and
// with an error naming the epoch and batch when the loss becomes NaN/Inf.
func Fit(m nn.Model, trainSet, valSet *data.Dataset, cfg Config) (*History, error) {
	if cfg.Epochs == 0 {
		cfg.Epochs = 10
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if cfg.Epochs < 0 || cfg.BatchSize < 0 {
		return nil, fmt.Errorf("train: epochs %d and batch size %d must be positive", cfg.Epochs, cfg.BatchSize)
	}
	if cfg.Optimizer == nil {
		cfg.Optimizer = optim.NewSGD(0.01, 0, false)
	}
	valLoss := cfg.Loss
	if cfg.Loss == nil {
		ce := nn.NewCategoricalCrossEntropy()
		ce.ClassWeights = cfg.ClassWeights
		cfg.Loss = ce
		// As in Keras, class weights shape the training loss only.
		valLoss = nn.NewCategoricalCrossEntropy()
	}
	if err := trainSet.Validate(); err != nil {
		return nil, fmt.Errorf("train: training set: %w", err)
	}
	if !tensor.EqualShape(trainSet.SampleShape(), m.InputShape()) {
		return nil, fmt.Errorf("train: images are %s, the model takes %s", tensor.ShapeString(trainSet.SampleShape()), tensor.ShapeString(m.InputShape()))
	}
	out := m.OutputShape()
	if len(out) != 1 || out[0] != len(trainSet.Classes) {
		return nil, fmt.Errorf("train: the model outputs %s, the dataset has %d classes", tensor.ShapeString(out), len(trainSet.Classes))
	}
	if valSet != nil {
		if err := valSet.Validate(); err != nil {
			return nil, fmt.Errorf("train: validation set: %w", err)
		}
		if !tensor.EqualShape(valSet.SampleShape(), m.InputShape()) {
			return nil, fmt.Errorf("train: validation images are %s, the model takes %s", tensor.ShapeString(valSet.SampleShape()), tensor.ShapeString(m.InputShape()))
		}
	}
	tr := &Trainer{Model: m, Optimizer: cfg.Optimizer, Config: cfg, History: &History{}}
	start := 0
	if r := cfg.Resume; r != nil {
		if err := r.restore(m, cfg.Optimizer); err != nil {
			return nil, err
		}
		tr.History.Epochs = append(tr.History.Epochs, r.History.Epochs...)
		start = r.Epoch
	}
	prog := newProgress(cfg.Progress, cfg.Epochs)
	for epoch := start; epoch < cfg.Epochs && !tr.Stop; epoch++ {
		for _, cb := range cfg.Callbacks {
			if err := cb.OnEpochBegin(tr, epoch); err != nil {
				return tr.History, err
			}
		}
		t0 := time.Now()
		logs, err := runEpoch(tr, trainSet, epoch, prog)
		if err != nil {
			return tr.History, err
		}
		logs.ValLoss, logs.ValAccuracy = math.NaN(), math.NaN()
		if valSet != nil {
			r, err := evaluate(m, valSet, max(cfg.BatchSize, 256), valLoss)
			if err != nil {
				return tr.History, err
			}
			logs.ValLoss, logs.ValAccuracy = r.Loss, r.Accuracy
		}
		logs.Seconds = time.Since(t0).Seconds()
		tr.History.Epochs = append(tr.History.Epochs, logs)
		prog.endEpoch(&tr.History.Epochs[len(tr.History.Epochs)-1], trainSet.Len())
		for _, cb := range cfg.Callbacks {
			if err := cb.OnEpochEnd(tr, &tr.History.Epochs[len(tr.History.Epochs)-1]); err != nil {
				return tr.History, err
			}
		}
	}
	if tr.Stop && tr.StopReason != "" && cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress, tr.StopReason)
	}
	return tr.History, nil
}

// epochSeed derives the seed of one epoch's shuffle/augmentation/dropout.
func epochSeed(seed uint64, epoch int, stream uint64) uint64 {
	x := seed ^ (uint64(epoch)+1)*0x9e3779b97f4a7c15 ^ stream*0xbf58476d1ce4e5b9
	x ^= x >> 31
	return x * 0x94d049bb133111eb
}

func runEpoch(tr *Trainer, set *data.Dataset, epoch int, prog *progress) (EpochLogs, error) {
	cfg := tr.Config
	m := tr.Model
	// Dropout masks: each node's stream is derived from this epoch's seed
	// (and the node's name), so a resumed run draws the same masks.
	m.Reseed(epochSeed(cfg.Seed, epoch, 2))
	batches, err := data.NewBatcher(set, cfg.BatchSize, data.BatchOptions{Shuffle: true, Seed: epochSeed(cfg.Seed, epoch, 1), Augment: cfg.Augment})
	if err != nil {
		return EpochLogs{}, err
	}
	prog.startEpoch(epoch, set.Len(), cfg.BatchSize)
	var lossSum float64
	var correct, seen int
	params := m.Params()
	b := 0
	for batch := range batches.Epoch() {
		loss, err := m.TrainStep(batch.X, batch.OneHot, cfg.Loss)
		if err != nil {
			return EpochLogs{}, fmt.Errorf("train: epoch %d, batch %d: %w", epoch+1, b+1, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return EpochLogs{}, fmt.Errorf("train: epoch %d, batch %d: %w (%v); try a lower learning rate (now %g)", epoch+1, b+1, ErrNonFinite, loss, tr.Optimizer.LearningRate())
		}
		if err := tr.Optimizer.Step(params); err != nil {
			return EpochLogs{}, fmt.Errorf("train: epoch %d, batch %d: %w", epoch+1, b+1, err)
		}
		n := len(batch.Y)
		correct += countCorrect(m.TrainOutput(), batch.Y)
		lossSum += loss * float64(n)
		seen += n
		prog.step(epoch, n, lossSum/float64(seen), float64(correct)/float64(seen))
		b++
	}
	return EpochLogs{
		Epoch:        epoch + 1,
		Loss:         lossSum / float64(seen),
		Accuracy:     float64(correct) / float64(seen),
		LearningRate: tr.Optimizer.LearningRate(),
	}, nil
}

// countCorrect counts rows of scores (N, C) whose argmax is the label.
func countCorrect(scores *tensor.Tensor, y []int) int {
	c := scores.Shape[len(scores.Shape)-1]
	n := 0
	for i, label := range y {
		if argmax(scores.Data[i*c:(i+1)*c]) == label {
			n++
		}
	}
	return n
}

func argmax(v []float32) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}
