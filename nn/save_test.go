package nn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// TestVersion1FilesLoad reads a model file written by the release before
// the graph engine (testdata/genv1, run at that commit) and checks that it
// predicts what that release predicted.
func TestVersion1FilesLoad(t *testing.T) {
	m, meta, err := LoadFile("testdata/v1_model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if meta["note"] != "written by the v1 release" {
		t.Errorf("metadata %v", meta)
	}
	seq, ok := m.(*Sequential)
	if !ok || len(seq.Layers()) != 17 {
		t.Fatalf("loaded %T with %d layers, want a 17-layer Sequential", m, len(seq.Layers()))
	}
	raw, err := os.ReadFile("testdata/v1_model.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		XShape []int     `json:"x_shape"`
		X      []float32 `json:"x"`
		Y      []float32 `json:"y"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	x, err := tensor.FromSlice(want.X, want.XShape...)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, y *tensor.Tensor) {
		t.Helper()
		for i, v := range want.Y {
			// The same float32 arithmetic up to summation order (blocked
			// GEMM, fused epilogues): a few ulps of the probabilities.
			if d := math.Abs(float64(y.Data[i] - v)); d > 1e-5 {
				t.Fatalf("%s: output %d is %v, the v1 release gave %v", what, i, y.Data[i], v)
			}
		}
	}
	y, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	check("Predict", y)
	opt, err := Optimize(m.Graph())
	if err != nil {
		t.Fatal(err)
	}
	ys, err := opt.NewSession().Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	check("optimised graph", ys[0])

	// Saved again, it is a version 2 file with the same predictions.
	path := filepath.Join(t.TempDir(), "v2.safetensors")
	if err := SaveFile(path, m, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata[metaVersion] != "2" || !strings.Contains(f.Metadata[metaArch], `"sequential":true`) {
		t.Errorf("resaved metadata %v", f.Metadata)
	}
	m2, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	y2, err := m2.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	check("v2 copy", y2)
}

func TestModelFileErrors(t *testing.T) {
	good, err := safetensors.ReadFile("testdata/v1_model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(key, value string) *safetensors.File {
		f := &safetensors.File{Metadata: map[string]string{}, Tensors: good.Tensors}
		for k, v := range good.Metadata {
			f.Metadata[k] = v
		}
		f.Metadata[key] = value
		return f
	}
	g := residualMLP(t)
	arch, _ := g.Architecture()
	cases := []struct {
		f    *safetensors.File
		want string
	}{
		{edit(metaFormat, "other"), "not a dlcv model"},
		{edit(metaVersion, "99"), "newer than this dlcv reads"},
		{edit(metaVersion, "x"), "bad dlcv.format_version"},
		{edit(metaArch, "{"), "architecture JSON"},
		{edit(metaArch, `{"input_shape":[11,11,2],"layers":[{"kind":"Warp","config":{}}]}`), `unknown op kind "Warp"`},
		{edit(metaArch, `{"input_shape":[0,11,2],"layers":[{"kind":"ReLU","config":{}}]}`), "bad input shape"},
		{func() *safetensors.File {
			f := edit(metaVersion, "2")
			f.Metadata[metaArch] = string(arch)
			return f
		}(), "missing tensor"},
		{func() *safetensors.File {
			f := edit(metaVersion, "2")
			f.Metadata[metaArch] = strings.Replace(string(arch), `"inputs":["re_lu","x"]`, `"inputs":["re_lu","nothing"]`, 1)
			return f
		}(), "dangling"},
		{func() *safetensors.File {
			f := edit(metaVersion, "2")
			f.Metadata[metaArch] = strings.Replace(string(arch), `"inputs":["x"]`, `"inputs":["add"]`, 1)
			return f
		}(), "cycle"},
	}
	for _, c := range cases {
		_, err := ModelFromFile(c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

// FuzzModelFile feeds arbitrary architecture JSON to the loader: it must
// return an error or a model, never panic.
func FuzzModelFile(f *testing.F) {
	good, err := safetensors.ReadFile("testdata/v1_model.safetensors")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("1", good.Metadata[metaArch])
	g := NewGraph()
	x := g.Input("x", 3)
	g.Output(g.Apply(NewAdd(), g.Apply(NewDense(3), x), x))
	if err := g.Build(0); err != nil {
		f.Fatal(err)
	}
	arch, _ := g.Architecture()
	f.Add("2", string(arch))
	f.Fuzz(func(t *testing.T, version, arch string) {
		file := &safetensors.File{Metadata: map[string]string{metaFormat: "dlcv", metaVersion: version, metaArch: arch}, Tensors: good.Tensors}
		m, err := ModelFromFile(file)
		if err == nil && m.Graph() == nil {
			t.Fatal("no error and no model")
		}
	})
}
