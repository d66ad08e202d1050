package classifier

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Metadata keys in the model file.
const (
	MetaClasses    = "classes"
	MetaPreprocess = "preprocess"
	MetaArch       = "arch"
	MetaTraining   = "training"
	// MetaLogits is "true" when the network's output needs a softmax.
	MetaLogits = "logits"
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
	// Logits says that Net outputs scores, not probabilities: PredictImage
	// applies a softmax.
	Logits bool
	// Format is the kind of file the model was opened from (Open).
	Format modelfile.Kind

	mu   sync.Mutex
	pred *nn.Predictor
	// exec is the inference graph an importer already made (nil: made
	// from Net by nn.Optimize on first use).
	exec *nn.Graph
	// direct, when set, computes the class probabilities of a photo
	// instead of Net: a quantized TFLite model run in integers, exactly as
	// TFLite does (Net is then its dequantized float graph, to train).
	direct func(img image.Image) ([]float32, error)
}

// Check verifies that the parts agree: the preprocessing produces the
// network's input shape and the network outputs one score per class.
func (m *Model) Check() error {
	if err := m.Preprocess.Validate(); err != nil {
		return err
	}
	p := m.Preprocess
	in := []int{p.Height, p.Width, p.Channels}
	if !fits(in, m.Net.InputShape()) {
		return fmt.Errorf("classifier: preprocessing makes %s images, the network takes %s", tensor.ShapeString(in), shapeText(m.Net.InputShape()))
	}
	out := m.Net.OutputShape()
	n := Classes(out)
	if n < 0 {
		return fmt.Errorf("classifier: the network outputs %s per image, not one score per class", shapeText(out))
	}
	// No class names: predictions carry indices only.
	if len(m.Classes) != 0 && n != len(m.Classes) {
		return fmt.Errorf("classifier: the network outputs %s, there are %d class names", tensor.ShapeString(out), len(m.Classes))
	}
	return nil
}

// fits reports whether an image of shape in fits a network input of shape
// net (-1: any size).
func fits(in, net []int) bool {
	if len(in) != len(net) {
		return false
	}
	for i, d := range net {
		if d >= 0 && d != in[i] {
			return false
		}
	}
	return true
}

// Classes is the number of classes of a per-image output shape: its one
// axis longer than 1 ((1000), (1000, 1, 1) or (1, 1000)); -1 when the
// shape is not a score vector.
func Classes(out []int) int {
	n := -1
	for _, d := range out {
		switch {
		case d < 0:
			return -1
		case d > 1 && n > 1:
			return -1
		case d > 1 || n < 0:
			n = d
		}
	}
	return n
}

func shapeText(s []int) string {
	if s == nil {
		return "an unknown shape"
	}
	return strings.ReplaceAll(tensor.ShapeString(s), "-1", "?")
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
	if m.Logits {
		meta[MetaLogits] = "true"
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
	switch meta[MetaLogits] {
	case "", "false":
	case "true":
		m.Logits = true
	default:
		return nil, fmt.Errorf("metadata %q is %q, want true or false", MetaLogits, meta[MetaLogits])
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
	m.mu.Lock()
	direct := m.direct
	m.mu.Unlock()
	if direct != nil {
		if img == nil || img.Bounds().Empty() {
			return nil, fmt.Errorf("classifier: empty image")
		}
		probs, err := direct(img)
		if err != nil {
			return nil, err
		}
		return TopK(probs, m.Classes, topK), nil
	}
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
		if err != nil {
			return err
		}
		scores := y[0].Data
		if m.Logits {
			scores = Softmax(scores)
		}
		ps = TopK(scores, m.Classes, topK)
		return nil
	})
	return ps, err
}

// Softmax returns the probabilities of scores (computed in float64, so
// large logits do not overflow).
func Softmax(scores []float32) []float32 {
	out := make([]float32, len(scores))
	if len(scores) == 0 {
		return out
	}
	mx := scores[0]
	for _, v := range scores {
		mx = max(mx, v)
	}
	var sum float64
	e := make([]float64, len(scores))
	for i, v := range scores {
		e[i] = math.Exp(float64(v - mx))
		sum += e[i]
	}
	for i := range out {
		out[i] = float32(e[i] / sum)
	}
	return out
}

// predictor returns the inference predictor, making it on first use.
func (m *Model) predictor() (*nn.Predictor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pred != nil {
		return m.pred, nil
	}
	g := m.exec
	if g == nil {
		var err error
		if g, err = nn.Optimize(m.Net.Graph()); err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
	}
	var err error
	if m.pred, err = nn.NewPredictor(g, 0); err != nil {
		return nil, err
	}
	return m.pred, nil
}

// Refresh drops the inference copy, so that the next PredictImage uses
// Net's current weights (a TFLite model run in integers then runs Net,
// its float graph, too).
func (m *Model) Refresh() {
	m.mu.Lock()
	m.pred, m.exec, m.direct = nil, nil, nil
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
