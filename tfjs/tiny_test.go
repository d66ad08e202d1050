package tfjs

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The tiny models of testdata/gen_tiny.js: graph models written node by
// node and layers models saved by TF.js, with TensorFlow.js 4's (wasm
// backend) outputs for random inputs.

type fixtureTensor struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Data  string `json:"data"` // float32 little-endian, base64
}

func (f fixtureTensor) tensor(t testing.TB) *tensor.Tensor {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	d := make([]float32, len(b)/4)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	shape := f.Shape
	if len(shape) == 0 {
		shape = []int{}
	}
	return &tensor.Tensor{Shape: shape, Data: d}
}

type tinyCase struct {
	Name    string            `json:"name"`
	Kind    string            `json:"kind"`
	Model   json.RawMessage   `json:"model"`
	Shards  map[string]string `json:"shards"`
	Inputs  []fixtureTensor   `json:"inputs"`
	Outputs []fixtureTensor   `json:"outputs"`
	// WasmBug says where TF.js's wasm backend disagreed with its cpu
	// backend; the outputs are then cpu's.
	WasmBug string `json:"wasmBug"`
}

type tinyFile struct {
	TFJS    string     `json:"tfjs"`
	Backend string     `json:"backend"`
	Cases   []tinyCase `json:"cases"`
}

func readGzJSON(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(z).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadTiny(t testing.TB) *tinyFile {
	var tf tinyFile
	readGzJSON(t, "testdata/tiny_models.json.gz", &tf)
	return &tf
}

// shardsOf is a ShardReader over a fixture's base64 shards.
func shardsOf(s map[string]string) ShardReader {
	return func(p string) ([]byte, error) {
		b64, ok := s[p]
		if !ok {
			return nil, fmt.Errorf("no shard %q", p)
		}
		return base64.StdEncoding.DecodeString(b64)
	}
}

// relErr is max |a-b| / max |b|.
func relErr(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// runModel feeds the fixture inputs (by name) and computes the named
// values.
func runModel(t testing.TB, m *Model, inputs []fixtureTensor, names []string) []*tensor.Tensor {
	t.Helper()
	byName := map[string]*tensor.Tensor{}
	for _, in := range inputs {
		byName[in.Name] = in.tensor(t)
	}
	xs := make([]*tensor.Tensor, len(m.Inputs))
	for i, n := range m.Inputs {
		if xs[i] = byName[n]; xs[i] == nil {
			t.Fatalf("no fixture input %q", n)
		}
	}
	want := make([]*nn.Value, len(names))
	for i, n := range names {
		if want[i] = m.Value(n); want[i] == nil {
			t.Fatalf("model has no value %q", n)
		}
	}
	ys, err := m.Graph.NewSession().RunValues(false, xs, want)
	if err != nil {
		t.Fatal(err)
	}
	return ys
}

func TestTinyModelsAgainstTFJS(t *testing.T) {
	tf := loadTiny(t)
	for _, c := range tf.Cases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := Parse(c.Name+"/model.json", c.Model, shardsOf(c.Shards))
			if err != nil {
				t.Fatal(err)
			}
			if c.WasmBug != "" {
				t.Logf("reference from TF.js's cpu backend: %s", c.WasmBug)
			}
			var names []string
			for _, o := range c.Outputs {
				names = append(names, o.Name)
			}
			ys := runModel(t, m, c.Inputs, names)
			for i, o := range c.Outputs {
				ref := o.tensor(t)
				if !tensor.EqualShape(ys[i].Shape, ref.Shape) {
					t.Errorf("%s: shape %v, TF.js %v", o.Name, ys[i].Shape, ref.Shape)
					continue
				}
				e := relErr(ys[i].Data, ref.Data)
				t.Logf("%s %v: max|diff|/max|ref| = %.2g", o.Name, ref.Shape, e)
				if e > 1e-4 {
					t.Errorf("%s: max|diff|/max|ref| = %.3g, want <= 1e-4", o.Name, e)
				}
			}
		})
	}
}
