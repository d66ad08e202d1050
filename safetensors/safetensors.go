package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
	"sort"
)

// Tensor is one named array.
type Tensor struct {
	Shape []int
	Data  []float32
}

// File is the content of a safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
}

// maxHeader bounds the JSON header (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

type entry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Encode writes f to w. Tensors are laid out in name order.
func Encode(w io.Writer, f *File) error {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	var off int64
	for _, n := range names {
		t := f.Tensors[n]
		if n == "__metadata__" {
			return errors.New("safetensors: tensor name __metadata__ is reserved")
		}
		if numel(t.Shape) != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v holds %d values, data has %d", n, t.Shape, numel(t.Shape), len(t.Data))
		}
		size := int64(len(t.Data)) * 4
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = entry{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{off, off + size}}
		off += size
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to 8 bytes so the data is aligned, as the
	// reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(len(hj)))
	if _, err := w.Write(lenb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hj); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, n := range names {
		for _, v := range f.Tensors[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

// Decode parses a whole safetensors file held in memory.
func Decode(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: %d bytes is too short for the header length", len(b))
	}
	hl := binary.LittleEndian.Uint64(b[:8])
	if hl > maxHeader || hl > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d does not fit in a %d-byte file", hl, len(b))
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b[8 : 8+hl]))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %v", err)
	}
	data := b[8+hl:]
	f := &File{Tensors: map[string]Tensor{}}
	type span struct {
		name       string
		start, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q header: %v", name, err)
		}
		var width int64
		switch e.Dtype {
		case "F32":
			width = 4
		case "F16", "BF16":
			width = 2
		default:
			return nil, fmt.Errorf("safetensors: tensor %q has dtype %q; dlcv reads F32, F16, BF16", name, e.Dtype)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt32/int64(d)) {
				return nil, fmt.Errorf("safetensors: tensor %q has bad shape %v", name, e.Shape)
			}
			n *= int64(d)
		}
		s, end := e.DataOffsets[0], e.DataOffsets[1]
		if s < 0 || end < s || end > int64(len(data)) || end-s != n*width {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets %v do not match shape %v (%s) in %d data bytes", name, e.DataOffsets, e.Shape, e.Dtype, len(data))
		}
		spans = append(spans, span{name, s, end})
		seg := data[s:end]
		vals := make([]float32, n)
		for i := range vals {
			switch e.Dtype {
			case "F32":
				vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(seg[4*i:]))
			case "F16":
				vals[i] = halfToFloat(binary.LittleEndian.Uint16(seg[2*i:]))
			case "BF16":
				vals[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(seg[2*i:])) << 16)
			}
		}
		f.Tensors[name] = Tensor{Shape: append([]int{}, e.Shape...), Data: vals}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, fmt.Errorf("safetensors: tensors %q and %q overlap", spans[i-1].name, spans[i].name)
		}
	}
	return f, nil
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(mant) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 31:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ReadFile reads and decodes a file; errors name the path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes f to path atomically: to a temporary file in the same
// directory, synced, then renamed over path, so a crash never leaves a
// half-written model.
func WriteFile(path string, f *File) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, f) })
}
