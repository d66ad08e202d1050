package visualize

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/zoo"
)

func build(t *testing.T, in []int, layers ...nn.Layer) *nn.Sequential {
	t.Helper()
	m := nn.NewSequential(layers...)
	if err := m.Build(in, 1); err != nil {
		t.Fatal(err)
	}
	return m
}

// setKernel overwrites a Conv2D kernel with w(ky, kx, c, f) and zeroes the bias.
func setKernel(c *nn.Conv2D, w func(ky, kx, ch, f int) float32) {
	for _, p := range c.Params() {
		if p.Name == "bias" {
			p.Value.Zero()
			continue
		}
		s := p.Value.Shape
		for ky := range s[0] {
			for kx := range s[1] {
				for ch := range s[2] {
					for f := range s[3] {
						p.Value.Set(w(ky, kx, ch, f), ky, kx, ch, f)
					}
				}
			}
		}
	}
}

// pixel is the colour of value (x, y) of tile i, sampled at the centre of
// its enlarged square.
func pixel(img *image.RGBA, g *grid, i, x, y, scale int) color.RGBA {
	p := g.origin(i)
	return img.RGBAAt(p.X+x*scale+scale/2, p.Y+y*scale+scale/2)
}

func gray(v float64) uint8 { return uint8(math.Floor(v*255 + 0.5)) }

func TestResolveLayer(t *testing.T) {
	net, err := zoo.New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]int{"": 0, "0": 0, "3": 3, "conv2d": 0, "conv2d_1": 3, "re_lu_1": 4, "max_pool2d_1": 5, " 7 ": 7} {
		got, err := ResolveLayer(net, spec)
		if err != nil || got != want {
			t.Errorf("ResolveLayer(%q) = %d, %v; want %d", spec, got, err, want)
		}
	}
	for spec, wants := range map[string][]string{
		"99":    {"layer 99 out of range", "11 layers (0..10)", "3 conv2d_1 (Conv2D)", "10 softmax (Softmax)"},
		"-1":    {"layer -1 out of range"},
		"conv9": {`no layer named "conv9"`, "0 conv2d (Conv2D), 1 re_lu (ReLU)"},
	} {
		_, err := ResolveLayer(net, spec)
		if le := (*LayerError)(nil); !errors.As(err, &le) {
			t.Errorf("ResolveLayer(%q): error %v is not a *LayerError", spec, err)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ResolveLayer(%q): error %q lacks %q", spec, err, w)
			}
		}
	}
	mlp, err := zoo.New("mlp", []int{28, 28, 1}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveLayer(mlp, ""); err == nil || !strings.Contains(err.Error(), "no Conv2D") || !strings.Contains(err.Error(), "1 dense (Dense)") {
		t.Errorf("default layer of an MLP: %v", err)
	}
	if _, err := ResolveLayer(nn.NewSequential(nn.NewReLU()), ""); err == nil {
		t.Error("unbuilt model: no error")
	}
}

func FuzzResolveLayer(f *testing.F) {
	for _, s := range []string{"", "0", "3", "conv2d_1", "-5", "99999999999999999999", "re_lu", " "} {
		f.Add(s)
	}
	net, err := zoo.New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		i, err := ResolveLayer(net, spec)
		if err == nil && (i < 0 || i >= len(Layers(net))) {
			t.Fatalf("ResolveLayer(%q) = %d, out of range", spec, i)
		}
	})
}

func TestFiltersGray(t *testing.T) {
	conv := nn.NewConv2D(2, 3, 1, nn.Valid)
	net := build(t, []int{8, 8, 1}, conv, nn.NewReLU())
	// Filter 0 counts 0..8 along the rows; filter 1 is -1 in the centre.
	setKernel(conv, func(ky, kx, _, f int) float32 {
		if f == 0 {
			return float32(ky*3 + kx)
		}
		if ky == 1 && kx == 1 {
			return -1
		}
		return 0
	})
	r, err := Filters(net, 0, FilterOptions{Scale: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != ModeGray || r.Filters != 2 || r.Capped() || r.TileWidth != 12 || r.Min != -1 || r.Max != 8 {
		t.Fatalf("result %+v", r)
	}
	for ky := range 3 {
		for kx := range 3 {
			want := gray(float64(ky*3+kx) / 8)
			if c := pixel(r.Image, r.g, 0, kx, ky, 4); c != (color.RGBA{want, want, want, 255}) {
				t.Errorf("filter 0 (%d,%d): %v, want gray %d", kx, ky, c, want)
			}
		}
	}
	if c := pixel(r.Image, r.g, 1, 1, 1, 4); c.R != 0 {
		t.Errorf("filter 1 centre %v, want black", c)
	}
	if c := pixel(r.Image, r.g, 1, 0, 2, 4); c.R != 255 {
		t.Errorf("filter 1 corner %v, want white (per-filter range)", c)
	}
	// Global: one range -1..8 for both.
	r, err = Filters(net, 0, FilterOptions{Scale: 4, Norm: NormGlobal})
	if err != nil {
		t.Fatal(err)
	}
	if c := pixel(r.Image, r.g, 1, 0, 2, 4); c.R != gray(1.0/9) {
		t.Errorf("global: filter 1 corner %v, want %d", c, gray(1.0/9))
	}
	if c := pixel(r.Image, r.g, 0, 2, 2, 4); c.R != 255 {
		t.Errorf("global: filter 0 max %v, want white", c)
	}
	if !strings.Contains(r.Summary(), "global min-max") || !strings.Contains(r.Summary(), "2 of 2 filters") {
		t.Errorf("summary %q", r.Summary())
	}
	// Not a conv layer.
	_, err = Filters(net, 1, FilterOptions{})
	if err == nil || !strings.Contains(err.Error(), "re_lu is a ReLU, not a Conv2D") || !strings.Contains(err.Error(), "Conv2D layers: 0 conv2d (Conv2D)") {
		t.Errorf("ReLU layer: %v", err)
	}
	if _, err := Filters(net, 0, FilterOptions{Norm: "bogus"}); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("bad norm: %v", err)
	}
	if _, err := Filters(net, 5, FilterOptions{}); err == nil {
		t.Error("layer 5 of 2: no error")
	}
}

func TestFiltersRGBAndChannels(t *testing.T) {
	first := nn.NewConv2D(1, 1, 1, nn.Valid)
	second := nn.NewConv2D(5, 3, 1, nn.Same)
	net := build(t, []int{6, 6, 3}, first, nn.NewReLU(), nn.NewConv2D(3, 1, 1, nn.Valid), second)
	setKernel(first, func(_, _, c, _ int) float32 { return float32(1 - c) }) // R 1, G 0, B -1
	r, err := Filters(net, 0, FilterOptions{Scale: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != ModeRGB {
		t.Fatalf("first layer on RGB: mode %s", r.Mode)
	}
	if c := pixel(r.Image, r.g, 0, 0, 0, 3); c != (color.RGBA{255, 128, 0, 255}) {
		t.Errorf("RGB tile %v, want (255,128,0)", c)
	}
	// A later conv with 1 input channel: grayscale tiles.
	if r, err := Filters(net, 2, FilterOptions{}); err != nil || r.Mode != ModeGray {
		t.Errorf("conv after a 1-filter conv: %v %+v", err, r)
	}

	// A later conv with 3 input channels is not a colour filter: a
	// per-channel grid, here capped at 3 filters x 2 channels.
	setKernel(second, func(ky, kx, c, f int) float32 { return float32(f*100 + c*10 + ky*3 + kx) })
	r, err = Filters(net, 3, FilterOptions{Scale: 2, MaxFilters: 3, MaxChannels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != ModeChannels || r.Filters != 3 || r.Channels != 2 || !r.Capped() || r.g.cols != 2 || len(r.g.tiles) != 6 {
		t.Fatalf("result %+v, %d tiles", r, len(r.g.tiles))
	}
	// Filter 1's range covers all 3 of its channels: 100..128.
	for c := range 2 {
		for k := range 9 {
			v := float64(c*10+k) / 28
			if got := pixel(r.Image, r.g, 1*2+c, k%3, k/3, 2); got.R != gray(v) {
				t.Errorf("filter 1 channel %d weight %d: %d, want %d", c, k, got.R, gray(v))
			}
		}
	}
	if s := r.Summary(); !strings.Contains(s, "3 of 5 filters (rows) x 2 of 3 input channels") {
		t.Errorf("summary %q", s)
	}
	// Every row and column label is drawn: the grid is taller than 3 tiles.
	if b := r.Image.Bounds(); b.Dy() < 3*6 || b.Dx() < 2*6 {
		t.Errorf("image %v too small", b)
	}
}

// twoMaps is a model whose first layer copies the (preprocessed) input to
// channel 0 and its negation to channel 1.
func twoMaps(t *testing.T) *classifier.Model {
	conv := nn.NewConv2D(2, 1, 1, nn.Valid)
	net := build(t, []int{4, 6, 1}, conv, nn.NewReLU(), nn.NewFlatten(), nn.NewDense(2), nn.NewSoftmax())
	setKernel(conv, func(_, _, _, f int) float32 { return float32(1 - 2*f) })
	m := &classifier.Model{Net: net, Classes: []string{"a", "b"},
		Preprocess: data.Preprocess{Width: 6, Height: 4, Channels: 1, Mean: []float32{0.5}}}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	return m
}

// ramp is a w x h gray image whose value grows along x.
func ramp(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{uint8(x * 255 / (w - 1))})
		}
	}
	return img
}

func TestActivations(t *testing.T) {
	m := twoMaps(t)
	img := ramp(6, 4)
	in, err := m.Preprocess.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Activations(m, img, 0, ActivationOptions{Scale: 5, Source: "ramp.png"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Output.Shape; len(got) != 4 || got[1] != 4 || got[2] != 6 || got[3] != 2 {
		t.Fatalf("output shape %v", got)
	}
	for i, v := range in {
		if r.Output.Data[2*i] != v || r.Output.Data[2*i+1] != -v {
			t.Fatalf("pixel %d: maps %v %v, want %v and its negation", i, r.Output.Data[2*i], r.Output.Data[2*i+1], v)
		}
	}
	if r.Maps != 2 || r.Zero != 0 || r.Label != "conv2d (Conv2D, layer 0)" {
		t.Fatalf("result %+v", r)
	}
	// Tiles: input, map 0, map 1; per-channel min-max puts the ramp on 0..255.
	for x := range 6 {
		want := gray(float64(x) / 5)
		if c := pixel(r.Image, r.g, 1, x, 2, 5); c.R != want {
			t.Errorf("map 0 x=%d: %d, want %d", x, c.R, want)
		}
		if c := pixel(r.Image, r.g, 2, x, 2, 5); c.R != 255-want {
			t.Errorf("map 1 x=%d: %d, want %d", x, c.R, 255-want)
		}
		if c := pixel(r.Image, r.g, 0, x, 2, 5); c.R != want {
			t.Errorf("input x=%d: %d, want %d", x, c.R, want)
		}
	}
	s := r.Summary()
	if !strings.Contains(s, "output 4x6x2") || !strings.Contains(s, "2 of 2 maps") {
		t.Errorf("summary %q", s)
	}

	// After the ReLU the negative halves are 0; a bright image kills map 1.
	white := image.NewGray(image.Rect(0, 0, 12, 8))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	r, err = Activations(m, white, 1, ActivationOptions{Norm: NormGlobal, MaxMaps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Zero != 1 || r.Maps != 1 || r.Min != 0 || r.Max != 0.5 || r.Scale != 10 {
		t.Errorf("ReLU on white: %+v", r)
	}
	if c := pixel(r.Image, r.g, 1, 3, 3, r.Scale); c.R != 0 {
		t.Errorf("constant map drawn %v, want black", c)
	}

	// Flatten has no maps: the error lists the layers that do.
	_, err = Activations(m, img, 2, ActivationOptions{})
	if err == nil || !strings.Contains(err.Error(), "flatten is a Flatten with output (48,), not feature maps") ||
		!strings.Contains(err.Error(), "layers with maps: 0 conv2d (Conv2D), 1 re_lu (ReLU)") || strings.Contains(err.Error(), "3 dense") {
		t.Errorf("Flatten: %v", err)
	}
	if _, err := Activations(m, img, 0, ActivationOptions{Norm: "x"}); err == nil {
		t.Error("bad norm: no error")
	}
	// The model still predicts normally afterwards.
	if _, err := m.PredictImage(img, 1); err != nil {
		t.Fatal(err)
	}
}

func TestActivationsMatchForward(t *testing.T) {
	net, err := zoo.New("lenet", []int{28, 28, 1}, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	m := &classifier.Model{Net: net, Classes: strings.Split("0 1 2 3 4 5 6 7 8 9", " "),
		Preprocess: data.Preprocess{Width: 28, Height: 28, Channels: 1}}
	img := ramp(40, 30)
	r, err := Activations(m, img, 5, ActivationOptions{MaxMaps: 8})
	if err != nil {
		t.Fatal(err)
	}
	// The same layer's output as computed by a truncated copy of the model.
	in, _ := m.Preprocess.Apply(img)
	x, _ := tensor.FromSlice(in, 1, 28, 28, 1)
	for _, l := range net.(*nn.Sequential).Layers()[:6] {
		shapes, err := l.Shapes([][]int{x.Shape})
		if err != nil {
			t.Fatal(err)
		}
		y := tensor.New(shapes[0]...)
		if err := l.Forward(&nn.Call{}, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		x = y
	}
	if len(x.Data) != len(r.Output.Data) || r.Maps != 8 || r.Output.Shape[3] != 50 {
		t.Fatalf("shapes %v vs %v, %d maps", x.Shape, r.Output.Shape, r.Maps)
	}
	for i := range x.Data {
		if x.Data[i] != r.Output.Data[i] {
			t.Fatalf("value %d: %v vs %v", i, r.Output.Data[i], x.Data[i])
		}
	}
	// A 7x7 map is enlarged to about 64 px; the 28x28 input drawn at the
	// same size.
	if r.Scale != 9 {
		t.Errorf("scale %d", r.Scale)
	}
	if in := r.g.tiles[0]; in.w*in.scale != 56 {
		t.Errorf("input tile %dx%d x%d", in.w, in.h, in.scale)
	}
	if !strings.Contains(r.Summary(), "8 of 50 maps") {
		t.Errorf("summary %q", r.Summary())
	}
}

func TestSaveLoadAndWritePNG(t *testing.T) {
	dir := t.TempDir()
	m := twoMaps(t)
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := classifier.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	i, err := ResolveLayer(loaded.Net, "re_lu")
	if err != nil || i != 1 {
		t.Fatalf("re_lu in the loaded model: %d %v", i, err)
	}
	r, err := Filters(loaded.Net, 0, FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "f.png")
	if err := WritePNG(out, r.Image); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != r.Image.Bounds() {
		t.Errorf("PNG %v, image %v", back.Bounds(), r.Image.Bounds())
	}
	if err := WritePNG(filepath.Join(dir, "missing", "f.png"), r.Image); err == nil {
		t.Error("no error for a missing folder")
	}
}

func TestNormalize(t *testing.T) {
	v := []float32{2, float32(math.NaN()), 4, float32(math.Inf(1)), 3}
	lo, hi := minMax(v)
	if lo != 2 || hi != 4 {
		t.Fatalf("minMax %v %v", lo, hi)
	}
	normalize(v, lo, hi)
	want := []float32{0, 0, 1, 0, 0.5}
	for i := range v {
		if v[i] != want[i] {
			t.Fatalf("normalize: %v, want %v", v, want)
		}
	}
	c := []float32{3, 3}
	normalize(c, 3, 3)
	if c[0] != 0 || c[1] != 0 {
		t.Errorf("constant: %v", c)
	}
}
