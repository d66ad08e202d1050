package npy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {3}, {2, 3}, {1, 2, 3, 4}, {0, 5}} {
		x := tensor.New(shape...)
		for i := range x.Data {
			x.Data[i] = float32(i) - 1.5
		}
		var b bytes.Buffer
		if err := Write(&b, x); err != nil {
			t.Fatal(err)
		}
		if b.Len()%64 != 4*len(x.Data)%64 && (b.Len()-4*len(x.Data))%64 != 0 {
			t.Errorf("shape %v: data starts at %d, not a multiple of 64", shape, b.Len()-4*len(x.Data))
		}
		y, h, err := Read(&b)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if h.Descr != "<f4" || !tensor.EqualShape(y.Shape, shape) {
			t.Errorf("shape %v: read %v %s", shape, y.Shape, h.Descr)
		}
		for i := range x.Data {
			if x.Data[i] != y.Data[i] {
				t.Fatalf("value %d: %v, want %v", i, y.Data[i], x.Data[i])
			}
		}
	}
}

// TestNumPyFiles reads files written by NumPy in several dtypes (skipped
// without python3 and numpy).
func TestNumPyFiles(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	script := `import numpy as np, sys
d = sys.argv[1]
a = np.arange(-3, 9).reshape(3, 4)
for dt in ['<f4', '>f4', '<f8', '<f2', '<i8', '|u1', '|i1', '<i2', '>u4', '|b1']:
    np.save(d + '/' + dt.replace('<','le').replace('>','be').replace('|','') + '.npy', a.astype(dt))
np.save(d + '/fortran.npy', np.asfortranarray(a.astype('<f4')))
np.save(d + '/scalar.npy', np.float32(2.5))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Skipf("numpy not available: %v %s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	for _, f := range files {
		x, err := ReadFile(f)
		base := filepath.Base(f)
		switch base {
		case "fortran.npy":
			if err == nil || !strings.Contains(err.Error(), "Fortran") {
				t.Errorf("%s: %v, want a Fortran-order error", base, err)
			}
			continue
		case "scalar.npy":
			if err != nil || len(x.Shape) != 0 || x.Data[0] != 2.5 {
				t.Errorf("%s: %v %v", base, x, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		for i, v := range x.Data {
			want := float32(i - 3)
			if base == "b1.npy" {
				want = 0
				if i != 3 {
					want = 1
				}
			}
			if base == "u1.npy" && want < 0 {
				want += 256
			}
			if base == "beu4.npy" && want < 0 {
				want += 1 << 32
			}
			if v != want {
				t.Errorf("%s: value %d is %v, want %v", base, i, v, want)
				break
			}
		}
	}
}

func TestBadFiles(t *testing.T) {
	good := func(hdr string) []byte {
		var b bytes.Buffer
		b.WriteString(magic)
		b.Write([]byte{1, 0, byte(len(hdr)), 0})
		b.WriteString(hdr)
		return b.Bytes()
	}
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{[]byte("PK\x03\x04"), "magic"},
		{[]byte("\x93NUMPY\x09\x00"), "version"},
		{good("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), "data"},
		{good("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"), "not supported"},
		{good("{'descr': '<f4', 'shape': (2,), }"), "fortran_order"},
		{good("{'descr': '<f4', 'fortran_order': False, 'shape': (99999, 99999, 99999), }"), "elements"},
		{good("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), "size"},
		{good("['descr']"), "dict"},
	} {
		_, _, err := Read(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one mentioning %q", c.in, err, c.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, &tensor.Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}})
	f.Add(b.Bytes())
	f.Add([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }          \n\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, _, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(x.Data) != tensor.Numel(x.Shape) {
			t.Fatalf("%d values for shape %v", len(x.Data), x.Shape)
		}
		var out bytes.Buffer
		if err := Write(&out, x); err != nil {
			t.Fatal(err)
		}
	})
}
