package nn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/safetensors"
)

func saveTestModel(t *testing.T) *Sequential {
	t.Helper()
	m := NewSequential(
		NewConv2D(4, 3, 1, Same), NewReLU(), NewBatchNorm(0, 0), NewMaxPool2D(2, 2),
		NewConv2D(3, 3, 2, Explicit(1)), NewLeakyReLU(0.2), NewELU(0.5), NewTanh(),
		NewAveragePool2D(2, 1), NewFlatten(), NewDropout(0.3),
		NewDense(5), NewSigmoid(), NewDense(3), NewSoftmax())
	if err := m.Build([]int{12, 10, 2}, 7); err != nil {
		t.Fatal(err)
	}
	// Make the running statistics non-trivial so that saving them matters.
	x := randTensor(NewRNG(3), 6, 12, 10, 2)
	if _, err := m.Forward(x, true); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := saveTestModel(t)
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveFile(p, m, map[string]string{"classes": `["a","b","c"]`}); err != nil {
		t.Fatal(err)
	}
	m2, meta, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if meta["classes"] != `["a","b","c"]` {
		t.Fatalf("meta %v", meta)
	}
	if m.Summary() != m2.Summary() {
		t.Fatalf("summaries differ:\n%s\n%s", m.Summary(), m2.Summary())
	}
	x := randTensor(NewRNG(5), 4, 12, 10, 2)
	y1, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	y1 = y1.Clone()
	y2, err := m2.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y1.Data {
		if y1.Data[i] != y2.Data[i] {
			t.Fatalf("prediction %d: %v vs %v", i, y1.Data[i], y2.Data[i])
		}
	}
	// Config survives: the LeakyReLU slope and dropout rate.
	if l := m2.Layers()[5].(*LeakyReLU); l.Alpha != 0.2 {
		t.Fatalf("LeakyReLU alpha %v", l.Alpha)
	}
	if d := m2.Layers()[10].(*Dropout); d.Rate != 0.3 {
		t.Fatalf("dropout rate %v", d.Rate)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	m := saveTestModel(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := SaveFile(good, m, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, b[:len(b)-10], 0o644)
	if _, _, err := LoadFile(trunc); err == nil || !strings.Contains(err.Error(), "trunc.safetensors") {
		t.Fatalf("truncated: %v", err)
	}
	f, err := safetensors.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(name string, change func(f *safetensors.File), want string) {
		t.Helper()
		g, _ := safetensors.ReadFile(good)
		change(g)
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, g); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, want)
		}
	}
	mutate("newer", func(f *safetensors.File) { f.Metadata["dlcv.format_version"] = "99" }, "newer")
	mutate("notdlcv", func(f *safetensors.File) { delete(f.Metadata, "dlcv.format") }, "not a dlcv model")
	mutate("missing", func(f *safetensors.File) { delete(f.Tensors, "layers.0.kernel") }, "layers.0.kernel")
	mutate("shape", func(f *safetensors.File) {
		f.Tensors["layers.11.bias"] = safetensors.Tensor{Shape: []int{2}, Data: []float32{1, 2}}
	}, "layers.11.bias")
	mutate("kind", func(f *safetensors.File) {
		f.Metadata["dlcv.architecture"] = strings.Replace(f.Metadata["dlcv.architecture"], `"Tanh"`, `"Frobnicate"`, 1)
	}, "Frobnicate")
	mutate("archjson", func(f *safetensors.File) { f.Metadata["dlcv.architecture"] = "{" }, "architecture")
	_ = f
	if err := SaveFile(filepath.Join(dir, "x"), m, map[string]string{"dlcv.format": "x"}); err == nil {
		t.Fatal("reserved metadata key accepted")
	}
}

func FuzzModelFromFile(f *testing.F) {
	f.Add(`{"input_shape":[4,4,1],"layers":[{"kind":"Flatten","config":{}},{"kind":"Dense","config":{"units":2}}]}`)
	f.Add(`{"input_shape":[4,4,1],"layers":[{"kind":"Conv2D","config":{"filters":-1}}]}`)
	f.Add(`{"input_shape":[0],"layers":[]}`)
	f.Fuzz(func(t *testing.T, arch string) {
		file := &safetensors.File{Metadata: map[string]string{
			"dlcv.format": "dlcv", "dlcv.format_version": "1", "dlcv.architecture": arch,
		}, Tensors: map[string]safetensors.Tensor{}}
		ModelFromFile(file) // must not panic
	})
}
