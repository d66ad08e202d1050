package vision

import (
	"fmt"
	"image"

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
