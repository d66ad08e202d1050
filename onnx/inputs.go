package onnx

import (
	"fmt"
	"image"
	"os"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/tensor"
)

// ReadInput reads a tensor file in the ONNX layout: a NumPy .npy or a
// serialized TensorProto (.pb, as in ONNX's test data).
func ReadInput(path string) (*tensor.Tensor, error) {
	k, err := modelfile.SniffFile(path)
	if err != nil {
		return nil, err
	}
	if k == modelfile.NumPy {
		return npy.ReadFile(path)
	}
	if k != modelfile.Unknown {
		return nil, fmt.Errorf("%s is %s, not a tensor (.npy or TensorProto .pb)", path, k.Describe())
	}
	d, err := ReadTensorFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (want a .npy or a TensorProto .pb file)", err)
	}
	return d.Tensor(), nil
}

// ImageOptions say how a photo becomes an input tensor: resized to
// Height x Width (0: the input's declared size, else the photo's),
// values v in [0, 255] become (v*Scale - Mean[c]) / Std[c] (Scale 0
// means 1/255; no Mean or Std: 0 and 1), channels RGB unless BGR.
type ImageOptions struct {
	Height, Width int
	Mean, Std     []float32
	Scale         float32
	BGR           bool
}

// WithDefaults fills the options the metadata gives (Preprocess) where
// the caller left them unset.
func (o ImageOptions) WithDefaults(p Preprocess) ImageOptions {
	if o.Height == 0 && o.Width == 0 {
		o.Height, o.Width = p.Height, p.Width
	}
	if o.Mean == nil {
		o.Mean = p.Mean
	}
	if o.Std == nil {
		o.Std = p.Std
	}
	if o.Scale == 0 {
		o.Scale = p.Scale
	}
	if !o.BGR && p.ColorOrder == "BGR" {
		o.BGR = true
	}
	return o
}

// ImageInput makes the tensor of a batch of one photo for an image input
// (ONNX shape (N, 3, H, W) or (N, 1, H, W)), in the input's dlcv layout:
// what Imported.Run takes.
func (io IOInfo) ImageInput(img image.Image, o ImageOptions) (*tensor.Tensor, error) {
	if len(io.Shape) != 4 {
		return nil, fmt.Errorf("input %q has shape %s, not an image batch (N, C, H, W)", io.Name, dimsText(io))
	}
	ch := io.Shape[1]
	if ch != 1 && ch != 3 {
		return nil, fmt.Errorf("input %q has %d channels; an image input has 1 or 3", io.Name, ch)
	}
	b := img.Bounds()
	h, w := o.Height, o.Width
	if h == 0 {
		h = io.Shape[2]
	}
	if w == 0 {
		w = io.Shape[3]
	}
	if h <= 0 {
		h = b.Dy()
	}
	if w <= 0 {
		w = b.Dx()
	}
	if (io.Shape[2] > 0 && h != io.Shape[2]) || (io.Shape[3] > 0 && w != io.Shape[3]) {
		return nil, fmt.Errorf("input %q takes %dx%d images, asked for %dx%d", io.Name, io.Shape[2], io.Shape[3], h, w)
	}
	src := data.ToFloat(img, ch) // HWC in [0, 1]
	hwc := make([]float32, h*w*ch)
	data.Resize(hwc, h, w, src, b.Dy(), b.Dx(), ch, "bilinear")
	scale := o.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	for _, s := range o.Std {
		if s == 0 {
			return nil, fmt.Errorf("a std of 0")
		}
	}
	nhwc := tensor.New(1, h, w, ch)
	for i := range h * w {
		for c := range ch {
			sc := c
			if o.BGR && ch == 3 {
				sc = 2 - c
			}
			v := hwc[i*ch+sc] * 255 * scale
			if len(o.Mean) > 0 {
				v -= o.Mean[c%len(o.Mean)]
			}
			if len(o.Std) > 0 {
				v /= o.Std[c%len(o.Std)]
			}
			nhwc.Data[i*ch+c] = v
		}
	}
	// The input's own layout: NHWC is (0, 2, 3, 1) of NCHW.
	if len(io.Perm) == 4 && io.Perm[1] == 2 && io.Perm[2] == 3 && io.Perm[3] == 1 {
		return nhwc, nil
	}
	nchw := transposeTensor(nhwc, []int{0, 3, 1, 2})
	return io.FromONNX(nchw)
}

// DecodeImage reads a photo (JPEG, PNG, GIF, BMP) for ImageInput.
func DecodeImage(path string) (image.Image, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return data.DecodeImage(path, 0)
}
