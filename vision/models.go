package vision

import (
	"context"
	"fmt"
	"image"
	"slices"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/tflite"
)

// Labeler is the LABEL_DETECTION classifier: a TFLite model (safe for
// concurrent use) and its labels, one per output.
type Labeler struct {
	Model  *tflite.Model
	Labels []string
}

// label returns the top k classes, leaving out a "background" class.
func (l *Labeler) label(img image.Image, k int) ([]EntityAnnotation, error) {
	cs, err := l.Model.Classify(img, k+1, l.Labels)
	if err != nil {
		return nil, err
	}
	out := make([]EntityAnnotation, 0, k)
	for _, c := range cs {
		if c.Label == "background" {
			continue
		}
		name := c.Label
		if name == "" {
			name = fmt.Sprintf("class %d", c.Index)
		}
		if len(out) < k {
			out = append(out, EntityAnnotation{Description: name, Score: float64(c.Score), Topicality: float64(c.Score)})
		}
	}
	return out, nil
}

// ModelPool shares dlcv classifiers between requests. A classifier.Model
// reuses its layer buffers and is not safe for concurrent use, so each
// request borrows a copy; copies are loaded on demand, at most Size.
type ModelPool struct {
	Classes []string // the model's classes
	load    func() (*classifier.Model, error)
	free    chan *classifier.Model
	slots   chan struct{} // one token per copy that may still be loaded
}

// NewModelPool loads one copy now (so that a bad file fails at start-up)
// and up to size-1 more when requests need them. load must return an
// independent copy on each call (classifier.Load of a file does).
func NewModelPool(size int, load func() (*classifier.Model, error)) (*ModelPool, error) {
	size = max(size, 1)
	m, err := load()
	if err != nil {
		return nil, err
	}
	p := &ModelPool{Classes: slices.Clone(m.Classes), load: load, free: make(chan *classifier.Model, size), slots: make(chan struct{}, size-1)}
	for range size - 1 {
		p.slots <- struct{}{}
	}
	p.free <- m
	return p, nil
}

// Do runs f with a model copy that no one else uses meanwhile.
func (p *ModelPool) Do(ctx context.Context, f func(*classifier.Model) error) error {
	var m *classifier.Model
	select {
	case m = <-p.free:
	default:
		select {
		case m = <-p.free:
		case <-p.slots:
			var err error
			if m, err = p.load(); err != nil {
				p.slots <- struct{}{}
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { p.free <- m }()
	return f(m)
}

// PredictImage classifies img with a pooled copy.
func (p *ModelPool) PredictImage(ctx context.Context, img image.Image, topK int) ([]classifier.Prediction, error) {
	var ps []classifier.Prediction
	err := p.Do(ctx, func(m *classifier.Model) (err error) {
		ps, err = m.PredictImage(img, topK)
		return err
	})
	return ps, err
}

// Loaded is the number of copies loaded so far.
func (p *ModelPool) Loaded() int { return cap(p.free) - len(p.slots) }
