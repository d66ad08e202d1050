package train

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

// EpochLogs are the numbers recorded for one epoch. Validation fields are
// NaN when there is no validation set.
type EpochLogs struct {
	Epoch        int     `json:"epoch"` // 1-based, as Keras prints
	Loss         float64 `json:"loss"`
	Accuracy     float64 `json:"accuracy"`
	ValLoss      float64 `json:"val_loss"`
	ValAccuracy  float64 `json:"val_accuracy"`
	LearningRate float64 `json:"lr"`
	Seconds      float64 `json:"seconds"`
}

// Metric returns a logged value by its Keras name ("loss", "accuracy",
// "val_loss", "val_accuracy").
func (l *EpochLogs) Metric(name string) (float64, error) {
	switch name {
	case "loss":
		return l.Loss, nil
	case "accuracy", "acc":
		return l.Accuracy, nil
	case "val_loss":
		return l.ValLoss, nil
	case "val_accuracy", "val_acc":
		return l.ValAccuracy, nil
	}
	return 0, fmt.Errorf("unknown metric %q (use loss, accuracy, val_loss or val_accuracy)", name)
}

// History is the record of a training run.
type History struct {
	Epochs []EpochLogs `json:"epochs"`
}

// jsonFloat writes NaN as null so that the JSON stays valid.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = jsonFloat(v)
	return err
}

type epochJSON struct {
	Epoch        int       `json:"epoch"`
	Loss         jsonFloat `json:"loss"`
	Accuracy     jsonFloat `json:"accuracy"`
	ValLoss      jsonFloat `json:"val_loss"`
	ValAccuracy  jsonFloat `json:"val_accuracy"`
	LearningRate jsonFloat `json:"lr"`
	Seconds      jsonFloat `json:"seconds"`
}

// MarshalJSON writes NaN values (no validation set) as null.
func (l EpochLogs) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochJSON{l.Epoch, jsonFloat(l.Loss), jsonFloat(l.Accuracy), jsonFloat(l.ValLoss), jsonFloat(l.ValAccuracy), jsonFloat(l.LearningRate), jsonFloat(l.Seconds)})
}

// UnmarshalJSON reads null as NaN.
func (l *EpochLogs) UnmarshalJSON(b []byte) error {
	var e epochJSON
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	*l = EpochLogs{e.Epoch, float64(e.Loss), float64(e.Accuracy), float64(e.ValLoss), float64(e.ValAccuracy), float64(e.LearningRate), float64(e.Seconds)}
	return nil
}

// WriteJSON writes the history as indented JSON.
func (h *History) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(h)
}

// WriteCSV writes one row per epoch with a header, as Keras' CSVLogger.
func (h *History) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"})
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 8, 64)
	}
	for _, e := range h.Epochs {
		cw.Write([]string{strconv.Itoa(e.Epoch), f(e.Loss), f(e.Accuracy), f(e.ValLoss), f(e.ValAccuracy), f(e.LearningRate), f(e.Seconds)})
	}
	cw.Flush()
	return cw.Error()
}

// SaveJSON and SaveCSV write the history to a file atomically.
func (h *History) SaveJSON(path string) error {
	return atomicfile.Write(path, h.WriteJSON)
}

func (h *History) SaveCSV(path string) error {
	return atomicfile.Write(path, h.WriteCSV)
}
