package tflite

import (
	"bufio"
	"fmt"
	"image"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/dlcv-go/dlcv/tensor"
)

// Class is one classification result.
type Class struct {
	Index int
	Label string // empty when no labels are known
	Score float32
}

// InputSize is the model's input width and height.
func (m *Model) InputSize() (w, h int) {
	s := m.defs[m.input].Shape
	return s[2], s[1]
}

// Preprocess turns images into the model's input batch: RGB, resized
// PIL-style bilinear to the input size, then mapped to the input tensor's
// real values: for a uint8 input real = scale*(pixel - zero_point); for an
// int8 input the pixel is first shifted by -128; for a float input
// real = (pixel - 127.5) / 127.5 (the usual MobileNet normalisation).
func (m *Model) Preprocess(imgs ...image.Image) (*tensor.Tensor, error) {
	s := m.defs[m.input].Shape
	if s[3] != 3 {
		return nil, fmt.Errorf("tflite: input has %d channels, want 3 (RGB)", s[3])
	}
	w, h := m.InputSize()
	x := tensor.New(len(imgs), h, w, 3)
	mean, scale := pixelMap(&m.defs[m.input])
	for i, img := range imgs {
		if img == nil || img.Bounds().Empty() {
			return nil, fmt.Errorf("tflite: image %d is empty", i)
		}
		r := ResizeBilinear(ToRGB(img), w, h)
		dst := x.Data[i*h*w*3 : (i+1)*h*w*3]
		for k, p := range r.Pix {
			dst[k] = (float32(p) - mean) * scale
		}
	}
	return x, nil
}

// pixelMap gives the mapping of pixel values p in 0..255 onto an input
// tensor's real values, real = (p - mean) * scale: a quantized input's own
// dequantization (an int8 input sees p - 128), and for a float input the
// usual MobileNet normalisation (p - 127.5) / 127.5, which the file does
// not record.
func pixelMap(td *tensorDef) (mean, scale float32) {
	if q := td.Quant; q != nil && (td.Type == Uint8 || td.Type == Int8) {
		mean, scale = float32(q.ZeroPoint[0]), q.Scale[0]
		if td.Type == Int8 {
			mean += 128
		}
		return mean, scale
	}
	return 127.5, 1 / 127.5
}

// InputNorm is the normalisation Preprocess applies to pixel values p in
// 0..255: the input tensor gets (p - mean) / std. For a quantized input
// it is the input's dequantization (mean = zero point, std = 1/scale; an
// int8 input's zero point shifted by 128), for a float input MobileNet's
// mean = std = 127.5. ToGraph builds the same mapping into the graph.
func (m *Model) InputNorm() (mean, std float32) {
	td := &m.defs[m.input]
	mean, scale := pixelMap(td)
	if td.Quant == nil || (td.Type != Uint8 && td.Type != Int8) {
		return mean, 127.5 // exactly, not 1/float32(1/127.5)
	}
	return mean, float32(1 / float64(scale))
}

// Classify runs the model on one image and returns the topK classes by
// score, best first. Scores are the model's probabilities (a softmax is
// applied when the graph does not end in one). labels may be nil.
func (m *Model) Classify(img image.Image, topK int, labels []string) ([]Class, error) {
	x, err := m.Preprocess(img)
	if err != nil {
		return nil, err
	}
	y, err := m.Run(x)
	if err != nil {
		return nil, err
	}
	return m.TopK(y.Data, topK, labels), nil
}

// Probabilities returns one output row as probabilities: as it is when
// the graph ends in a softmax, else through one.
func (m *Model) Probabilities(scores []float32) []float32 {
	if m.probs {
		return scores
	}
	return softmax(scores)
}

// TopK ranks one output row (ties by lower index first).
func (m *Model) TopK(scores []float32, k int, labels []string) []Class {
	p := scores
	if !m.probs {
		p = softmax(scores)
	}
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	k = min(max(k, 0), len(idx))
	out := make([]Class, k)
	for i := range out {
		out[i] = Class{Index: idx[i], Score: p[idx[i]]}
		if idx[i] < len(labels) {
			out[i].Label = labels[idx[i]]
		}
	}
	return out
}

func softmax(x []float32) []float32 {
	out := make([]float32, len(x))
	if len(x) == 0 {
		return out
	}
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
	return out
}

// LoadLabels reads a label file: one label per line, line i = class i.
func LoadLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		labels = append(labels, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%s: no labels", path)
	}
	return labels, nil
}
