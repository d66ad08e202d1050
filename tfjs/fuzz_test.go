package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// FuzzParse feeds arbitrary model.json bytes and shard bytes (every
// manifest path reads the same shard) to the importer: it must return a
// model or an error, never panic; a model it returns must run (or fail
// with an error) on zero inputs of its input shapes.
func FuzzParse(f *testing.F) {
	tf := loadTiny(f)
	for _, c := range tf.Cases {
		for _, s := range c.Shards {
			b, _ := base64.StdEncoding.DecodeString(s)
			f.Add([]byte(c.Model), b)
		}
	}
	nodes, specs, data := testGraph()
	f.Add(graphJSON(f, nodes, specs), data)
	f.Fuzz(func(t *testing.T, modelJSON, shard []byte) {
		m, err := Parse("fuzz.json", modelJSON, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		// Run only small graphs: the fuzzer may make huge but valid ones.
		total := 0
		for _, n := range m.Graph.Nodes() {
			for _, v := range n.Outputs {
				sz := 1
				for _, d := range v.Shape() {
					if d < 0 {
						d = 1
					}
					sz *= d
				}
				total += sz
			}
		}
		if total > 1<<20 {
			return
		}
		xs := make([]*tensor.Tensor, len(m.Graph.Inputs()))
		for i, v := range m.Graph.Inputs() {
			s := append([]int(nil), v.Shape()...)
			for k, d := range s {
				if d < 0 {
					s[k] = 1
				}
			}
			xs[i] = tensor.New(s...)
		}
		m.Graph.NewSession().Run(false, xs...)
	})
}

// FuzzDecodeGroup feeds arbitrary manifest groups and shard bytes to the
// weight decoder.
func FuzzDecodeGroup(f *testing.F) {
	for _, g := range []ManifestGroup{
		{Paths: []string{"a"}, Weights: []WeightSpec{{Name: "w", Shape: []int{2, 3}, Dtype: "float32"}}},
		{Paths: []string{"a"}, Weights: []WeightSpec{{Name: "q", Shape: []int{4}, Dtype: "float32", Quantization: &Quantization{Dtype: "uint8", Scale: ptr(0.1), Min: ptr(-1)}}}},
		{Paths: []string{"a"}, Weights: []WeightSpec{{Name: "h", Shape: []int{3}, Dtype: "float32", Quantization: &Quantization{Dtype: "float16"}}, {Name: "i", Shape: []int{}, Dtype: "int32"}}},
		{Paths: []string{"a"}, Weights: []WeightSpec{{Name: "u", Shape: []int{2}, Dtype: "int32", Quantization: &Quantization{Dtype: "uint16", Scale: ptr(2), Min: ptr(-3)}}, {Name: "b", Shape: []int{3}, Dtype: "bool"}}},
	} {
		b, _ := json.Marshal(g)
		f.Add(b, make([]byte, 24))
	}
	f.Fuzz(func(t *testing.T, manifest, data []byte) {
		var g ManifestGroup
		if json.Unmarshal(manifest, &g) != nil {
			return
		}
		shards := make([][]byte, len(g.Paths))
		if len(shards) > 0 {
			// Cut the data across the shards.
			for i := range shards {
				lo, hi := i*len(data)/len(shards), (i+1)*len(data)/len(shards)
				shards[i] = data[lo:hi]
			}
		}
		ws, err := DecodeGroup(g, shards)
		if err != nil {
			return
		}
		for i, w := range ws {
			n, _ := numel(g.Weights[i].Shape)
			if len(w.Data) != n {
				t.Fatalf("weight %q: %d values for shape %v", w.Name, len(w.Data), g.Weights[i].Shape)
			}
		}
	})
}

func ptr(v float64) *float64 { return &v }
