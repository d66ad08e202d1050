package annotate

import (
	"fmt"
	"image"

	"github.com/dlcv-go/dlcv/tflite"
)

// Labeler is LABEL_DETECTION: a TFLite classifier (safe for concurrent
// use) and its labels, one per output. Create it with NewLabeler, which
// checks the labels against the model.
type Labeler struct {
	Model  *tflite.Model
	Labels []string
}

// NewLabeler pairs a classifier with its labels (nil: none, labels are
// "class N"). A label list that does not fit the model's outputs is an
// error (see CheckLabels); warn, when not nil, receives CheckLabels'
// warnings.
func NewLabeler(m *tflite.Model, labels []string, labelsFile string, warn func(string)) (*Labeler, error) {
	shape := m.OutputShape()
	if len(shape) == 0 {
		return nil, fmt.Errorf("the classifier has a scalar output, not one score per class")
	}
	n := shape[len(shape)-1]
	labels, warning, err := CheckLabels(labels, n, labelsFile)
	if err != nil {
		return nil, err
	}
	if warning != "" && warn != nil {
		warn(warning)
	}
	return &Labeler{Model: m, Labels: labels}, nil
}

// CheckLabels checks a label list (read from file, for messages) against
// a classifier's number of outputs and returns the labels to use.
//
//   - As many labels as outputs: used as they are.
//   - One label fewer than outputs, for a model with a "background"
//     output 0 (ImageNet models with 1001 outputs and a 1000-line file):
//     "background" is put first, so labels do not shift by one, with a
//     warning.
//   - One more label than outputs and the first is "background" (a
//     1001-line file for a 1000-output model): the first is dropped, with
//     a warning.
//   - Any other mismatch is an error naming the file and both counts.
//   - No labels: nil and a warning (results are named "class N").
func CheckLabels(labels []string, outputs int, file string) (fixed []string, warning string, err error) {
	name := file
	if name == "" {
		name = "the label list"
	}
	switch n := len(labels); {
	case n == 0:
		return nil, fmt.Sprintf("no labels for the model's %d outputs: results are named \"class N\" (give a label file)", outputs), nil
	case n == outputs:
		return labels, "", nil
	case n == outputs-1 && labels[0] != "background":
		fixed = append([]string{"background"}, labels...)
		return fixed, fmt.Sprintf("%s has %d labels for %d outputs: taking output 0 as \"background\"", name, n, outputs), nil
	case n == outputs+1 && labels[0] == "background":
		return labels[1:], fmt.Sprintf("%s has %d labels for %d outputs: dropping its first line, \"background\"", name, n, outputs), nil
	default:
		return nil, "", fmt.Errorf("%s has %d labels but the model has %d outputs: give the model's own label file", name, n, outputs)
	}
}

// Label returns the top k classes with a score of at least minScore,
// leaving out a "background" class.
func (l *Labeler) Label(img image.Image, k int, minScore float64) ([]EntityAnnotation, error) {
	cs, err := l.Model.Classify(img, k+1, l.Labels)
	if err != nil {
		return nil, err
	}
	out := make([]EntityAnnotation, 0, k)
	for _, c := range cs {
		if c.Label == "background" || float64(c.Score) < minScore {
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
