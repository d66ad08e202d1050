package smiles

import (
	"fmt"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/pipeline"
)

// Net describes the case study's network: LeNet (CONV 20 5x5, ReLU, POOL
// 2; CONV 50 5x5, ReLU, POOL 2; FC Dense, ReLU; FC softmax) with
// configurable filter counts and a
// configurable width of the hidden dense layer, which holds almost all of
// LeNet's weights (500 units: 1.25 M parameters, 5 MB in float32), and
// optional batch normalisation after each hidden layer and dropout
// before the classifier.
type Net struct {
	// Conv is the number of filters of the two convolutions; zero means
	// LeNet's 20 and 50.
	Conv      [2]int
	Dense     int     // hidden dense units (LeNet: 500)
	BatchNorm bool    // batch normalisation after each ReLU
	Dropout   float32 // dropout rate before the last dense layer (0: none)
	// DoubleConv makes each of the two stages a VGG-style block: two 3x3
	// convolutions (each followed by ReLU and, with BatchNorm, batch
	// normalisation) before the pooling, instead of one 5x5 convolution.
	DoubleConv bool
}

// DefaultNet is the shipped model's network: LeNet with a 64-unit dense
// layer (183 k parameters, 0.7 MB), as accurate as the 500-unit original
// on this task (see docs/smiles.md).
var DefaultNet = Net{Dense: 64}

// filters returns Conv with LeNet's defaults filled in.
func (n Net) filters() [2]int {
	if n.Conv == [2]int{} {
		return [2]int{20, 50}
	}
	return n.Conv
}

// Name is the architecture name recorded in model files: "lenet" for the
// original, else e.g. "lenet-fc64", "lenet-fc64-bn",
// "lenet-fc64-bn-drop0.5" or, with other filter counts,
// "lenet-c32-64-fc64"; with DoubleConv "vgg-c32-64-fc64-bn".
func (n Net) Name() string {
	f := n.filters()
	if f == [2]int{20, 50} && n.Dense == 500 && !n.BatchNorm && n.Dropout == 0 && !n.DoubleConv {
		return "lenet"
	}
	s := "lenet"
	if n.DoubleConv {
		s = "vgg"
	}
	if f != [2]int{20, 50} || n.DoubleConv {
		s += fmt.Sprintf("-c%d-%d", f[0], f[1])
	}
	s += fmt.Sprintf("-fc%d", n.Dense)
	if n.BatchNorm {
		s += "-bn"
	}
	if n.Dropout > 0 {
		s += fmt.Sprintf("-drop%g", n.Dropout)
	}
	return s
}

// Build makes the network for inputs of shape in (H, W, C) and the given
// number of classes, initialised from seed.
func (n Net) Build(in []int, classes int, seed uint64) (nn.Model, error) {
	f := n.filters()
	if n.Dense < 1 || f[0] < 1 || f[1] < 1 {
		return nil, fmt.Errorf("smiles: dense width %d and filters %v must be positive", n.Dense, f)
	}
	if !(n.Dropout >= 0 && n.Dropout < 1) {
		return nil, fmt.Errorf("smiles: dropout rate %v must be in [0, 1)", n.Dropout)
	}
	if classes < 2 {
		return nil, fmt.Errorf("smiles: need at least 2 classes, got %d", classes)
	}
	var ls []nn.Layer
	add := func(l ...nn.Layer) {
		ls = append(ls, l...)
		if n.BatchNorm {
			ls = append(ls, nn.NewBatchNorm(0, 0))
		}
	}
	for i, fi := range f {
		if n.DoubleConv {
			add(nn.NewConv2D(fi, 3, 1, nn.Same), nn.NewReLU())
			add(nn.NewConv2D(fi, 3, 1, nn.Same), nn.NewReLU())
		} else {
			add(nn.NewConv2D(fi, 5, 1, nn.Same), nn.NewReLU())
		}
		ls = append(ls, nn.NewMaxPool2D(2, 2))
		if i == len(f)-1 {
			ls = append(ls, nn.NewFlatten())
		}
	}
	add(nn.NewDense(n.Dense), nn.NewReLU())
	if n.Dropout > 0 {
		ls = append(ls, nn.NewDropout(n.Dropout))
	}
	ls = append(ls, nn.NewDense(classes), nn.NewSoftmax())
	m := nn.NewSequential(ls...)
	if err := m.Build(in, seed); err != nil {
		return nil, fmt.Errorf("smiles: %s for input %v: %w", n.Name(), in, err)
	}
	return m, nil
}

// TrainOptions returns the case study's training setup for the
// SMILEsmileD checkout at dir ("" uses $DLCV_SMILES): the network net,
// 28x28 grayscale faces (area-averaged from 64x64, as OpenCV's INTER_AREA
// does), a stratified 80/20 split with seed 42, class weights from the
// training split, Adam (lr 0.001), batch 64, 15 epochs.
func TrainOptions(dir string, net Net) pipeline.TrainOptions {
	ds := "smiles"
	if dir != "" {
		ds = "smiles:" + dir
	}
	p := data.SmilesPreprocess
	o := pipeline.TrainOptions{
		Load: pipeline.LoadOptions{
			Dataset:    ds,
			Preprocess: p,
			TestSplit:  pipeline.SmilesTestSplit,
			Seed:       42,
		},
		Arch:         net.Name(),
		Epochs:       15,
		BatchSize:    64,
		Optimizer:    "adam",
		LR:           0.001,
		ClassWeights: true,
	}
	if net.Name() != "lenet" {
		o.Net = net.Build
	}
	return o
}
