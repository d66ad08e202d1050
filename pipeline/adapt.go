package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Array datasets (MNIST, IDX folders, fashion-mnist, CIFAR) are stored at
// their own size; a network that takes another (a pretrained backbone's
// 224x224x3) gets each batch resized on the fly, as a Keras user writes
// tf.image.resize + grayscale_to_rgb in the input pipeline. The resized
// set is never materialised: 70,000 MNIST digits at 224x224x3 would be
// 10.5 GB of float32.

// arrayDataset reports whether Load gives spec's images at their stored
// size (see Load's switch) rather than decoding files to a chosen size.
func arrayDataset(spec string) bool {
	lower := strings.ToLower(datasetName(spec))
	if lower == "smiles" || strings.HasPrefix(lower, "smiles:") {
		return false
	}
	return lower == "mnist" || namedSource(lower) != nil || (!data.IsSmilesDir(spec) && data.IsIDXPath(spec))
}

// inputAdapter resizes batches of (h, w, c) images to (H, W, C) with the
// image-folder path's resize (data.Resize, the model's interpolation) and
// replicates one channel to three when C is 3 and c is 1: per pixel what
// Preprocess.ApplyTo does to a grayscale image file, so the saved model
// predicts from files what it was trained and scored on.
type inputAdapter struct {
	from, to []int // H, W, C
	interp   string
	out      *tensor.Tensor
}

// newInputAdapter adapts what's images of shape from to who (the model
// or backbone) that takes to, or says why it cannot.
func newInputAdapter(what, who string, from, to []int, p data.Preprocess) (*inputAdapter, error) {
	if len(from) != 3 || len(to) != 3 {
		return nil, fmt.Errorf("dataset %s: images %v, model input %v: want (height, width, channels) for both", what, from, to)
	}
	if c, C := from[2], to[2]; c != C && !(c == 1 && C == 3) {
		return nil, fmt.Errorf("dataset %s has %dx%dx%d images and %s takes %dx%dx%d: sizes are resized per batch and 1 channel is replicated to 3, but %d channels cannot become %d",
			what, from[1], from[0], c, who, to[1], to[0], C, c, C)
	}
	if p.AspectAware && from[0]*to[1] != from[1]*to[0] {
		return nil, fmt.Errorf("dataset %s: %dx%d images and %s taking %dx%d with --aspect (centre crop): crop is for image folders, resize the array dataset without it",
			what, from[1], from[0], who, to[1], to[0])
	}
	return &inputAdapter{from: slices.Clone(from), to: slices.Clone(to), interp: p.Interpolation}, nil
}

// batch returns x (N, h, w, c) resized to (N, H, W, C), in a buffer the
// adapter reuses: valid until the next call.
func (a *inputAdapter) batch(x *tensor.Tensor) (*tensor.Tensor, error) {
	if len(x.Shape) != 4 || !slices.Equal(x.Shape[1:], a.from) {
		return nil, fmt.Errorf("input adapter: batch %v, want (N, %d, %d, %d)", x.Shape, a.from[0], a.from[1], a.from[2])
	}
	n := x.Shape[0]
	if a.out == nil || a.out.Shape[0] != n {
		a.out = tensor.New(n, a.to[0], a.to[1], a.to[2])
	}
	sh, sw, c := a.from[0], a.from[1], a.from[2]
	H, W, C := a.to[0], a.to[1], a.to[2]
	in, out := sh*sw*c, H*W*C
	kernels.ParallelFunc(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst := a.out.Data[i*out : (i+1)*out]
			data.Resize(dst, H, W, x.Data[i*in:(i+1)*in], sh, sw, c, a.interp)
			if c == 1 && C == 3 {
				// Resized at one channel into the front of dst, spread
				// from the back so that no value is overwritten before
				// it is read.
				for p := H*W - 1; p >= 0; p-- {
					v := dst[p]
					dst[3*p], dst[3*p+1], dst[3*p+2] = v, v, v
				}
			}
		}
	})
	return a.out, nil
}

// preprocess is the model file's preprocessing for images the adapter's
// way: the target size and channels, the mean per target channel.
func (a *inputAdapter) preprocess(p data.Preprocess) data.Preprocess {
	q := data.Preprocess{Height: a.to[0], Width: a.to[1], Channels: a.to[2], AspectAware: p.AspectAware, Interpolation: p.Interpolation}
	if len(p.Mean) == 1 && a.to[2] == 3 {
		q.Mean = []float32{p.Mean[0], p.Mean[0], p.Mean[0]}
	} else {
		q.Mean = slices.Clone(p.Mean)
	}
	return q
}

// adaptedModel is a model that takes the adapter's source images.
type adaptedModel struct {
	nn.Model
	a *inputAdapter
}

func (m *adaptedModel) InputShape() []int { return slices.Clone(m.a.from) }

func (m *adaptedModel) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	y, err := m.a.batch(x)
	if err != nil {
		return nil, err
	}
	return m.Model.Forward(y, training)
}

func (m *adaptedModel) Predict(x *tensor.Tensor) (*tensor.Tensor, error) { return m.Forward(x, false) }

// loadAdapted is Load for a model that takes images of shape in (H, W,
// C): an array dataset is loaded at its own size with an adapter to in
// (nil when the sizes already agree); any other dataset is decoded at in
// (or lo.Preprocess's size) as before. The returned Preprocess is the
// model's; who names the model in errors.
func loadAdapted(lo LoadOptions, in []int, who string) (*Loaded, *inputAdapter, error) {
	if !arrayDataset(lo.Dataset) {
		ds, err := Load(lo, in)
		return ds, nil, err
	}
	p := lo.Preprocess
	want := slices.Clone(in)
	if p.Width != 0 {
		want[0], want[1] = p.Height, p.Width
	}
	if p.Channels != 0 {
		want[2] = p.Channels
	}
	native := lo
	native.Preprocess = data.Preprocess{}
	ds, err := Load(native, nil)
	if err != nil {
		return nil, nil, err
	}
	from := ds.Train.SampleShape()
	// The mean is subtracted from the stored channels, before the resize
	// (which keeps a constant): a replicated gray channel has one.
	mean := p.Mean
	if len(mean) == 3 && from[2] == 1 && want[2] == 3 {
		if mean[0] != mean[1] || mean[1] != mean[2] {
			return nil, nil, fmt.Errorf("dataset %s: grayscale images replicated to RGB take one mean for all channels, not %v", datasetName(lo.Dataset), mean)
		}
		mean = mean[:1]
	}
	if len(mean) > 0 {
		if len(mean) != from[2] {
			return nil, nil, fmt.Errorf("dataset %s: %d mean values for %d channels", datasetName(lo.Dataset), len(mean), from[2])
		}
		for _, d := range []*data.Dataset{ds.Train, ds.Val, ds.Test} {
			if d != nil && d.U8 != nil {
				d.U8.Mean = slices.Clone(mean)
			}
		}
	}
	if slices.Equal(from, want) {
		ds.Preprocess.Mean = slices.Clone(mean)
		return ds, nil, nil
	}
	a, err := newInputAdapter(datasetName(lo.Dataset), who, from, want, p)
	if err != nil {
		return nil, nil, err
	}
	ds.Preprocess = a.preprocess(data.Preprocess{AspectAware: p.AspectAware, Interpolation: p.Interpolation, Mean: mean})
	return ds, a, nil
}
