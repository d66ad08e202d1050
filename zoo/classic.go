package zoo

import (
	"fmt"

	"github.com/dlcv-go/dlcv/nn"
)

// The machine-learning baselines the course compares the networks with:
// k-nearest neighbours on raw pixels or colour histograms, and softmax
// (multinomial logistic) regression.

// Features a k-NN compares images by.
const (
	FeaturesPixels    = "pixels"
	FeaturesHistogram = "histogram"
)

// HistogramBins is the levels per channel of the colour-histogram
// features (8 x 8 x 8 cells for RGB, 8... 32 levels for grayscale).
const HistogramBins = 8

func init() {
	archs["knn"] = &Arch{
		Name:         "knn",
		Description:  "k-nearest neighbours (k 3; --k, --features pixels|histogram): stores the training set, predicts the majority class of the k nearest images",
		DefaultInput: []int{28, 28, 1},
		graph: func(in []int, classes int) (*nn.Graph, error) {
			g, _, err := KNN(in, classes, 3, FeaturesPixels)
			return g, err
		},
	}
	archs["softmax"] = &Arch{
		Name:         "softmax",
		Description:  "softmax regression (a linear classifier): flatten, dense softmax",
		DefaultInput: []int{28, 28, 1},
		layers: func(k int) []nn.Layer {
			return []nn.Layer{nn.NewFlatten(), nn.NewDense(k), nn.NewSoftmax()}
		},
	}
}

// KNN builds a k-NN classifier graph for images of shape in (H, W, C):
// the features (raw pixels, flattened; or a joint colour histogram of
// HistogramBins levels per channel, 32 levels for grayscale) feed an
// nn.KNN, whose training set the caller stores (nn.KNN.SetTrainingSet)
// after computing the features of the training images with the graph's
// feature node (the KNN node's input).
func KNN(in []int, classes, k int, features string) (*nn.Graph, *nn.KNN, error) {
	if len(in) != 3 {
		return nil, nil, fmt.Errorf("zoo: knn takes images (height, width, channels), got %v", in)
	}
	g := nn.NewGraph()
	x := g.Input("input", in...)
	switch features {
	case FeaturesPixels, "":
		x = g.Apply(nn.NewFlatten(), x)
	case FeaturesHistogram:
		bins := HistogramBins
		if in[2] == 1 {
			bins = 32
		}
		x = g.Apply(nn.NewColorHistogram(bins), x)
	default:
		return nil, nil, fmt.Errorf("zoo: k-NN features %q: want %q or %q", features, FeaturesPixels, FeaturesHistogram)
	}
	op := nn.NewKNN(k, classes)
	g.Output(g.Node("knn", op, x).Out(0))
	return g, op, nil
}
