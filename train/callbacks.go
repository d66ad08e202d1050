package train

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

// Callback hooks into Fit between epochs. Epochs are 0-based in
// OnEpochBegin; logs.Epoch is 1-based as printed.
type Callback interface {
	OnEpochBegin(t *Trainer, epoch int) error
	OnEpochEnd(t *Trainer, logs *EpochLogs) error
}

// LRSchedule sets the optimizer's learning rate at the start of each epoch
// from Schedule(epoch), e.g. optim.StepDecay(0.01, 0.5, 10).
type LRSchedule struct {
	Schedule func(epoch int) float64
}

func (s *LRSchedule) OnEpochBegin(t *Trainer, epoch int) error {
	lr := s.Schedule(epoch)
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("learning-rate schedule gave %v for epoch %d", lr, epoch+1)
	}
	t.Optimizer.SetLearningRate(lr)
	return nil
}

func (s *LRSchedule) OnEpochEnd(*Trainer, *EpochLogs) error { return nil }

// monitor tracks the best value of a metric.
type monitor struct {
	Metric string // "val_loss" (default), "val_accuracy", "loss", "accuracy"
	Mode   string // "min", "max", or "" = from the metric's name
	best   float64
	seen   bool
}

func (m *monitor) metric() string {
	if m.Metric == "" {
		return "val_loss"
	}
	return m.Metric
}

func (m *monitor) maximise() bool {
	switch m.Mode {
	case "max":
		return true
	case "min":
		return false
	}
	return strings.Contains(m.metric(), "acc")
}

// improved reports whether v beats the best by more than minDelta, and
// records it when it does.
func (m *monitor) improved(v, minDelta float64) bool {
	if math.IsNaN(v) {
		return false
	}
	better := !m.seen
	if m.seen {
		if m.maximise() {
			better = v > m.best+minDelta
		} else {
			better = v < m.best-minDelta
		}
	}
	if better {
		m.best, m.seen = v, true
	}
	return better
}

func (m *monitor) value(logs *EpochLogs) (float64, error) {
	if m.Mode != "" && m.Mode != "min" && m.Mode != "max" {
		return 0, fmt.Errorf("mode %q: want min or max", m.Mode)
	}
	v, err := logs.Metric(m.metric())
	if err == nil && math.IsNaN(v) {
		err = fmt.Errorf("metric %s is not available (no validation set?)", m.metric())
	}
	return v, err
}

// EarlyStopping stops training when the monitored metric has not improved
// by more than MinDelta for Patience epochs.
type EarlyStopping struct {
	Metric   string
	Mode     string
	Patience int
	MinDelta float64
	mon      monitor
	wait     int
}

func (e *EarlyStopping) OnEpochBegin(*Trainer, int) error { return nil }

func (e *EarlyStopping) OnEpochEnd(t *Trainer, logs *EpochLogs) error {
	e.mon.Metric, e.mon.Mode = e.Metric, e.Mode
	v, err := e.mon.value(logs)
	if err != nil {
		return fmt.Errorf("early stopping: %w", err)
	}
	if e.mon.improved(v, e.MinDelta) {
		e.wait = 0
		return nil
	}
	e.wait++
	if e.wait > e.Patience {
		t.Stop = true
		t.StopReason = fmt.Sprintf("Early stopping after epoch %d: %s has not improved on %.4f for %d epochs", logs.Epoch, e.mon.metric(), e.mon.best, e.wait)
	}
	return nil
}

// ModelCheckpoint writes a checkpoint (model, optimizer state, history)
// after an epoch: every epoch, or only when the monitored metric improves
// (BestOnly). Path may contain {epoch}, replaced by the 1-based epoch.
// Writes are atomic.
type ModelCheckpoint struct {
	Path     string
	Metric   string
	Mode     string
	BestOnly bool
	// Meta is extra metadata stored with the model (class names,
	// preprocessing).
	Meta    map[string]string
	mon     monitor
	cleaned bool
}

// OnEpochBegin removes, at the start of the run, the temporary files that
// a run killed while writing left in the checkpoint's folder.
func (c *ModelCheckpoint) OnEpochBegin(*Trainer, int) error {
	if !c.cleaned {
		c.cleaned = true
		atomicfile.CleanStale(filepath.Dir(c.Path))
	}
	return nil
}

func (c *ModelCheckpoint) OnEpochEnd(t *Trainer, logs *EpochLogs) error {
	if c.BestOnly {
		c.mon.Metric, c.mon.Mode = c.Metric, c.Mode
		v, err := c.mon.value(logs)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if !c.mon.improved(v, 0) {
			return nil
		}
	}
	path := strings.ReplaceAll(c.Path, "{epoch}", fmt.Sprint(logs.Epoch))
	return SaveCheckpoint(path, t.Model, t.Optimizer, t.History, c.Meta)
}
