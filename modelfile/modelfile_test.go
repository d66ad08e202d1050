package modelfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestSniffFiles(t *testing.T) {
	for _, c := range []struct {
		path string
		want Kind
	}{
		{"../onnx/testdata/ops/conv/model.onnx", ONNX},
		{"../onnx/testdata/ops/conv/input_0.npy", NumPy},
		{"../nn/testdata/v1_model.safetensors", Safetensors},
		{"../onnx/testdata/paddleocr_ref.json", Unknown},
	} {
		got, err := SniffFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.path, got, c.want)
		}
	}
	shared := map[string]Kind{
		"models/coral/mobilenet_v2_1.0_224_quant.tflite":   TFLite,
		"models/tfjs/human/emotion.json":                   TFJS,
		"models/coral/cat.bmp":                             Image,
		"models/onnx/paddleocr/ch_PP-OCRv4_rec_infer.onnx": ONNX,
	}
	for rel, want := range shared {
		p := testutil.SharedFile(t, rel)
		if got, err := SniffFile(p); err != nil || got != want {
			t.Errorf("%s: %q, %v, want %q", rel, got, err, want)
		}
	}
}

func TestSniffBytes(t *testing.T) {
	for _, c := range []struct {
		head string
		want Kind
	}{
		{"", Unknown},
		{"hello world", Unknown},
		{`{"format": "graph-model", "modelTopology": {}}`, TFJS},
		{`{"a": 1}`, Unknown},
		{"PK\x03\x04rest", Zip},
		{"\x80\x02}q\x00", Pickle},
		{"\x89PNG\r\n\x1a\n", Image},
		{"\x08\x07\x12\x07pytorch:\x00", ONNX},
		{"\x08\x00", Unknown},
	} {
		if got := Sniff([]byte(c.head)); got != c.want {
			t.Errorf("Sniff(%q) = %q, want %q", c.head, got, c.want)
		}
	}
}

func TestExpect(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.onnx")
	os.WriteFile(p, []byte("\x93NUMPY\x01\x00"), 0o644)
	_, err := Expect(p, ONNX)
	if err == nil || !strings.Contains(err.Error(), "is a NumPy array (.npy), not an ONNX model") {
		t.Errorf("Expect: %v", err)
	}
	if _, err := Expect("../onnx/testdata/ops/conv/model.onnx", Safetensors, ONNX); err != nil {
		t.Error(err)
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("\x08\x07\x12\x07pytorch:\x00"))
	f.Add([]byte("TFL3TFL3"))
	f.Fuzz(func(t *testing.T, b []byte) { Sniff(b) })
}
