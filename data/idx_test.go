package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func sampleIDX(t testing.TB) []byte {
	x := &IDX{Dims: []int{2, 3, 2}, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}}
	b, err := EncodeIDX(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIDXRawAndGzip(t *testing.T) {
	raw := sampleIDX(t)
	for name, b := range map[string][]byte{"raw.idx": raw, "packed.idx.gz": gz(raw), "packed-no-ext": gz(raw)} {
		x, err := ReadIDX(writeFile(t, name, b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(x.Dims) != 3 || x.Dims[0] != 2 || x.Dims[1] != 3 || x.Dims[2] != 2 || x.Data[11] != 255 || x.Data[4] != 4 {
			t.Errorf("%s: got %v %v", name, x.Dims, x.Data)
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	raw := sampleIDX(t)
	withType := append([]byte(nil), raw...)
	withType[2] = 0x0D
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short-header", raw[:6], "truncated header"},
		{"truncated-data", raw[:len(raw)-3], "truncated: dimensions [2 3 2] need 12 data bytes, file has 9"},
		{"extra", append(append([]byte(nil), raw...), 1, 2), "2 bytes after the 12 data bytes"},
		{"magic", append([]byte{1, 0}, raw[2:]...), "bad magic"},
		{"float", withType, "0x0d (float32) is not supported"},
		{"rank0", []byte{0, 0, 8, 0}, "rank 0"},
		{"huge", []byte{0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0}, "more than"},
		{"gz-truncated", gz(raw)[:20], "idx"},
		{"gz-data-truncated", gz(raw[:len(raw)-1]), "need 12 data bytes, got 11"},
		{"gz-extra", gz(append(append([]byte(nil), raw...), 7)), "extra data"},
	}
	for _, c := range cases {
		p := writeFile(t, c.name, c.b)
		_, err := ReadIDX(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming %s and saying %q", c.name, err, p, c.want)
		}
	}
	if _, err := ReadIDX(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func FuzzDecodeIDX(f *testing.F) {
	raw := sampleIDX(f)
	f.Add(raw)
	f.Add(gz(raw))
	f.Add(raw[:7])
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeIDX("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}
