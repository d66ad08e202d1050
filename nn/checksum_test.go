package nn

import (
	"bytes"
	bin "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/safetensors"
)

func checksumModel(t *testing.T) Model {
	t.Helper()
	m := NewSequential(NewConv2D(4, 3, 1, Same), NewReLU(), NewFlatten(), NewDense(3), NewSoftmax())
	if err := m.Build([]int{6, 6, 1}, 7); err != nil {
		t.Fatal(err)
	}
	return m
}

// Issue 15, defect 5: 5 of 5 bit-flipped model files loaded and gave
// changed answers. The file now records the SHA-256 of its tensors, and a
// flip anywhere in the tensor data is refused on load.
func TestBitFlippedModelFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := SaveFileTensors(path, checksumModel(t), map[string]string{"note": "x"}, map[string]safetensors.Tensor{"optim.m/0": {Shape: []int{2}, Data: []float32{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	_, meta, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta[metaSHA256]) != 64 {
		t.Fatalf("metadata %s = %q", metaSHA256, meta[metaSHA256])
	}
	good, _ := os.ReadFile(path)
	data := 8 + int(bin.LittleEndian.Uint64(good))
	for i, off := range []int{data, data + 1, data + (len(good)-data)/3, len(good) - 9, len(good) - 1} {
		b := bytes.Clone(good)
		b[off] ^= 1 << (i % 8)
		bad := filepath.Join(dir, "flipped.safetensors")
		os.WriteFile(bad, b, 0o644)
		_, _, err := LoadFile(bad)
		if err == nil || !strings.Contains(err.Error(), "model file corrupted") || !strings.Contains(err.Error(), bad) {
			t.Errorf("flip %d at byte %d of %d: %v", i, off, len(good), err)
		}
	}
}

// Files written before the checksum (no dlcv.sha256) still load.
func TestFilesWithoutChecksumLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveFile(path, checksumModel(t), nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	delete(f.Metadata, metaSHA256)
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFile(path); err != nil {
		t.Fatal(err)
	}
}

// The checksum's definition is part of the file format: names, shapes and
// values in name order, with their lengths.
func TestTensorsSHA256IsStable(t *testing.T) {
	ts := map[string]safetensors.Tensor{
		"b": {Shape: []int{2}, Data: []float32{1, -2}},
		"a": {Shape: []int{1, 1}, Data: []float32{0.5}},
	}
	// Computed independently (Python: struct.pack("<Q"...), "<f").
	const want = "79a02d2d2c252450e70ec2835159d3f95000653a46679923a0fa5755e5071b65"
	got := tensorsSHA256(ts)
	if got != tensorsSHA256(map[string]safetensors.Tensor{"a": ts["a"], "b": ts["b"]}) {
		t.Fatal("the checksum depends on map order")
	}
	// Moving a value between tensors, or reshaping, changes it.
	for _, other := range []map[string]safetensors.Tensor{
		{"a": {Shape: []int{1}, Data: []float32{0.5}}, "b": ts["b"]},
		{"a": {Shape: []int{1, 1}, Data: []float32{1}}, "b": {Shape: []int{2}, Data: []float32{0.5, -2}}},
		{"ab": ts["a"], "b": ts["b"]},
	} {
		if tensorsSHA256(other) == got {
			t.Errorf("%v hashes like %v", other, ts)
		}
	}
	if got != want {
		t.Fatalf("tensorsSHA256 = %s, want %s", got, want)
	}
}
