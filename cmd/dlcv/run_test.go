package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tfjs"
	"github.com/dlcv-go/dlcv/tflite"
)

// maxRel is max |got - want| / max |want|.
func maxRel(t *testing.T, got, want *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.EqualShape(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	var d, m float64
	for i, w := range want.Data {
		d = math.Max(d, math.Abs(float64(got.Data[i]-w)))
		m = math.Max(m, math.Abs(float64(w)))
	}
	return d / m
}

// An ONNX op fixture through the CLI: the .npy written agrees with ONNX
// Runtime's output (the fixture's bound, 1e-4).
func TestRunONNXFixture(t *testing.T) {
	dir := "../../onnx/testdata/ops/batchnorm"
	out := t.TempDir()
	code, stdout, stderr := runCLI("run", filepath.Join(dir, "model.onnx"), "--input", filepath.Join(dir, "input_0.npy"), "--out", out)
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".npy") || !strings.Contains(stdout, "min ") {
		t.Fatalf("wrote %v, printed %q", entries, stdout)
	}
	got, err := npy.ReadFile(filepath.Join(out, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile(filepath.Join(dir, "ort_output_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if r := maxRel(t, got, want); r > 1e-4 {
		t.Fatalf("max diff / max ref %g", r)
	}
}

// A TF.js model through run, and through convert then run: both give the
// library's own output (the converted file holds the same graph).
func TestRunAndConvertTFJS(t *testing.T) {
	model := testutil.SharedFile(t, "models/tfjs/human/emotion.json")
	dir := t.TempDir()
	x := tensor.New(1, 64, 64, 1)
	for i := range x.Data {
		x.Data[i] = float32(i%251) / 251
	}
	in := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	m, err := tfjs.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := m.Graph.NewSession().Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("run", model, "--input", in, "--out", filepath.Join(dir, "a"))
	if code != 0 {
		t.Fatalf("run: code %d stderr %s", code, stderr)
	}
	conv := filepath.Join(dir, "emotion.safetensors")
	if code, _, stderr := runCLI("convert", model, conv); code != 0 {
		t.Fatalf("convert: code %d stderr %s", code, stderr)
	}
	if code, _, stderr := runCLI("run", conv, "--input", in, "--out", filepath.Join(dir, "b")); code != 0 {
		t.Fatalf("run converted: code %d stderr %s", code, stderr)
	}
	for _, sub := range []string{"a", "b"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		if len(entries) != 1 {
			t.Fatalf("%s: %v", sub, entries)
		}
		got, err := npy.ReadFile(filepath.Join(dir, sub, entries[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		// Optimised (fused) against as imported: float32 rounding.
		if r := maxRel(t, got, ys[0]); r > 1e-5 {
			t.Fatalf("%s: max diff / max ref %g", sub, r)
		}
	}
	bad := filepath.Join(dir, "bad.npy")
	npy.WriteFile(bad, tensor.New(1, 32, 32, 1))
	if code, _, stderr := runCLI("run", model, "--input", bad); code != 1 || !strings.Contains(stderr, "(?, 64, 64, 1)") {
		t.Fatalf("wrong shape: code %d stderr %s", code, stderr)
	}
	if code, _, stderr := runCLI("run", model, "--image", "x.jpg"); code != 2 || !strings.Contains(stderr, "--input") {
		t.Fatalf("--image: code %d stderr %s", code, stderr)
	}
}

// convert --classifier writes a classifier that predict and classify read
// without preprocessing flags.
func TestConvertClassifier(t *testing.T) {
	model := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	cat := testutil.SharedFile(t, "models/coral/cat.bmp")
	dir := t.TempDir()
	labels := filepath.Join(dir, "classes.txt")
	os.WriteFile(labels, []byte("Drawing\nHentai\nNeutral\nPorn\nSexy\n"), 0o644)
	out := filepath.Join(dir, "nsfw.safetensors")
	if code, _, stderr := runCLI("convert", model, out, "--classifier"); code != 1 || !strings.Contains(stderr, "--scale") {
		t.Fatalf("no scale: code %d stderr %s", code, stderr)
	}
	if code, stdout, stderr := runCLI("convert", model, out, "--classifier", "--scale", "1/255", "--labels", labels); code != 0 || !strings.Contains(stdout, "224x224 classifier of 5 classes") {
		t.Fatalf("convert: code %d stdout %s stderr %s", code, stdout, stderr)
	}
	_, direct, _ := runCLI("classify", cat, "--model", model, "--scale", "1/255", "--labels", labels)
	code, converted, stderr := runCLI("classify", cat, "--model", out)
	if code != 0 || converted != direct || !strings.Contains(converted, "Neutral") {
		t.Fatalf("code %d stderr %s\nconverted:\n%s\ndirect:\n%s", code, stderr, converted, direct)
	}
	if code, stdout, stderr := runCLI("predict", "--model", out, cat); code != 0 || !strings.Contains(stdout, "Neutral") {
		t.Fatalf("predict: code %d stdout %s stderr %s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("convert", model, out, "--mean", "0.5"); code != 2 || !strings.Contains(stderr, "--classifier") {
		t.Fatalf("--mean without --classifier: code %d stderr %s", code, stderr)
	}
}

func TestSummaryTFLite(t *testing.T) {
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	code, stdout, stderr := runCLI("summary", model)
	if code != 0 || !strings.Contains(stdout, "Total params") || !strings.Contains(stdout, "Input: [1 224 224 3] uint8, scale 0.0078125, zero point 128") {
		t.Fatalf("code %d stderr %s stdout ends %q", code, stderr, stdout[max(0, len(stdout)-400):])
	}
}

// A quantized TFLite model through run: the integer interpreter's output
// (the bits of tflite.Model.Run, on TFLite's uint8 output grid of
// 1/256), and with --profile its time per TFLite operator; a second
// input for the one-input model is a usage error.
func TestRunTFLiteQuantized(t *testing.T) {
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	dir := t.TempDir()
	x := tensor.New(1, 224, 224, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%255)/127.5 - 1
	}
	in := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI("run", model, "--input", in, "--out", out, "--profile", "--repeat", "2")
	if code != 0 || !strings.Contains(stdout, "CONV_2D") || !strings.Contains(stdout, "DEPTHWISE_CONV_2D") {
		t.Fatalf("code %d stdout %s stderr %s", code, stdout, stderr)
	}
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := npy.ReadFile(filepath.Join(out, "MobilenetV2_Predictions_Softmax.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.EqualShape(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i, w := range want.Data {
		if got.Data[i] != w || w*256 != float32(math.Round(float64(w*256))) {
			t.Fatalf("output %d: %v, interpreter %v (want it on the 1/256 grid)", i, got.Data[i], w)
		}
	}
	if code, _, stderr := runCLI("run", model, "--input", in, "--input", in); code != 2 || !strings.Contains(stderr, "more inputs") {
		t.Fatalf("two inputs: code %d stderr %s", code, stderr)
	}
}
