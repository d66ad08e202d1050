package classifier

import (
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/modelfile"
	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tflite"
	"github.com/dlcv-go/dlcv/zoo"
)

// The tiny models here average each channel of the image and apply a
// dense layer: on a one-colour photo their probabilities follow from the
// preprocessing alone, so the tests check scale, mean, std, channel order
// and layout against a computation done by hand.

var (
	tinyW = [2][3]float32{{0.02, -0.01, 0.005}, {-0.015, 0.03, -0.02}} // (class, channel)
	tinyB = [2]float32{0.1, -0.2}
	rgb   = [3]float64{200, 100, 50}
)

// want is the expected probabilities for the one-colour photo: channel c
// of the input is (p*scale - mean[c]) / std[c] of pixel p, in BGR order
// when bgr.
func want(scale float64, mean, std []float64, bgr bool) [2]float64 {
	var x [3]float64
	for c := range 3 {
		p := rgb[c]
		if bgr {
			p = rgb[2-c]
		}
		x[c] = p * scale
		if mean != nil {
			x[c] -= mean[c]
		}
		if std != nil {
			x[c] /= std[c]
		}
	}
	var l [2]float64
	for k := range 2 {
		l[k] = float64(tinyB[k])
		for c := range 3 {
			l[k] += float64(tinyW[k][c]) * x[c]
		}
	}
	m := math.Max(l[0], l[1])
	e0, e1 := math.Exp(l[0]-m), math.Exp(l[1]-m)
	return [2]float64{e0 / (e0 + e1), e1 / (e0 + e1)}
}

func photo() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 9, 7))
	for y := range 7 {
		for x := range 9 {
			img.Set(x, y, color.RGBA{uint8(rgb[0]), uint8(rgb[1]), uint8(rgb[2]), 255})
		}
	}
	return img
}

// checkProbs compares PredictImage's probabilities with want; 1e-5 is
// float32 rounding over a handful of operations.
func checkProbs(t *testing.T, m *Model, w [2]float64) {
	t.Helper()
	ps, err := m.PredictImage(photo(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d predictions", len(ps))
	}
	for _, p := range ps {
		if math.Abs(p.Probability-w[p.Index]) > 1e-5 {
			t.Fatalf("class %d: probability %.7f, want %.7f (all: %+v)", p.Index, p.Probability, w[p.Index], ps)
		}
	}
}

// A minimal ONNX encoder (field numbers of onnx.proto).

type pb []byte

func (m pb) str(n protowire.Number, s string) pb {
	return protowire.AppendString(protowire.AppendTag(m, n, protowire.BytesType), s)
}
func (m pb) sub(n protowire.Number, b pb) pb {
	return protowire.AppendBytes(protowire.AppendTag(m, n, protowire.BytesType), b)
}
func (m pb) int(n protowire.Number, v int64) pb {
	return protowire.AppendVarint(protowire.AppendTag(m, n, protowire.VarintType), uint64(v))
}

func onnxTensor(name string, dims []int64, vals []float32) pb {
	var m pb
	for _, d := range dims {
		m = m.int(1, d)
	}
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return m.int(2, onnx.TypeFloat).str(8, name).sub(9, raw)
}

func onnxValue(name string, dims ...int64) pb {
	var shape pb
	for i, d := range dims {
		if d < 0 {
			shape = shape.sub(1, pb(nil).str(2, "d"+string(rune('0'+i))))
		} else {
			shape = shape.sub(1, pb(nil).int(1, d))
		}
	}
	return pb(nil).str(1, name).sub(2, pb(nil).sub(1, pb(nil).int(1, onnx.TypeFloat).sub(2, shape)))
}

func onnxNode(op string, in, out []string, attrs ...pb) pb {
	var m pb
	for _, s := range in {
		m = m.str(1, s)
	}
	for _, s := range out {
		m = m.str(2, s)
	}
	m = m.str(3, out[0]).str(4, op)
	for _, a := range attrs {
		m = m.sub(5, a)
	}
	return m
}

func intAttr(name string, v int64) pb { return pb(nil).str(1, name).int(3, v).int(20, 2) }
func intsAttr(name string, v ...int64) pb {
	m := pb(nil).str(1, name).int(20, 7)
	for _, x := range v {
		m = m.int(8, x)
	}
	return m
}

// tinyONNX: x (N, 3, h, w) -> mean over H, W -> Gemm -> [Softmax]. With
// gap the mean is GlobalAveragePool (a spatial op: the importer makes the
// input channels last); without it ReduceMean, and the input stays NCHW.
func tinyONNX(t *testing.T, gap, softmax bool, meta map[string]string, h, w int64) string {
	wv := []float32{tinyW[0][0], tinyW[0][1], tinyW[0][2], tinyW[1][0], tinyW[1][1], tinyW[1][2]}
	var nodes []pb
	if gap {
		nodes = append(nodes, onnxNode("GlobalAveragePool", []string{"x"}, []string{"p"}),
			onnxNode("Flatten", []string{"p"}, []string{"m"}))
	} else {
		nodes = append(nodes, onnxNode("ReduceMean", []string{"x"}, []string{"m"}, intsAttr("axes", 2, 3), intAttr("keepdims", 0)))
	}
	out := "y"
	if softmax {
		out = "logits"
	}
	nodes = append(nodes, onnxNode("Gemm", []string{"m", "W", "B"}, []string{out}, intAttr("transB", 1)))
	if softmax {
		nodes = append(nodes, onnxNode("Softmax", []string{"logits"}, []string{"y"}, intAttr("axis", 1)))
	}
	var g pb
	for _, n := range nodes {
		g = g.sub(1, n)
	}
	g = g.str(2, "tiny").sub(5, onnxTensor("W", []int64{2, 3}, wv)).sub(5, onnxTensor("B", []int64{2}, tinyB[:]))
	g = g.sub(11, onnxValue("x", -1, 3, h, w)).sub(12, onnxValue("y", -1, 2))
	m := pb(nil).int(1, 8).str(2, "dlcv-test").sub(7, g).sub(8, pb(nil).str(1, "").int(2, 13))
	for k, v := range meta {
		m = m.sub(14, pb(nil).str(1, k).str(2, v))
	}
	p := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := os.WriteFile(p, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenONNX(t *testing.T) {
	// The metadata says everything: size, mean, std, BGR.
	meta := map[string]string{"image_size": "6x5", "mean": "0.4,0.5,0.6", "std": "0.2,0.25,0.3", "color_order": "BGR"}
	p := tinyONNX(t, true, true, meta, -1, -1)
	m, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != modelfile.ONNX || m.Logits || m.Preprocess.Height != 6 || m.Preprocess.Width != 5 || m.Preprocess.Channels != 3 {
		t.Fatalf("opened %+v", m)
	}
	checkProbs(t, m, want(1.0/255, []float64{0.4, 0.5, 0.6}, []float64{0.2, 0.25, 0.3}, true))

	// Options win over the metadata.
	m, err = Open(p, OpenOptions{Mean: []float32{1, 2, 3}, Std: []float32{4, 5, 6}, Scale: 0.5, Height: 3, Width: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkProbs(t, m, want(0.5, []float64{1, 2, 3}, []float64{4, 5, 6}, true))

	// A logits output gets a softmax; an input that reaches no spatial op
	// stays NCHW, and the classifier lays the photo out so.
	p = tinyONNX(t, false, false, nil, 4, 4)
	if _, err := Open(p, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "--scale") || !strings.Contains(err.Error(), "--mean") {
		t.Fatalf("no normalisation: got %v", err)
	}
	if _, err := Open(p, OpenOptions{Scale: 1, Height: 5, Width: 4}); err == nil || !strings.Contains(err.Error(), "takes 4x4 images, not 5x4") {
		t.Fatalf("wrong size: got %v", err)
	}
	m, err = Open(p, OpenOptions{Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Logits || !tensor.EqualShape(m.Net.InputShape(), []int{4, 4, 3}) {
		t.Fatalf("logits %v, input %v", m.Logits, m.Net.InputShape())
	}
	checkProbs(t, m, want(1, nil, nil, false))

	// Any size, and the file does not say: --size.
	p = tinyONNX(t, true, true, nil, -1, -1)
	if _, err := Open(p, OpenOptions{Scale: 1}); err == nil || !strings.Contains(err.Error(), "--size") {
		t.Fatalf("dynamic size: got %v", err)
	}
	// (N, 3, 4, 3) kept NCHW: channels first or last?
	p = tinyONNX(t, false, false, nil, 4, 3)
	if _, err := Open(p, OpenOptions{Scale: 1}); err == nil || !strings.Contains(err.Error(), "--layout") {
		t.Fatalf("ambiguous layout: got %v", err)
	}
	m, err = Open(p, OpenOptions{Scale: 1, Layout: "nchw", BGR: true})
	if err != nil {
		t.Fatal(err)
	}
	checkProbs(t, m, want(1, nil, nil, true))

	// The mapping is part of the network: saved and loaded as a dlcv
	// classifier, and run on Preprocess's output directly (as evaluation
	// and training do), it gives the same.
	saved := filepath.Join(t.TempDir(), "c.safetensors")
	if err := m.Save(saved); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	checkProbs(t, m2, want(1, nil, nil, true))
	x, err := m2.Preprocess.Apply(photo())
	if err != nil {
		t.Fatal(err)
	}
	y, err := m2.Net.Predict(&tensor.Tensor{Shape: []int{1, 4, 3, 3}, Data: x})
	if err != nil {
		t.Fatal(err)
	}
	w := want(1, nil, nil, true)
	if p := Softmax(y.Data); math.Abs(float64(p[0])-w[0]) > 1e-5 {
		t.Fatalf("Net on preprocessed pixels: %v, want %v", p, w)
	}
}

// A model converted by `dlcv convert` (Imported.SaveFile) opens as the
// ONNX file does, its metadata_props kept.
func TestOpenConverted(t *testing.T) {
	meta := map[string]string{"image_size": "6x5", "mean": "0.4,0.5,0.6", "std": "0.2,0.25,0.3"}
	im, err := onnx.Load(tinyONNX(t, true, true, meta, -1, -1), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := im.SaveFile(p); err != nil {
		t.Fatal(err)
	}
	m, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != modelfile.Safetensors {
		t.Fatalf("format %q", m.Format)
	}
	checkProbs(t, m, want(1.0/255, []float64{0.4, 0.5, 0.6}, []float64{0.2, 0.25, 0.3}, false))
}

// tinyLayers writes a TF.js layers model: GlobalAveragePooling2D, Dense
// with a softmax, float32 weights in one shard.
func tinyLayers(t *testing.T, dir string) string {
	topo := map[string]any{
		"class_name": "Sequential",
		"config": map[string]any{"name": "tiny", "layers": []any{
			map[string]any{"class_name": "GlobalAveragePooling2D", "config": map[string]any{"name": "gap", "data_format": "channels_last", "batch_input_shape": []any{nil, 8, 8, 3}, "dtype": "float32"}},
			map[string]any{"class_name": "Dense", "config": map[string]any{"name": "dense", "units": 2, "activation": "softmax", "use_bias": true}},
		}},
		"keras_version": "tfjs-layers 4.22.0", "backend": "tensor_flow.js",
	}
	var shard []byte
	for c := range 3 { // kernel (in, out)
		for k := range 2 {
			shard = binary.LittleEndian.AppendUint32(shard, math.Float32bits(tinyW[k][c]))
		}
	}
	for k := range 2 {
		shard = binary.LittleEndian.AppendUint32(shard, math.Float32bits(tinyB[k]))
	}
	mj := map[string]any{"format": "layers-model", "generatedBy": "dlcv classifier test", "modelTopology": topo,
		"weightsManifest": []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{
			map[string]any{"name": "dense/kernel", "shape": []int{3, 2}, "dtype": "float32"},
			map[string]any{"name": "dense/bias", "shape": []int{2}, "dtype": "float32"}}}}}
	b, err := json.Marshal(mj)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), shard, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenTFJSLayers(t *testing.T) {
	dir := t.TempDir()
	p := tinyLayers(t, dir)
	var warned []string
	warn := func(s string) { warned = append(warned, s) }
	if _, err := Open(p, OpenOptions{Warn: warn}); err == nil || !strings.Contains(err.Error(), "--scale") {
		t.Fatalf("no normalisation: got %v", err)
	}
	m, err := Open(p, OpenOptions{Scale: 1.0 / 255, Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != modelfile.TFJS || m.Logits || len(m.Classes) != 0 || len(warned) != 1 || !strings.Contains(warned[0], "--labels") {
		t.Fatalf("format %q logits %v classes %q warnings %q", m.Format, m.Logits, m.Classes, warned)
	}
	checkProbs(t, m, want(1.0/255, nil, nil, false))

	// A label file beside the model is found; its count is checked.
	if err := os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("warm\ncold\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err = Open(p, OpenOptions{Scale: 1.0 / 255}); err != nil || strings.Join(m.Classes, ",") != "warm,cold" {
		t.Fatalf("labels beside: %v %q", err, m.Classes)
	}
	bad := filepath.Join(dir, "three.txt")
	os.WriteFile(bad, []byte("a\nb\nc\n"), 0o644)
	if _, err := Open(p, OpenOptions{Scale: 1.0 / 255, Labels: bad}); err == nil || !strings.Contains(err.Error(), "3 labels, the model outputs 2 classes") {
		t.Fatalf("label count: got %v", err)
	}
}

func TestOpenDlcvClassifier(t *testing.T) {
	net, err := zoo.New("shallownet", []int{8, 8, 3}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Net: net, Classes: []string{"cat", "dog", "panda"}, Preprocess: data.Preprocess{Width: 8, Height: 8, Channels: 3}}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	m2, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := m.PredictImage(photo(), 0)
	p2, err := m2.PredictImage(photo(), 0)
	if err != nil || len(p2) != 3 || p1[0] != p2[0] || strings.Join(m2.Classes, ",") != "cat,dog,panda" {
		t.Fatalf("%v: %v vs %v", err, p1, p2)
	}
	if _, err := Open(p, OpenOptions{Mean: []float32{0.5}}); err == nil || !strings.Contains(err.Error(), "dlcv classifier") {
		t.Fatalf("flags on a dlcv classifier: got %v", err)
	}
}

func TestOpenWrongKind(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.npy")
	if err := npy.WriteFile(p, tensor.New(2, 2)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p, OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "NumPy array") || !strings.Contains(err.Error(), "an ONNX model") {
		t.Fatalf("got %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.onnx"), OpenOptions{}); err == nil {
		t.Fatal("a missing file opened")
	}
}

func TestAlignLabels(t *testing.T) {
	l1000 := make([]string, 1000)
	for i := range l1000 {
		l1000[i] = "c"
	}
	bg := append([]string{"background"}, l1000...)
	if got, err := AlignLabels(bg, 1000); err != nil || len(got) != 1000 {
		t.Fatalf("1001 with background for 1000: %d %v", len(got), err)
	}
	if got, err := AlignLabels(l1000, 1001); err != nil || len(got) != 1001 || got[0] != "background" {
		t.Fatalf("1000 for 1001: %d %v", len(got), err)
	}
	if _, err := AlignLabels(append([]string{"tench"}, l1000...), 1000); err == nil || !strings.Contains(err.Error(), "1001 labels, the model outputs 1000 classes") {
		t.Fatalf("1001 without background: %v", err)
	}
	if _, err := AlignLabels(l1000[:998], 1000); err == nil || !strings.Contains(err.Error(), "998 labels") {
		t.Fatalf("998 for 1000: %v", err)
	}
}

// The Coral MobileNet: in integers, Open gives exactly what the TFLite
// interpreter's own Classify does; dequantized, the same top class.
func TestOpenTFLiteCoral(t *testing.T) {
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testutil.SharedFile(t, "models/coral/imagenet_labels.txt")
	img, err := data.DecodeImage(testutil.SharedFile(t, "models/coral/cat.bmp"), 0)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := tm.Classify(img, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(model, OpenOptions{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.PredictImage(img, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if p.Index != ref[i].Index || float32(p.Probability) != ref[i].Score {
			t.Fatalf("rank %d: %+v, the interpreter says %+v", i, p, ref[i])
		}
	}
	if ps[0].Label != "Egyptian cat" {
		t.Fatalf("top: %+v", ps[0])
	}
	dq, err := Open(model, OpenOptions{Labels: labels, Dequantize: true})
	if err != nil {
		t.Fatal(err)
	}
	dp, err := dq.PredictImage(img, 1)
	if err != nil || dp[0].Index != ps[0].Index {
		t.Fatalf("dequantized: %v %+v", err, dp)
	}
	if _, err := Open(model, OpenOptions{Mean: []float32{127}}); err == nil || !strings.Contains(err.Error(), "quantized") {
		t.Fatalf("flags on a quantized model: got %v", err)
	}
}

// The NSFW layers model and the emotion graph model open with their
// documented preprocessing (scale to [0, 1]).
func TestOpenTFJSShared(t *testing.T) {
	for _, f := range []string{"models/tfjs/nsfw-mobilenet-v2/model.json", "models/tfjs/human/emotion.json"} {
		p := testutil.SharedFile(t, f)
		m, err := Open(p, OpenOptions{Scale: 1.0 / 255})
		if err != nil {
			t.Fatal(err)
		}
		ps, err := m.PredictImage(photo(), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, q := range ps {
			sum += q.Probability
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("%s: probabilities sum to %g", f, sum)
		}
	}
}

// A model whose output is not a score vector (here a feature map) is
// refused, naming the shape.
func TestOpenNotAClassifier(t *testing.T) {
	g := pb(nil).sub(1, onnxNode("Relu", []string{"x"}, []string{"y"})).str(2, "maps")
	g = g.sub(11, onnxValue("x", -1, 3, 4, 4)).sub(12, onnxValue("y", -1, 3, 4, 4))
	m := pb(nil).int(1, 8).sub(7, g).sub(8, pb(nil).str(1, "").int(2, 13))
	p := filepath.Join(t.TempDir(), "maps.onnx")
	if err := os.WriteFile(p, m, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p, OpenOptions{Scale: 1})
	if err == nil || !strings.Contains(err.Error(), "not one score per class") || !strings.Contains(err.Error(), "(3, 4, 4)") {
		t.Fatalf("got %v", err)
	}
}
