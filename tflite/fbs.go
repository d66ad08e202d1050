package tflite

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// This file reads FlatBuffers defensively. Every table, vector and scalar
// position is checked against the buffer before flatbuffers.Table touches
// it, so a corrupt or truncated file yields an error that names the field
// being read instead of an index panic.

// table is a validated FlatBuffers table plus the path used in errors
// (e.g. "subgraphs[0].tensors[12]").
type table struct {
	t    flatbuffers.Table
	path string
}

// fbError is returned for any structural problem in the file.
type fbError struct {
	path string
	msg  string
}

func (e *fbError) Error() string { return fmt.Sprintf("tflite: field %s: %s", e.path, e.msg) }

func errField(path, format string, args ...any) error {
	return &fbError{path: path, msg: fmt.Sprintf(format, args...)}
}

// inBounds reports whether [off, off+n) lies inside buf.
func inBounds(buf []byte, off, n uint64) bool {
	return off <= uint64(len(buf)) && n <= uint64(len(buf))-off
}

// newTable validates the table at pos: its soffset to the vtable, the
// vtable header and the vtable entries.
func newTable(buf []byte, pos uint64, path string) (table, error) {
	if pos >= 1<<31 || !inBounds(buf, pos, 4) {
		return table{}, errField(path, "table offset %d outside the %d-byte file", pos, len(buf))
	}
	vt := int64(pos) - int64(flatbuffers.GetInt32(buf[pos:]))
	if vt < 0 || !inBounds(buf, uint64(vt), 4) {
		return table{}, errField(path, "vtable offset %d outside the file", vt)
	}
	vtLen := uint64(flatbuffers.GetUint16(buf[vt:]))
	objLen := uint64(flatbuffers.GetUint16(buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || !inBounds(buf, uint64(vt), vtLen) {
		return table{}, errField(path, "bad vtable length %d", vtLen)
	}
	if !inBounds(buf, pos, objLen) {
		return table{}, errField(path, "table of %d bytes runs past the end of the file", objLen)
	}
	// Each field offset must point inside the object.
	for i := uint64(4); i < vtLen; i += 2 {
		fo := uint64(flatbuffers.GetUint16(buf[uint64(vt)+i:]))
		if fo != 0 && fo >= objLen {
			return table{}, errField(path, "field slot %d points outside its table", (i-4)/2)
		}
	}
	return table{t: flatbuffers.Table{Bytes: buf, Pos: flatbuffers.UOffsetT(pos)}, path: path}, nil
}

// slot returns the absolute position of field number f (0-based, in schema
// order), or 0 when the field is absent.
func (t table) slot(f int) uint64 {
	o := t.t.Offset(flatbuffers.VOffsetT(4 + 2*f))
	if o == 0 {
		return 0
	}
	return uint64(t.t.Pos) + uint64(o)
}

func (t table) field(name string) string { return t.path + "." + name }

func (t table) scalar(f int, size uint64, name string) (uint64, bool, error) {
	p := t.slot(f)
	if p == 0 {
		return 0, false, nil
	}
	if !inBounds(t.t.Bytes, p, size) {
		return 0, false, errField(t.field(name), "value runs past the end of the file")
	}
	return p, true, nil
}

func (t table) int32(f int, name string, def int32) (int32, error) {
	p, ok, err := t.scalar(f, 4, name)
	if !ok {
		return def, err
	}
	return flatbuffers.GetInt32(t.t.Bytes[p:]), nil
}

func (t table) uint32(f int, name string, def uint32) (uint32, error) {
	p, ok, err := t.scalar(f, 4, name)
	if !ok {
		return def, err
	}
	return flatbuffers.GetUint32(t.t.Bytes[p:]), nil
}

func (t table) int8(f int, name string, def int8) (int8, error) {
	p, ok, err := t.scalar(f, 1, name)
	if !ok {
		return def, err
	}
	return flatbuffers.GetInt8(t.t.Bytes[p:]), nil
}

func (t table) uint8(f int, name string, def uint8) (uint8, error) {
	p, ok, err := t.scalar(f, 1, name)
	if !ok {
		return def, err
	}
	return flatbuffers.GetUint8(t.t.Bytes[p:]), nil
}

func (t table) float32(f int, name string, def float32) (float32, error) {
	p, ok, err := t.scalar(f, 4, name)
	if !ok {
		return def, err
	}
	return flatbuffers.GetFloat32(t.t.Bytes[p:]), nil
}

// indirect follows the uoffset stored in field f.
func (t table) indirect(f int, name string) (uint64, bool, error) {
	p, ok, err := t.scalar(f, 4, name)
	if !ok {
		return 0, false, err
	}
	target := p + uint64(flatbuffers.GetUint32(t.t.Bytes[p:]))
	if !inBounds(t.t.Bytes, target, 4) {
		return 0, false, errField(t.field(name), "offset %d outside the %d-byte file", target, len(t.t.Bytes))
	}
	return target, true, nil
}

// vector returns the start of the elements and the length of the vector
// in field f, checking that len*elemSize bytes are inside the file.
func (t table) vector(f int, elemSize uint64, name string) (start uint64, n int, err error) {
	p, ok, err := t.indirect(f, name)
	if !ok {
		return 0, 0, err
	}
	l := uint64(flatbuffers.GetUint32(t.t.Bytes[p:]))
	if l > uint64(len(t.t.Bytes)) || !inBounds(t.t.Bytes, p+4, l*elemSize) {
		return 0, 0, errField(t.field(name), "vector of %d elements runs past the end of the file", l)
	}
	return p + 4, int(l), nil
}

func (t table) bytes(f int, name string) ([]byte, error) {
	s, n, err := t.vector(f, 1, name)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.t.Bytes[s : s+uint64(n)], nil
}

func (t table) str(f int, name string) (string, error) {
	b, err := t.bytes(f, name)
	return string(b), err
}

func (t table) int32s(f int, name string) ([]int32, error) {
	s, n, err := t.vector(f, 4, name)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = flatbuffers.GetInt32(t.t.Bytes[s+4*uint64(i):])
	}
	return out, nil
}

func (t table) float32s(f int, name string) ([]float32, error) {
	s, n, err := t.vector(f, 4, name)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = flatbuffers.GetFloat32(t.t.Bytes[s+4*uint64(i):])
	}
	return out, nil
}

func (t table) int64s(f int, name string) ([]int64, error) {
	s, n, err := t.vector(f, 8, name)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = flatbuffers.GetInt64(t.t.Bytes[s+8*uint64(i):])
	}
	return out, nil
}

// tables reads a vector of tables in field f.
func (t table) tables(f int, name string) ([]table, error) {
	s, n, err := t.vector(f, 4, name)
	if err != nil {
		return nil, err
	}
	out := make([]table, n)
	for i := range out {
		p := s + 4*uint64(i)
		target := p + uint64(flatbuffers.GetUint32(t.t.Bytes[p:]))
		if out[i], err = newTable(t.t.Bytes, target, fmt.Sprintf("%s[%d]", t.field(name), i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sub reads the table in field f; ok is false when the field is absent.
func (t table) sub(f int, name string) (table, bool, error) {
	p, ok, err := t.indirect(f, name)
	if !ok {
		return table{}, false, err
	}
	st, err := newTable(t.t.Bytes, p, t.field(name))
	return st, err == nil, err
}
