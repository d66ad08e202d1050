package train

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/safetensors"
)

// A checkpoint is a model file (nn.SaveFile's format, loadable by
// nn.LoadFile and `dlcv predict`) with the optimizer's slots as extra
// tensors "optim.<slot>/<param>" and the epoch, optimizer settings and
// history as metadata.
const (
	metaEpoch     = "train.epoch"
	metaOptimizer = "train.optimizer"
	metaHistory   = "train.history"
	optimPrefix   = "optim."
)

// Checkpoint is what LoadCheckpoint reads back.
type Checkpoint struct {
	Model    nn.Model
	Meta     map[string]string
	Epoch    int // epochs completed
	History  *History
	optState *optim.State
}

// SaveCheckpoint writes model, optimizer state and history to path
// atomically.
func SaveCheckpoint(path string, m nn.Model, opt optim.Optimizer, h *History, meta map[string]string) error {
	st, err := opt.State(m.Params())
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	slots := st.Slots
	st.Slots = nil
	oj, err := json.Marshal(st)
	if err != nil {
		return err
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return err
	}
	all := map[string]string{}
	for k, v := range meta {
		all[k] = v
	}
	all[metaEpoch] = strconv.Itoa(len(h.Epochs))
	all[metaOptimizer] = string(oj)
	all[metaHistory] = string(hj)
	extra := map[string]safetensors.Tensor{}
	for k, v := range slots {
		extra[optimPrefix+k] = safetensors.Tensor{Shape: []int{len(v)}, Data: v}
	}
	return nn.SaveFileTensors(path, m, all, extra)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return checkpointFromFile(f, path)
}

// checkpointFromFile builds a checkpoint from a decoded file; path names
// it in errors.
func checkpointFromFile(f *safetensors.File, path string) (*Checkpoint, error) {
	m, err := nn.ModelFromFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &Checkpoint{Model: m, Meta: f.Metadata, History: &History{}}
	if c.Epoch, err = strconv.Atoi(f.Metadata[metaEpoch]); err != nil || c.Epoch < 0 {
		return nil, fmt.Errorf("%s: not a training checkpoint (metadata %s is %q)", path, metaEpoch, f.Metadata[metaEpoch])
	}
	if err := json.Unmarshal([]byte(f.Metadata[metaHistory]), c.History); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", path, metaHistory, err)
	}
	if len(c.History.Epochs) != c.Epoch {
		return nil, fmt.Errorf("%s: history has %d epochs, checkpoint says %d", path, len(c.History.Epochs), c.Epoch)
	}
	c.optState = &optim.State{}
	if err := json.Unmarshal([]byte(f.Metadata[metaOptimizer]), c.optState); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", path, metaOptimizer, err)
	}
	c.optState.Slots = map[string][]float32{}
	names := make([]string, 0, len(f.Tensors))
	for k := range f.Tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if s, ok := strings.CutPrefix(k, optimPrefix); ok {
			c.optState.Slots[s] = f.Tensors[k].Data
		}
	}
	return c, nil
}

// OptimizerName is the name of the optimizer the checkpoint was made with.
func (c *Checkpoint) OptimizerName() string { return c.optState.Name }

// restore copies the checkpoint's weights into m (which must have the same
// architecture) and its state into opt.
func (c *Checkpoint) restore(m nn.Model, opt optim.Optimizer) error {
	src, dst := c.Model.Params(), m.Params()
	if len(src) != len(dst) {
		return fmt.Errorf("resume: checkpoint has %d params, model has %d", len(src), len(dst))
	}
	for i := range src {
		if len(src[i].Value.Data) != len(dst[i].Value.Data) {
			return fmt.Errorf("resume: param %d (%s) has %d values in the checkpoint, %d in the model", i, dst[i].Name, len(src[i].Value.Data), len(dst[i].Value.Data))
		}
	}
	for i := range src {
		copy(dst[i].Value.Data, src[i].Value.Data)
	}
	nn.WeightsChanged(dst)
	if err := opt.LoadState(m.Params(), c.optState); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// Mismatch is a setting on which a checkpoint and a run resuming it
// differ, as JSON values ("" when one side does not record it).
type Mismatch struct {
	Setting         string
	Checkpoint, Run string
}

// CompareSettings compares, field by field, the JSON object stored under
// key in the checkpoint's metadata with run's (the settings of the run
// that resumes it), for the named fields. A checkpoint that records no
// settings under key (written by an older dlcv) matches anything.
func (c *Checkpoint) CompareSettings(key string, run []byte, fields ...string) ([]Mismatch, error) {
	saved := c.Meta[key]
	if saved == "" {
		return nil, nil
	}
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal([]byte(saved), &a); err != nil {
		return nil, fmt.Errorf("checkpoint metadata %q: %v", key, err)
	}
	if err := json.Unmarshal(run, &b); err != nil {
		return nil, fmt.Errorf("run settings: %v", err)
	}
	var out []Mismatch
	for _, f := range fields {
		x, y := compactJSON(a[f]), compactJSON(b[f])
		if x != y {
			out = append(out, Mismatch{Setting: f, Checkpoint: x, Run: y})
		}
	}
	return out, nil
}

func compactJSON(m json.RawMessage) string {
	var v any
	if len(m) == 0 || json.Unmarshal(m, &v) != nil || v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
