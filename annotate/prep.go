package annotate

import (
	"fmt"
	"image"
	"os"
	"slices"
	"sync"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
)

// resized returns img's RGB values (0..255) resized to w x h as one
// NHWC batch (1, h, w, 3), by TensorFlow's resizeBilinear with
// half-pixel centres (kernels.HalfPixel), which is what the TF.js
// models' own pipelines call: the reference runs resize the same way.
// The 8-bit pixels are interpolated directly (the same values as from
// their float copy, which cost more than the resize).
//
// The RGB copy and the returned tensor's storage come from pools (a
// request's photo and model input are megabytes, which allocating cleared
// each time); give the tensor back with release when done with it.
func resized(img image.Image, w, h int) *tensor.Tensor {
	rgb, _ := rgbPool.Get().(*tflite.RGB)
	rgb = tflite.ToRGBInto(rgb, img)
	n := h * w * 3
	data, _ := inputPool.Get().([]float32)
	if cap(data) < n {
		data = make([]float32, n)
	}
	x := &tensor.Tensor{Shape: []int{1, h, w, 3}, Data: data[:n]}
	kernels.ResizeBilinearU8ToF32(x.Data, rgb.Pix, kernels.ResizeGeom{N: 1, H: rgb.H, W: rgb.W, C: 3, OH: h, OW: w, Coord: kernels.HalfPixel})
	rgbPool.Put(rgb)
	return x
}

// release returns a tensor from resized to the pool; x must not be used
// after.
func release(x *tensor.Tensor) {
	inputPool.Put(x.Data[:0]) // boxing the slice header: 24 bytes a call
}

var (
	rgbPool   sync.Pool // *tflite.RGB
	inputPool sync.Pool // []float32
)

// graphModel is an imported TF.js model served concurrently: a session
// pool over its graph, optimised for inference (batch norms folded,
// residual additions and activations in the convolutions' epilogues:
// BlazeFace runs 83 nodes instead of 145, NSFW MobileNetV2 66 instead of
// 163).
type graphModel struct {
	path string
	m    *tfjs.Model
	p    *nn.Predictor
}

// loadGraphModel imports a TF.js model and checks its input shape
// (dimensions -1 match anything).
func loadGraphModel(path string, wantInput []int) (*graphModel, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	m, err := tfjs.Load(path)
	if err != nil {
		return nil, err
	}
	if len(m.Graph.Inputs()) != 1 {
		return nil, fmt.Errorf("%s: %d inputs, want 1", path, len(m.Graph.Inputs()))
	}
	in := m.Graph.Inputs()[0].Shape()
	ok := len(in) == len(wantInput)
	for i := 0; ok && i < len(in); i++ {
		ok = in[i] == wantInput[i] || in[i] < 0 || wantInput[i] < 0
	}
	if !ok {
		return nil, fmt.Errorf("%s: input shape %v, want %v: not the expected model", path, in, wantInput)
	}
	exec, err := nn.Optimize(m.Graph)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := nn.NewPredictor(exec, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &graphModel{path: path, m: m, p: p}, nil
}

// run computes the named values (TF.js names) for input x; f gets them
// while they are valid.
func (g *graphModel) run(x *tensor.Tensor, names []string, f func(ys []*tensor.Tensor) error) error {
	vals := make([]*nn.Value, len(names))
	for i, n := range names {
		v := g.m.Value(n)
		if v == nil {
			return fmt.Errorf("%s: no tensor %q: not the expected model", g.path, n)
		}
		// The optimised graph keeps the outputs in order; other values
		// may have been fused away.
		j := slices.Index(g.m.Graph.Outputs(), v)
		if j < 0 {
			return fmt.Errorf("%s: tensor %q is not an output of the model", g.path, n)
		}
		vals[i] = g.p.Graph().Outputs()[j]
	}
	return g.p.Do(func(s *nn.Session) error {
		ys, err := s.RunValues(false, []*tensor.Tensor{x}, vals)
		if err != nil {
			return fmt.Errorf("%s: %w", g.path, err)
		}
		return f(ys)
	})
}
