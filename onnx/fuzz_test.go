package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// Fuzz targets: the protobuf reader, tensor decoding and the whole
// import (and a run of what imports) must return errors for any input,
// never panic or hang.
//
//	go test ./onnx -run '^$' -fuzz FuzzConvert -fuzztime 60s

// fuzzSeeds are small models: the encoded test model and a few op
// fixtures.
func fuzzSeeds(f *testing.F) {
	f.Add(convModel(ramp(54, 0.1)))
	for _, name := range []string{"conv", "channel_shuffle", "flatten_linear", "slice_gather", "concat_split", "reductions", "pad_modes", "upsample_bilinear"} {
		if b, err := os.ReadFile(filepath.Join("testdata/ops", name, "model.onnx")); err == nil {
			f.Add(b)
		}
	}
}

func FuzzDecodeModel(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeModel(b)
	})
}

func FuzzTensor(f *testing.F) {
	f.Add([]byte(tensorMsg("t", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})))
	f.Add([]byte(msg(nil).varint(1, 2).varint(2, TypeInt64).varint(7, 5).varint(7, -1)))
	f.Add([]byte(msg(nil).varint(1, 3).varint(2, TypeFloat16).varint(5, 15360).varint(5, 0).varint(5, 31744)))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := DecodeTensor(b)
		if err != nil {
			return
		}
		d, err := tp.Decode("")
		if err != nil {
			return
		}
		if len(d.Float) != tensor.Numel(d.Shape) {
			t.Fatalf("%d values for shape %v", len(d.Float), d.Shape)
		}
	})
}

func FuzzConvert(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Convert(b, "", nil)
		if err != nil {
			return
		}
		// Run what imports on zeros, when the inputs and every value the
		// graph declares are small.
		for _, n := range m.Exec().Nodes() {
			for _, v := range n.Outputs {
				k := 1
				for _, d := range v.Shape() {
					k *= max(d, 2)
					if k > 1<<16 {
						return
					}
				}
			}
		}
		var ins []*tensor.Tensor
		for _, in := range m.Inputs {
			shape := make([]int, len(in.Shape))
			for i, d := range in.Shape {
				shape[i] = d
				if d < 0 {
					shape[i] = 2
				}
			}
			n := 1
			for _, d := range shape {
				n *= d
				if n > 1<<14 {
					return
				}
			}
			ins = append(ins, tensor.New(shape...))
		}
		m.RunNCHW(ins...)
	})
}
