package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
)

// visualizeFixture saves a small RGB CNN and a test image in dir.
func visualizeFixture(t *testing.T, dir string) (model, img string) {
	t.Helper()
	net := nn.NewSequential(
		nn.NewConv2D(4, 3, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(6, 3, 1, nn.Same), nn.NewReLU(),
		nn.NewFlatten(), nn.NewDense(2), nn.NewSoftmax())
	if err := net.Build([]int{12, 12, 3}, 5); err != nil {
		t.Fatal(err)
	}
	m := &classifier.Model{Net: net, Classes: []string{"a", "b"}, Preprocess: data.Preprocess{Width: 12, Height: 12, Channels: 3}}
	model = filepath.Join(dir, "model.safetensors")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	pic := image.NewRGBA(image.Rect(0, 0, 30, 20))
	for y := range 20 {
		for x := range 30 {
			pic.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 12), 100, 255})
		}
	}
	img = filepath.Join(dir, "pic.png")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, pic); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return model, img
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestVisualizeFilters(t *testing.T) {
	dir := t.TempDir()
	model, _ := visualizeFixture(t, dir)
	out := filepath.Join(dir, "f.png")
	code, stdout, stderr := runCLI("visualize", "filters", model, "--out", out)
	if code != 0 || !strings.Contains(stdout, "conv2d (Conv2D, layer 0): 4 filters of 3x3x3") || !strings.Contains(stdout, "RGB tiles") {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	if b := decodePNG(t, out).Bounds(); b.Dx() < 2*39 || b.Dy() < 2*39 {
		t.Errorf("filters image %v too small for 4 tiles of 39 px", b)
	}
	code, stdout, stderr = runCLI("visualize", "filters", model, "--layer", "conv2d_1", "--max-filters", "2", "--max-channels", "3", "--norm", "global", "--out", out)
	if code != 0 || !strings.Contains(stdout, "2 of 6 filters (rows) x 3 of 4 input channels") ||
		!strings.Contains(stdout, "left out 4 filters (--max-filters 2)\nleft out 1 input channels per filter (--max-channels 3)") || !strings.Contains(stdout, "global min-max") {
		t.Fatalf("conv2d_1: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--layer", "re_lu"}, 2, []string{"layer 1 re_lu is a ReLU, not a Conv2D", "Conv2D layers: 0 conv2d (Conv2D), 3 conv2d_1 (Conv2D)"}},
		{[]string{"--layer", "42"}, 2, []string{"layer 42 out of range", "0 conv2d (Conv2D), 1 re_lu (ReLU)"}},
		{[]string{"--layer", "conv7"}, 2, []string{`no layer named "conv7"`, "3 conv2d_1 (Conv2D)"}},
		{[]string{"--norm", "loud"}, 2, []string{`--norm "loud"`}},
	} {
		code, _, stderr := runCLI(append([]string{"visualize", "filters", model, "--out", out}, c.args...)...)
		if code != c.code {
			t.Errorf("%v: code %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
	}
	if code, _, stderr := runCLI("visualize", "filters", model); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("no --out: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "filters", filepath.Join(dir, "nope.safetensors"), "--out", out); code != 1 || !strings.Contains(stderr, "nope.safetensors") {
		t.Errorf("missing model: code %d stderr %q", code, stderr)
	}
}

func TestVisualizeActivations(t *testing.T) {
	dir := t.TempDir()
	model, img := visualizeFixture(t, dir)
	out := filepath.Join(dir, "a.png")
	code, stdout, stderr := runCLI("visualize", "activations", model, img, "--layer", "2", "--out", out)
	if code != 0 || !strings.Contains(stdout, "max_pool2d (MaxPool2D, layer 2): output 6x6x4") || !strings.Contains(stdout, "4 of 4 maps as 60x60") {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	decodePNG(t, out)
	// Default: the first Conv2D; flags after the arguments; a cap.
	code, stdout, stderr = runCLI("visualize", "activations", model, img, "--out", out, "--max-maps", "3", "--norm", "global")
	if code != 0 || !strings.Contains(stdout, "conv2d (Conv2D, layer 0): output 12x12x4") || !strings.Contains(stdout, "left out 1 channels") {
		t.Fatalf("default layer: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI("visualize", "activations", model, img, "--layer", "flatten", "--out", out)
	if code != 2 || !strings.Contains(stderr, "flatten is a Flatten with output (216,), not feature maps") ||
		!strings.Contains(stderr, "layers with maps: 0 conv2d (Conv2D), 1 re_lu (ReLU), 2 max_pool2d (MaxPool2D), 3 conv2d_1 (Conv2D), 4 re_lu_1 (ReLU)") {
		t.Errorf("flatten: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "activations", model, model, "--out", out); code != 1 || !strings.Contains(stderr, "model.safetensors: not a readable image") {
		t.Errorf("model as image: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "activations", model, filepath.Join(dir, "gone.png"), "--out", out); code != 1 || !strings.Contains(stderr, "gone.png") {
		t.Errorf("missing image: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "activations", model, "--out", out); code != 2 || !strings.Contains(stderr, "want MODEL and IMAGE") {
		t.Errorf("no image: code %d stderr %q", code, stderr)
	}
}

func TestVisualizeUsage(t *testing.T) {
	if code, _, stderr := runCLI("visualize"); code != 2 || !strings.Contains(stderr, "filters") {
		t.Errorf("no sub-command: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "weights"); code != 2 || !strings.Contains(stderr, `unknown sub-command "weights"`) {
		t.Errorf("bad sub-command: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("help", "visualize"); code != 0 || !strings.Contains(stderr, "dlcv visualize activations MODEL IMAGE") {
		t.Errorf("help: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("visualize", "filters", "--help"); code != 0 || !strings.Contains(stderr, "--max-filters") || !strings.Contains(stderr, "Examples:") {
		t.Errorf("filters --help: code %d stderr %q", code, stderr)
	}
}
