// Package npy reads and writes NumPy .npy files, the raw tensors of
// `dlcv run --input x.npy --out DIR`.
//
// Read accepts format versions 1.0 to 3.0, C order, and the numeric
// dtypes (float16/32/64, signed and unsigned integers of 1 to 8 bytes,
// bool) in either byte order; values become float32, dlcv's one element
// type (integers are exact below 2^24). Write writes float32 little
// endian, version 1.0. The header is parsed strictly and every size is
// bounds-checked: a corrupt file is an error, never a panic or a huge
// allocation.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/tensor"
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// MaxElements bounds the tensors Read accepts (4 GiB of float32).
const MaxElements = 1 << 30

// Header is a parsed .npy header.
type Header struct {
	Descr        string // e.g. "<f4"
	FortranOrder bool
	Shape        []int
}

// Read decodes a .npy stream.
func Read(r io.Reader) (*tensor.Tensor, *Header, error) {
	br := bufio.NewReader(r)
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil {
		return nil, nil, fmt.Errorf("npy: reading the magic: %w", err)
	}
	if string(pre[:6]) != magic {
		return nil, nil, errors.New("npy: not a .npy file (bad magic)")
	}
	major := pre[6]
	var hlen int
	switch major {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, nil, fmt.Errorf("npy: header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b))
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, nil, fmt.Errorf("npy: header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b))
	default:
		return nil, nil, fmt.Errorf("npy: format version %d.%d is not supported", major, pre[7])
	}
	if hlen > 1<<20 {
		return nil, nil, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, nil, fmt.Errorf("npy: header: %w", err)
	}
	h, err := parseHeader(string(hb))
	if err != nil {
		return nil, nil, err
	}
	if h.FortranOrder {
		return nil, nil, errors.New("npy: Fortran-order arrays are not supported (save with numpy.ascontiguousarray)")
	}
	size, conv, err := decoder(h.Descr)
	if err != nil {
		return nil, nil, err
	}
	n := 1
	for _, d := range h.Shape {
		if d < 0 || (d > 0 && n > MaxElements/d) {
			return nil, nil, fmt.Errorf("npy: shape %v has more than %d elements", h.Shape, MaxElements)
		}
		n *= d
	}
	// Read in chunks so that a short file fails before a large buffer
	// is allocated.
	t := &tensor.Tensor{Shape: append([]int{}, h.Shape...), Data: make([]float32, 0, min(n, 1<<20))}
	buf := make([]byte, 64<<10-(64<<10)%size)
	for left := n * size; left > 0; {
		k := min(left, len(buf))
		if _, err := io.ReadFull(br, buf[:k]); err != nil {
			return nil, nil, fmt.Errorf("npy: data: %d of %d bytes: %w", n*size-left, n*size, err)
		}
		for i := 0; i < k; i += size {
			t.Data = append(t.Data, conv(buf[i:i+size]))
		}
		left -= k
	}
	return t, h, nil
}

// ReadFile reads a .npy file.
func ReadFile(path string) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, _, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// decoder returns the element size and converter of a dtype descr.
func decoder(descr string) (int, func([]byte) float32, error) {
	if len(descr) < 3 {
		return 0, nil, fmt.Errorf("npy: dtype %q is not supported", descr)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch descr[0] {
	case '<', '|', '=':
	case '>':
		bo = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("npy: dtype %q: unknown byte order", descr)
	}
	kind := descr[1]
	size, err := strconv.Atoi(descr[2:])
	if err != nil {
		return 0, nil, fmt.Errorf("npy: dtype %q is not supported", descr)
	}
	switch {
	case kind == 'f' && size == 4:
		return 4, func(b []byte) float32 { return math.Float32frombits(bo.Uint32(b)) }, nil
	case kind == 'f' && size == 8:
		return 8, func(b []byte) float32 { return float32(math.Float64frombits(bo.Uint64(b))) }, nil
	case kind == 'f' && size == 2:
		return 2, func(b []byte) float32 { return halfToFloat(bo.Uint16(b)) }, nil
	case kind == 'i' && size == 1:
		return 1, func(b []byte) float32 { return float32(int8(b[0])) }, nil
	case kind == 'u' && size == 1:
		return 1, func(b []byte) float32 { return float32(b[0]) }, nil
	case kind == 'b' && size == 1:
		return 1, func(b []byte) float32 { return float32(min(b[0], 1)) }, nil
	case kind == 'i' && size == 2:
		return 2, func(b []byte) float32 { return float32(int16(bo.Uint16(b))) }, nil
	case kind == 'u' && size == 2:
		return 2, func(b []byte) float32 { return float32(bo.Uint16(b)) }, nil
	case kind == 'i' && size == 4:
		return 4, func(b []byte) float32 { return float32(int32(bo.Uint32(b))) }, nil
	case kind == 'u' && size == 4:
		return 4, func(b []byte) float32 { return float32(bo.Uint32(b)) }, nil
	case kind == 'i' && size == 8:
		return 8, func(b []byte) float32 { return float32(int64(bo.Uint64(b))) }, nil
	case kind == 'u' && size == 8:
		return 8, func(b []byte) float32 { return float32(bo.Uint64(b)) }, nil
	}
	return 0, nil, fmt.Errorf("npy: dtype %q is not supported (want a numeric dtype)", descr)
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		v := float32(mant) / 1024 / 16384
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// parseHeader parses the Python dict literal of the header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
func parseHeader(s string) (*Header, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("npy: header %q is not a dict", clip(s))
	}
	body := s[1 : len(s)-1]
	h := &Header{}
	seen := map[string]bool{}
	for len(strings.TrimSpace(body)) > 0 {
		body = strings.TrimSpace(body)
		key, rest, ok := quoted(body)
		if !ok {
			return nil, fmt.Errorf("npy: header %q: expected a quoted key", clip(s))
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("npy: header %q: expected ':' after %q", clip(s), key)
		}
		rest = strings.TrimSpace(rest[1:])
		if seen[key] {
			return nil, fmt.Errorf("npy: header key %q is repeated", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			v, r, ok := quoted(rest)
			if !ok {
				return nil, fmt.Errorf("npy: header descr is not a string (structured dtypes are not supported)")
			}
			h.Descr, rest = v, r
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "True"):
				h.FortranOrder, rest = true, rest[4:]
			case strings.HasPrefix(rest, "False"):
				rest = rest[5:]
			default:
				return nil, fmt.Errorf("npy: header fortran_order is not True or False")
			}
		case "shape":
			if !strings.HasPrefix(rest, "(") {
				return nil, fmt.Errorf("npy: header shape is not a tuple")
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return nil, fmt.Errorf("npy: header shape tuple is not closed")
			}
			h.Shape = []int{}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				f = strings.TrimSuffix(f, "L")
				d, err := strconv.Atoi(f)
				if err != nil || d < 0 {
					return nil, fmt.Errorf("npy: header shape entry %q is not a size", f)
				}
				h.Shape = append(h.Shape, d)
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("npy: header key %q is unknown", key)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, ",") {
			rest = rest[1:]
		} else if strings.TrimSpace(rest) != "" {
			return nil, fmt.Errorf("npy: header %q: expected ',' after %q", clip(s), key)
		}
		body = rest
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("npy: header has no %q", k)
		}
	}
	return h, nil
}

// quoted splits a leading '...' or "..." string off s.
func quoted(s string) (string, string, bool) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Write encodes t as a float32 little-endian .npy (version 1.0).
func Write(w io.Writer, t *tensor.Tensor) error {
	if len(t.Data) != tensor.Numel(t.Shape) {
		return fmt.Errorf("npy: %d values for shape %v", len(t.Data), t.Shape)
	}
	var sb strings.Builder
	for _, d := range t.Shape {
		sb.WriteString(strconv.Itoa(d))
		sb.WriteString(", ")
	}
	shape := sb.String()
	if len(t.Shape) > 1 {
		shape = strings.TrimSuffix(shape, " ")
		shape = strings.TrimSuffix(shape, ",")
	} else {
		shape = strings.TrimSuffix(shape, " ")
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape)
	// The header is padded with spaces so that the data starts at a
	// multiple of 64 bytes, ending in a newline.
	total := len(magic) + 4 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return errors.New("npy: header too long")
	}
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write([]byte{1, 0})
	var l [2]byte
	binary.LittleEndian.PutUint16(l[:], uint16(len(hdr)))
	b.Write(l[:])
	b.WriteString(hdr)
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 4*min(len(t.Data), 16<<10))
	for i := 0; i < len(t.Data); {
		n := min(len(t.Data)-i, len(buf)/4)
		for j := range n {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(t.Data[i+j]))
		}
		if _, err := w.Write(buf[:4*n]); err != nil {
			return err
		}
		i += n
	}
	return nil
}

// WriteFile writes t to a .npy file.
func WriteFile(path string, t *tensor.Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := Write(bw, t); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
