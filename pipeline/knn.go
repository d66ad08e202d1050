package pipeline

import (
	"fmt"
	"math"
	"time"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/train"
	"github.com/dlcv-go/dlcv/zoo"
)

// fitKNN builds the k-NN graph and stores the training set's features in
// it: a k-NN's whole training. The history has one entry with the
// validation metrics (no loss: k-NN minimises none).
func fitKNN(o TrainOptions, ds *Loaded) (nn.Model, *train.History, error) {
	k := o.K
	if k == 0 {
		k = 3
	}
	if k < 1 {
		return nil, nil, fmt.Errorf("k-NN: k %d must be >= 1", k)
	}
	classes := len(ds.Train.Classes)
	g, op, err := zoo.KNN(ds.Train.SampleShape(), classes, k, o.Features)
	if err == nil {
		err = g.Build(o.Load.Seed)
	}
	if err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	feat := g.NodeByName("knn").Inputs[0]
	d := feat.Shape()[1]
	points := make([]float32, 0, ds.Train.Len()*d)
	s := g.NewSession()
	batches, err := data.NewBatcher(ds.Train, 256, data.BatchOptions{})
	if err != nil {
		return nil, nil, err
	}
	for b := range batches.Epoch() {
		f, err := s.RunValues(false, []*tensor.Tensor{b.X}, []*nn.Value{feat})
		if err != nil {
			return nil, nil, err
		}
		points = append(points, f[0].Data...)
	}
	if err := op.SetTrainingSet(points, ds.Train.Y); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(o.Log, "[INFO] k-NN (k %d, %s features, %d values each): stored %d training images (%.1f MB)\n",
		k, featureName(o.Features), d, ds.Train.Len(), float64(len(points))*4/1e6)
	h := &train.History{}
	e := train.EpochLogs{Epoch: 1, Loss: math.NaN(), Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN()}
	if ds.Val != nil {
		r, err := train.Evaluate(g, ds.Val, 256, nil)
		if err != nil {
			return nil, nil, err
		}
		e.ValLoss, e.ValAccuracy = r.Loss, r.Accuracy
		fmt.Fprintf(o.Log, "[INFO] validation accuracy %.4f\n", r.Accuracy)
	}
	e.Seconds = time.Since(t0).Seconds()
	h.Epochs = append(h.Epochs, e)
	return g, h, nil
}

func featureName(f string) string {
	if f == "" {
		return zoo.FeaturesPixels
	}
	return f
}
