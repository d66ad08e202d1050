package annotate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/safetensors"
)

// FuzzParseIndex: any bytes give an index that agrees with itself or an
// error, never a panic.
func FuzzParseIndex(f *testing.F) {
	var b bytes.Buffer
	meta := `{"format":"dlcv-image-index-1","root":"photos","backbone":"mobilenet-v2","entries":[{"path":"cats/a.jpg","size":10,"mtime":0,"label":"cats"},{"path":"b.jpg","size":3,"mtime":0}]}`
	safetensors.Encode(&b, &safetensors.File{Metadata: map[string]string{"dlcv.index": meta},
		Tensors: map[string]safetensors.Tensor{"vectors": {Shape: []int{2, 2}, Data: []float32{1, 0, 0.6, 0.8}}}})
	f.Add(b.Bytes())
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := ParseIndex(data)
		if err != nil {
			return
		}
		if len(y.Vectors) != len(y.Entries)*y.Dim {
			t.Fatalf("%d vectors for %d entries of %d", len(y.Vectors), len(y.Entries), y.Dim)
		}
		q := make([]float32, y.Dim)
		if y.Dim > 0 {
			q[0] = 1
		}
		if _, err := y.Search(q, 3); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCheckLabels: any label list and output count give exactly one
// label per output, or an error.
func FuzzCheckLabels(f *testing.F) {
	f.Add("background\ncat\ndog", 3)
	f.Add("cat\ndog", 3)
	f.Add("background\ncat\ndog", 2)
	f.Add("", 5)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		var labels []string
		if text != "" {
			labels = strings.Split(text, "\n")
		}
		got, _, err := CheckLabels(labels, n, "labels.txt")
		if err == nil && got != nil && len(got) != n {
			t.Fatalf("%d labels for %d outputs", len(got), n)
		}
	})
}
