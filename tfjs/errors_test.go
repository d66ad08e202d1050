package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad files: every error names the file and the node, layer, weight or
// shard at fault.

// gnode is a GraphDef node for the test graphs.
type gnode struct {
	Name  string         `json:"name"`
	Op    string         `json:"op"`
	Input []string       `json:"input,omitempty"`
	Attr  map[string]any `json:"attr,omitempty"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// testGraph is x (1, 4, 4, 2) -> conv with filter w (1, 1, 2, 3) -> Relu.
func testGraph() ([]gnode, []WeightSpec, []byte) {
	nodes := []gnode{
		{Name: "x", Op: "Placeholder", Attr: map[string]any{"dtype": map[string]any{"type": "DT_FLOAT"},
			"shape": map[string]any{"shape": map[string]any{"dim": []any{map[string]any{"size": "1"}, map[string]any{"size": "4"}, map[string]any{"size": "4"}, map[string]any{"size": "2"}}}}}},
		{Name: "w", Op: "Const", Attr: map[string]any{"dtype": map[string]any{"type": "DT_FLOAT"}}},
		{Name: "conv", Op: "Conv2D", Input: []string{"x", "w"}, Attr: map[string]any{
			"strides": map[string]any{"list": map[string]any{"i": []string{"1", "1", "1", "1"}}}, "padding": map[string]any{"s": b64("SAME")}}},
		{Name: "y", Op: "Relu", Input: []string{"conv"}},
	}
	specs := []WeightSpec{{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "float32"}}
	data := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(i)/6))
	}
	return nodes, specs, data
}

func graphJSON(t testing.TB, nodes []gnode, specs []WeightSpec, paths ...string) []byte {
	t.Helper()
	if len(paths) == 0 {
		paths = []string{"w.bin"}
	}
	b, err := json.Marshal(map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": nodes, "versions": map[string]any{"producer": 1286}},
		"weightsManifest": []any{map[string]any{"paths": paths, "weights": specs}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func shardMap(m map[string][]byte) ShardReader {
	return func(p string) ([]byte, error) {
		b, ok := m[p]
		if !ok {
			return nil, fmt.Errorf("open %s: no such file or directory", p)
		}
		return b, nil
	}
}

// wantErr checks that err mentions every string of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", want)
	}
	t.Log(err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestGraphOK(t *testing.T) {
	nodes, specs, data := testGraph()
	m, err := Parse("g.json", graphJSON(t, nodes, specs), shardMap(map[string][]byte{"w.bin": data}))
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != "graph-model" || m.Producer != 1286 || len(m.Inputs) != 1 || m.Outputs[0] != "y" {
		t.Errorf("model %+v", m)
	}
}

func TestShardErrors(t *testing.T) {
	nodes, specs, data := testGraph()
	js := graphJSON(t, nodes, specs)
	_, err := Parse("g.json", js, shardMap(map[string][]byte{}))
	wantErr(t, err, "g.json", `shard "w.bin"`, "no such file")
	_, err = Parse("g.json", js, shardMap(map[string][]byte{"w.bin": data[:20]}))
	wantErr(t, err, "g.json", "w.bin", "20 bytes", `weight "w"`, "short")
	_, err = Parse("g.json", js, shardMap(map[string][]byte{"w.bin": append(data, 0, 0, 0, 0)}))
	wantErr(t, err, "g.json", "w.bin", "28 bytes", "take 24", "disagree")
	// Two shards: the second missing bytes.
	js2 := graphJSON(t, nodes, specs, "a.bin", "b.bin")
	_, err = Parse("g.json", js2, shardMap(map[string][]byte{"a.bin": data[:16], "b.bin": data[16:20]}))
	wantErr(t, err, "a.bin, b.bin", "20 bytes", `weight "w"`)
	if _, err = Parse("g.json", js2, shardMap(map[string][]byte{"a.bin": data[:16], "b.bin": data[16:]})); err != nil {
		t.Errorf("two shards: %v", err)
	}
}

func TestShardPathOutsideFolder(t *testing.T) {
	nodes, specs, data := testGraph()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "model")
	os.Mkdir(sub, 0o755)
	if err := os.WriteFile(filepath.Join(sub, "model.json"), graphJSON(t, nodes, specs, "../w.bin"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(sub, "model.json"))
	wantErr(t, err, "model.json", "../w.bin", "leaves the model's folder")
}

func TestNaNWeights(t *testing.T) {
	nodes, specs, data := testGraph()
	binary.LittleEndian.PutUint32(data[8:], math.Float32bits(float32(math.NaN())))
	_, err := Parse("g.json", graphJSON(t, nodes, specs), shardMap(map[string][]byte{"w.bin": data}))
	wantErr(t, err, "g.json", `weight "w"`, "shard w.bin", `Const node "w"`, "value 2 of 6 is NaN")
	// A float16 NaN.
	specs[0].Quantization = &Quantization{Dtype: "float16"}
	h := make([]byte, 12)
	binary.LittleEndian.PutUint16(h[4:], 0x7e00)
	_, err = Parse("g.json", graphJSON(t, nodes, specs), shardMap(map[string][]byte{"w.bin": h}))
	wantErr(t, err, `weight "w"`, "value 2 of 6 is NaN", "float16")
}

func TestBadDtypes(t *testing.T) {
	nodes, specs, data := testGraph()
	for _, c := range []struct {
		spec WeightSpec
		want string
	}{
		{WeightSpec{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "float64"}, `unknown dtype "float64"`},
		{WeightSpec{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "string"}, "dtype string is not supported"},
		{WeightSpec{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "float32", Quantization: &Quantization{Dtype: "int4"}}, `unknown quantization dtype "int4"`},
		{WeightSpec{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "float32", Quantization: &Quantization{Dtype: "uint8"}}, "without scale and min"},
		{WeightSpec{Name: "w", Shape: []int{1, 1, 2, 3}, Dtype: "int32", Quantization: &Quantization{Dtype: "float16"}}, "only float32"},
		{WeightSpec{Name: "w", Shape: []int{1, -1, 2, 3}, Dtype: "float32"}, "negative dimension"},
		{WeightSpec{Name: "w", Shape: []int{1 << 20, 1 << 20, 1 << 20}, Dtype: "float32"}, "more than"},
	} {
		_, err := Parse("g.json", graphJSON(t, nodes, []WeightSpec{c.spec}), shardMap(map[string][]byte{"w.bin": data}))
		wantErr(t, err, "g.json", `weight "w"`, c.want)
	}
	// An input of another dtype.
	nodes[0].Attr["dtype"] = map[string]any{"type": "DT_INT32"}
	_, err := Parse("g.json", graphJSON(t, nodes, specs), shardMap(map[string][]byte{"w.bin": data}))
	wantErr(t, err, `node "x"`, "DT_INT32")
}

func TestUnsupportedOpsListedAtOnce(t *testing.T) {
	nodes, specs, data := testGraph()
	nodes = append(nodes,
		gnode{Name: "s1", Op: "Unique", Input: []string{"y"}},
		gnode{Name: "s2", Op: "Unique", Input: []string{"s1"}},
		gnode{Name: "w1", Op: "NonMaxSuppressionV5", Input: []string{"s2"}},
		gnode{Name: "ok", Op: "Relu", Input: []string{"w1"}},
	)
	_, err := Parse("g.json", graphJSON(t, nodes, specs), shardMap(map[string][]byte{"w.bin": data}))
	wantErr(t, err, "g.json", "GraphDef producer 1286", "3 node(s) with unsupported ops (NonMaxSuppressionV5, Unique)",
		`Unique: node "s1", node "s2"`, `NonMaxSuppressionV5: node "w1"`)
	// Known ops with settings dlcv lacks are listed too, with the reason.
	nodes, specs, data = testGraph()
	nodes[2].Attr["data_format"] = map[string]any{"s": b64("NCHW")}
	nodes = append(nodes, gnode{Name: "dyn", Op: "Reshape", Input: []string{"y", "y"}}, gnode{Name: "out2", Op: "Relu", Input: []string{"x"}})
	sig := map[string]any{"outputs": map[string]any{"dyn:0": map[string]any{"name": "dyn:0"}, "out2:0": map[string]any{"name": "out2:0"}}}
	var mj map[string]any
	json.Unmarshal(graphJSON(t, nodes, specs), &mj)
	mj["signature"] = sig
	b, _ := json.Marshal(mj)
	_, err = Parse("g.json", b, shardMap(map[string][]byte{"w.bin": data}))
	wantErr(t, err, "1 node(s)", `Conv2D: node "conv": data_format NCHW`)
}

func TestGraphStructureErrors(t *testing.T) {
	nodes, specs, data := testGraph()
	shards := shardMap(map[string][]byte{"w.bin": data})
	bad := append([]gnode{}, nodes...)
	bad[3].Input = []string{"nowhere"}
	_, err := Parse("g.json", graphJSON(t, bad, specs), shards)
	wantErr(t, err, `node "y" (op Relu)`, `input "nowhere" is not a node`)
	bad = append([]gnode{}, nodes...)
	bad[2].Input = []string{"y", "w"}
	bad = append(bad, gnode{Name: "out", Op: "Relu", Input: []string{"y"}})
	_, err = Parse("g.json", graphJSON(t, bad, specs), shards)
	wantErr(t, err, "closes a cycle")
	bad = append([]gnode{}, nodes...)
	bad = append(bad, gnode{Name: "y", Op: "Relu", Input: []string{"x"}})
	_, err = Parse("g.json", graphJSON(t, bad, specs), shards)
	wantErr(t, err, `two nodes named "y"`)
	// The filter does not fit the input's channels.
	specs2 := []WeightSpec{{Name: "w", Shape: []int{1, 1, 4, 1}, Dtype: "float32"}}
	_, err = Parse("g.json", graphJSON(t, nodes, specs2), shardMap(map[string][]byte{"w.bin": data[:16]}))
	wantErr(t, err, `node "conv" (op Conv2D`, "filter [1 1 4 1] does not fit input")
	// A Const without its weight.
	_, err = Parse("g.json", graphJSON(t, nodes, nil), shardMap(map[string][]byte{"w.bin": nil}))
	wantErr(t, err, `Const "w" has no weight`)
	_, err = Parse("g.json", []byte(`{"format":"graph-model","modelTopology":{"node":[]}}`), nil)
	wantErr(t, err, "g.json", "no Placeholder")
	_, err = Parse("g.json", []byte(`{"modelTopology": 3}`), nil)
	wantErr(t, err, "g.json", "not a JSON object")
	_, err = Parse("g.json", []byte(`[1,2]`), nil)
	wantErr(t, err, "g.json", "not a TF.js model.json")
}

func TestLayersErrors(t *testing.T) {
	tf := loadTiny(t)
	var c *tinyCase
	for i := range tf.Cases {
		if tf.Cases[i].Name == "sequential_cnn" {
			c = &tf.Cases[i]
		}
	}
	var mj map[string]any
	if err := json.Unmarshal(c.Model, &mj); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(layers []any)) []byte {
		var m map[string]any
		json.Unmarshal(c.Model, &m)
		top := m["modelTopology"].(map[string]any)
		if mc, ok := top["model_config"]; ok {
			top = mc.(map[string]any)
		}
		layers := top["config"].(map[string]any)["layers"].([]any)
		f(layers)
		b, _ := json.Marshal(m)
		return b
	}
	// Unknown layer classes, all listed.
	b := edit(func(ls []any) {
		ls[1].(map[string]any)["class_name"] = "MyPool"
		ls[3].(map[string]any)["class_name"] = "Lambda"
	})
	_, err := Parse("l.json", b, shardsOf(c.Shards))
	wantErr(t, err, "l.json", "2 unsupported layer(s)", `MyPool: layer "pool"`, `Lambda: layer "dw"`)
	// An unsupported setting and an unsupported activation.
	b = edit(func(ls []any) {
		ls[0].(map[string]any)["config"].(map[string]any)["activation"] = "softplus"
	})
	_, err = Parse("l.json", b, shardsOf(c.Shards))
	wantErr(t, err, `Conv2D: layer "conv": activation "softplus"`)
	// A weight the manifest lacks.
	var m map[string]any
	json.Unmarshal(c.Model, &m)
	ws := m["weightsManifest"].([]any)[0].(map[string]any)["weights"].([]any)
	ws[0].(map[string]any)["name"] = "renamed/kernel"
	b, _ = json.Marshal(m)
	_, err = Parse("l.json", b, shardsOf(c.Shards))
	wantErr(t, err, "l.json", `layer "conv" (Conv2D)`, `weight "conv/kernel" is not in the weights manifest`)
}

func TestIsModelJSONAndDescribe(t *testing.T) {
	nodes, specs, data := testGraph()
	js := graphJSON(t, nodes, specs)
	if !IsModelJSON(js) || IsModelJSON([]byte(`{"nodes":[]}`)) || IsModelJSON([]byte(`[1]`)) || IsModelJSON(nil) {
		t.Error("IsModelJSON misjudges")
	}
	m, err := Parse("g.json", js, shardMap(map[string][]byte{"w.bin": data}))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Describe()
	for _, w := range []string{"TF.js graph-model (GraphDef producer 1286)", "Input: x [1 4 4 2]", "Output: y [1 4 4 3]"} {
		if !strings.Contains(d, w) {
			t.Errorf("Describe %q lacks %q", d, w)
		}
	}
}

// A model.json cut anywhere is an error naming the file, never a panic
// or a model.
func TestTruncatedModelJSON(t *testing.T) {
	nodes, specs, data := testGraph()
	js := graphJSON(t, nodes, specs)
	shards := shardMap(map[string][]byte{"w.bin": data})
	for n := 0; n < len(js); n++ {
		m, err := Parse("g.json", js[:n], shards)
		if err == nil {
			t.Fatalf("cut at %d of %d bytes: a model with %d nodes", n, len(js), len(m.Graph.Nodes()))
		}
		if !strings.Contains(err.Error(), "g.json") {
			t.Fatalf("cut at %d: error %q does not name the file", n, err)
		}
	}
}
