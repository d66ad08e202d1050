package train

import (
	"fmt"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Result is a model's performance on a dataset.
type Result struct {
	Loss     float64
	Accuracy float64
	// Pred is the predicted class of each sample, in dataset order.
	Pred []int
	// Probs is (N, classes): the model's output for each sample.
	Probs *tensor.Tensor
}

// Evaluate runs m in inference mode over d in batches and returns the mean
// loss (categorical cross-entropy when loss is nil), accuracy, predictions
// and probabilities.
func Evaluate(m nn.Model, d *data.Dataset, batchSize int, loss nn.Loss) (*Result, error) {
	if batchSize <= 0 {
		batchSize = 256
	}
	if loss == nil {
		loss = nn.NewCategoricalCrossEntropy()
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if !tensor.EqualShape(d.SampleShape(), m.InputShape()) {
		return nil, fmt.Errorf("evaluate: images are %s, the model takes %s", tensor.ShapeString(d.SampleShape()), tensor.ShapeString(m.InputShape()))
	}
	return evaluate(m, d, batchSize, loss)
}

func evaluate(m nn.Model, d *data.Dataset, batchSize int, loss nn.Loss) (*Result, error) {
	batches, err := data.NewBatcher(d, batchSize, data.BatchOptions{})
	if err != nil {
		return nil, err
	}
	out := m.OutputShape()
	classes := out[len(out)-1]
	r := &Result{Probs: tensor.New(d.Len(), classes), Pred: make([]int, d.Len())}
	var lossSum float64
	correct := 0
	for b := range batches.Epoch() {
		y, err := m.Forward(b.X, false)
		if err != nil {
			return nil, err
		}
		l, err := loss.Forward(y, b.OneHot)
		if err != nil {
			return nil, err
		}
		lossSum += l * float64(len(b.Y))
		for i, idx := range b.Indices {
			row := y.Data[i*classes : (i+1)*classes]
			copy(r.Probs.Data[idx*classes:], row)
			r.Pred[idx] = argmax(row)
			if r.Pred[idx] == b.Y[i] {
				correct++
			}
		}
	}
	r.Loss = lossSum / float64(d.Len())
	r.Accuracy = float64(correct) / float64(d.Len())
	return r, nil
}
