package classifier

import (
	"encoding/json"
	"fmt"
	"image"
	"sort"
	"sync"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Metadata keys in the model file.
const (
	MetaClasses    = "classes"
	MetaPreprocess = "preprocess"
	MetaArch       = "arch"
	MetaTraining   = "training"
)

// Model is a network with its class names and preprocessing.
//
// PredictImage is safe for concurrent use: it runs an inference-optimised
// copy of the network (nn.Optimize: batch norms folded, activations fused)
// made at its first call, with a session per concurrent caller and one
// copy of the weights. Call Refresh after changing Net's weights.
type Model struct {
	Net        nn.Model
	Classes    []string
	Preprocess data.Preprocess
	// Arch is the zoo name it was built from ("lenet"), if any.
	Arch string
	// Training describes how it was trained (JSON, free form): dataset,
	// split, seed, epochs. Evaluate reads the split from it.
	Training json.RawMessage

	mu   sync.Mutex
	pred *nn.Predictor
}

// Check verifies that the parts agree: the preprocessing produces the
// network's input shape and the network outputs one score per class.
func (m *Model) Check() error {
	if err := m.Preprocess.Validate(); err != nil {
		return err
	}
	in := []int{m.Preprocess.Height, m.Preprocess.Width, m.Preprocess.Channels}
	if !tensor.EqualShape(in, m.Net.InputShape()) {
		return fmt.Errorf("classifier: preprocessing makes %s images, the network takes %s", tensor.ShapeString(in), tensor.ShapeString(m.Net.InputShape()))
	}
	out := m.Net.OutputShape()
	if len(out) != 1 || out[0] != len(m.Classes) {
		return fmt.Errorf("classifier: the network outputs %s, there are %d class names", tensor.ShapeString(out), len(m.Classes))
	}
	return nil
}

// Meta returns the metadata Save stores.
func (m *Model) Meta() (map[string]string, error) {
	cj, err := json.Marshal(m.Classes)
	if err != nil {
		return nil, err
	}
	pj, err := json.Marshal(m.Preprocess)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{MetaClasses: string(cj), MetaPreprocess: string(pj)}
	if m.Arch != "" {
		meta[MetaArch] = m.Arch
	}
	if len(m.Training) > 0 {
		meta[MetaTraining] = string(m.Training)
	}
	return meta, nil
}

// Save writes the model file atomically.
func (m *Model) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	meta, err := m.Meta()
	if err != nil {
		return err
	}
	return nn.SaveFile(path, m.Net, meta)
}

// Load reads a model file written by Save (or a training checkpoint).
func Load(path string) (*Model, error) {
	net, meta, err := nn.LoadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := FromMeta(net, meta)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// FromMeta assembles a Model from a loaded network and its metadata.
func FromMeta(net nn.Model, meta map[string]string) (*Model, error) {
	m := &Model{Net: net, Arch: meta[MetaArch]}
	if err := json.Unmarshal([]byte(meta[MetaClasses]), &m.Classes); err != nil {
		return nil, fmt.Errorf("metadata %q: %v", MetaClasses, err)
	}
	if err := json.Unmarshal([]byte(meta[MetaPreprocess]), &m.Preprocess); err != nil {
		return nil, fmt.Errorf("metadata %q: %v", MetaPreprocess, err)
	}
	if t := meta[MetaTraining]; t != "" {
		if !json.Valid([]byte(t)) {
			return nil, fmt.Errorf("metadata %q is not JSON", MetaTraining)
		}
		m.Training = json.RawMessage(t)
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Prediction is one class with its probability.
type Prediction struct {
	Label       string  `json:"label"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// PredictImage preprocesses img and returns the topK classes, most likely
// first (all classes when topK <= 0).
func (m *Model) PredictImage(img image.Image, topK int) ([]Prediction, error) {
	p := m.Preprocess
	x := tensor.New(1, p.Height, p.Width, p.Channels)
	if err := p.ApplyTo(x.Data, img); err != nil {
		return nil, err
	}
	pred, err := m.predictor()
	if err != nil {
		return nil, err
	}
	var ps []Prediction
	err = pred.Do(func(s *nn.Session) error {
		y, err := s.Run(false, x)
		if err == nil {
			ps = TopK(y[0].Data, m.Classes, topK)
		}
		return err
	})
	return ps, err
}

// predictor returns the inference predictor, making it on first use.
func (m *Model) predictor() (*nn.Predictor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pred != nil {
		return m.pred, nil
	}
	g, err := nn.Optimize(m.Net.Graph())
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	if m.pred, err = nn.NewPredictor(g, 0); err != nil {
		return nil, err
	}
	return m.pred, nil
}

// Refresh drops the inference copy, so that the next PredictImage uses
// Net's current weights.
func (m *Model) Refresh() {
	m.mu.Lock()
	m.pred = nil
	m.mu.Unlock()
}

// TopK sorts scores into predictions, highest first.
func TopK(scores []float32, classes []string, k int) []Prediction {
	ps := make([]Prediction, len(scores))
	for i, s := range scores {
		ps[i] = Prediction{Index: i, Probability: float64(s)}
		if i < len(classes) {
			ps[i].Label = classes[i]
		}
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].Probability > ps[b].Probability })
	if k > 0 && k < len(ps) {
		ps = ps[:k]
	}
	return ps
}
