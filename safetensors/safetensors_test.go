package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *File {
	return &File{
		Metadata: map[string]string{"format": "dlcv", "arch": `{"a":1}`},
		Tensors: map[string]Tensor{
			"b":      {Shape: []int{3}, Data: []float32{1, -2, 3.5}},
			"a":      {Shape: []int{2, 2}, Data: []float32{0.25, 0, -1e-8, 7}},
			"scalar": {Shape: []int{}, Data: []float32{42}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if hl := binary.LittleEndian.Uint64(b); hl%8 != 0 {
		t.Fatalf("header length %d not 8-aligned", hl)
	}
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if f.Metadata["arch"] != want.Metadata["arch"] {
		t.Fatalf("metadata %v", f.Metadata)
	}
	for n, wt := range want.Tensors {
		got := f.Tensors[n]
		if len(got.Shape) != len(wt.Shape) || len(got.Data) != len(wt.Data) {
			t.Fatalf("%s: got %+v want %+v", n, got, wt)
		}
		for i := range wt.Data {
			if got.Data[i] != wt.Data[i] {
				t.Fatalf("%s[%d] = %v want %v", n, i, got.Data[i], wt.Data[i])
			}
		}
	}
}

// A file written by Python's safetensors (torch.save_file of
// {"w": tensor([[1., 2.], [3., 4.]])}) has this exact layout.
func TestDecodePythonLayout(t *testing.T) {
	h := `{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(h)))
	b.WriteString(h)
	binary.Write(&b, binary.LittleEndian, []float32{1, 2, 3, 4})
	f, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Tensors["w"].Data; d[3] != 4 {
		t.Fatalf("got %v", d)
	}
}

func TestHalfPrecision(t *testing.T) {
	h := `{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"bf":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]}}`
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(h)))
	b.WriteString(h)
	binary.Write(&b, binary.LittleEndian, []uint16{0x3c00, 0xc000, 0x3555, 0x3fc0}) // 1, -2, ~0.333, bf16 1.5
	f, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	h16 := f.Tensors["h"].Data
	if h16[0] != 1 || h16[1] != -2 || h16[2] < 0.333 || h16[2] > 0.334 || f.Tensors["bf"].Data[0] != 1.5 {
		t.Fatalf("got %v %v", h16, f.Tensors["bf"].Data)
	}
}

func TestCorruptFiles(t *testing.T) {
	var buf bytes.Buffer
	Encode(&buf, sample())
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":       nil,
		"short":       good[:5],
		"truncated":   good[:len(good)-3],
		"huge header": append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, good[8:]...),
		"bad json":    append(append([]byte{}, good[:8]...), bytes.Repeat([]byte{'{'}, len(good)-8)...),
	}
	for name, b := range cases {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	h := `{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(h)))
	b.WriteString(h)
	b.Write(make([]byte, 16))
	if _, err := Decode(b.Bytes()); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("want error naming tensor w, got %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	if err := WriteFile(p, sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatal(err)
	}
	bad := &File{Tensors: map[string]Tensor{"x": {Shape: []int{5}, Data: []float32{1}}}}
	if err := WriteFile(p, bad); err == nil {
		t.Fatal("want error for inconsistent tensor")
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatalf("failed write must leave the old file intact: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, sample())
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{}}        "))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b) // must not panic
	})
}
