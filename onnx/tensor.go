package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"github.com/dlcv-go/dlcv/tensor"
)

// Data is a decoded TensorProto. dlcv computes in float32, so Float holds
// the values of every numeric type converted to float32 (integers are
// exact below 2^24, which covers shapes, indices and class ids); Int keeps
// integer and bool values exactly, for the attributes-as-inputs the
// importer reads (a Slice's INT64_MAX end, a Reshape's shape).
type Data struct {
	Name  string
	Type  int32
	Shape []int
	Float []float32
	Int   []int64 // nil for float types
}

// Tensor returns the values as a dlcv tensor (sharing Float). A scalar
// (rank 0) keeps its empty shape.
func (d *Data) Tensor() *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int{}, d.Shape...), Data: d.Float}
}

// isInteger reports whether a data type holds integers (or bools).
func isInteger(t int32) bool {
	switch t {
	case TypeUint8, TypeInt8, TypeUint16, TypeInt16, TypeInt32, TypeInt64, TypeBool, TypeUint32, TypeUint64:
		return true
	}
	return false
}

// elemSize is the size in bytes of one element in raw_data.
func elemSize(t int32) int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16, TypeFloat16, TypeBFloat16:
		return 2
	case TypeFloat, TypeInt32, TypeUint32:
		return 4
	case TypeInt64, TypeUint64, TypeDouble:
		return 8
	}
	return 0
}

// maxElements bounds one tensor (4 GiB of float32): a corrupt dims field
// must not make the reader allocate without limit.
const maxElements = 1 << 30

// shapeOf checks dims and returns them with the element count.
func shapeOf(dims []int64) ([]int, int, error) {
	shape := make([]int, len(dims))
	n := 1
	for i, d := range dims {
		if d < 0 {
			return nil, 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d > maxElements || (d > 0 && n > maxElements/int(d)) {
			return nil, 0, fmt.Errorf("shape %v has more than %d elements", dims, maxElements)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	return shape, n, nil
}

// Decode converts a TensorProto's values. dir is the folder of the model
// file, where external data lives (empty: external data is refused).
func (t *TensorProto) Decode(dir string) (*Data, error) {
	d, err := t.decode(dir)
	if err != nil {
		name := t.Name
		if name == "" {
			name = "(unnamed)"
		}
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return d, nil
}

func (t *TensorProto) decode(dir string) (*Data, error) {
	if t.Segmented {
		return nil, fmt.Errorf("segmented tensors are not supported")
	}
	shape, n, err := shapeOf(t.Dims)
	if err != nil {
		return nil, err
	}
	d := &Data{Name: t.Name, Type: t.DataType, Shape: shape}
	switch t.DataType {
	case TypeString:
		return nil, fmt.Errorf("string tensors are not supported (dlcv computes in float32)")
	case TypeComplex64, TypeComplex128:
		return nil, fmt.Errorf("complex tensors are not supported")
	case TypeUndefined:
		return nil, fmt.Errorf("data type is undefined")
	}
	size := elemSize(t.DataType)
	if size == 0 {
		return nil, fmt.Errorf("unknown data type %d", t.DataType)
	}
	raw := t.RawData
	if t.DataLocation == 1 {
		if raw, err = t.external(dir, n*size); err != nil {
			return nil, err
		}
	} else if len(t.External) > 0 {
		return nil, fmt.Errorf("external_data is set but data_location is not EXTERNAL")
	}
	if t.DataLocation == 1 || t.HasRawData {
		if len(raw) != n*size {
			return nil, fmt.Errorf("raw data has %d bytes; %s shape %v needs %d", len(raw), TypeName(t.DataType), shape, n*size)
		}
		d.fromRaw(raw, n)
		return d, nil
	}
	return d, d.fromFields(t, n)
}

// external reads the tensor's bytes from the file named by its
// external_data, which must lie inside dir.
func (t *TensorProto) external(dir string, want int) ([]byte, error) {
	var loc string
	offset, length := int64(0), int64(-1)
	for _, kv := range t.External {
		switch kv.Key {
		case "location":
			loc = kv.Value
		case "offset", "length":
			v, err := strconv.ParseInt(kv.Value, 10, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("external data %s %q is not a non-negative integer", kv.Key, kv.Value)
			}
			if kv.Key == "offset" {
				offset = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return nil, fmt.Errorf("external data has no location")
	}
	if dir == "" {
		return nil, fmt.Errorf("external data %q: the model was not read from a file", loc)
	}
	// The location is relative to the model's folder and must stay in it
	// (a file must not make dlcv read /etc/passwd).
	if !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, fmt.Errorf("external data location %q leaves the model's folder", loc)
	}
	path := filepath.Join(dir, filepath.FromSlash(loc))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	if length < 0 {
		length = st.Size() - offset
	}
	if length != int64(want) {
		return nil, fmt.Errorf("external data %s: length %d bytes, the tensor needs %d", loc, length, want)
	}
	if offset > st.Size() || length > st.Size()-offset {
		return nil, fmt.Errorf("external data %s: bytes %d to %d are past the end of the file (%d bytes)", loc, offset, offset+length, st.Size())
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, offset); err != nil && err != io.EOF {
		return nil, fmt.Errorf("external data %s: %w", loc, err)
	}
	return buf, nil
}

// littleEndian reports whether this machine stores a float32 as ONNX's
// raw_data does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// fromRaw decodes n little-endian elements.
func (d *Data) fromRaw(raw []byte, n int) {
	d.Float = make([]float32, n)
	if isInteger(d.Type) {
		d.Int = make([]int64, n)
	}
	le := binary.LittleEndian
	if d.Type == TypeFloat { // the weights
		raw = raw[:4*n]
		if littleEndian && n > 0 {
			// The bytes are the floats' own: one copy (ResNet-18's 47 MB
			// took 25-30 ms a value at a time).
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&d.Float[0])), 4*n), raw)
			return
		}
		for i := range d.Float {
			d.Float[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return
	}
	for i := range n {
		switch d.Type {
		case TypeFloat:
			d.Float[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		case TypeDouble:
			d.Float[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		case TypeFloat16:
			d.Float[i] = halfToFloat(le.Uint16(raw[2*i:]))
		case TypeBFloat16:
			d.Float[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
		case TypeUint8:
			d.Int[i] = int64(raw[i])
		case TypeBool:
			d.Int[i] = int64(min(raw[i], 1))
		case TypeInt8:
			d.Int[i] = int64(int8(raw[i]))
		case TypeUint16:
			d.Int[i] = int64(le.Uint16(raw[2*i:]))
		case TypeInt16:
			d.Int[i] = int64(int16(le.Uint16(raw[2*i:])))
		case TypeInt32:
			d.Int[i] = int64(int32(le.Uint32(raw[4*i:])))
		case TypeUint32:
			d.Int[i] = int64(le.Uint32(raw[4*i:]))
		case TypeInt64:
			d.Int[i] = int64(le.Uint64(raw[8*i:]))
		case TypeUint64:
			d.Int[i] = int64(le.Uint64(raw[8*i:]))
		}
		if d.Int != nil {
			d.Float[i] = float32(d.Int[i])
		}
	}
}

// fromFields decodes the typed fields (float_data, int32_data, ...).
func (d *Data) fromFields(t *TensorProto, n int) error {
	count := func(have int, field string) error {
		if have != n {
			return fmt.Errorf("%s has %d values; %s shape %v needs %d", field, have, TypeName(t.DataType), d.Shape, n)
		}
		return nil
	}
	// Check the count before allocating: dims may claim more than the
	// file holds.
	var have int
	var field string
	switch t.DataType {
	case TypeFloat:
		have, field = len(t.FloatData), "float_data"
	case TypeDouble:
		have, field = len(t.DoubleData), "double_data"
	case TypeInt64:
		have, field = len(t.Int64Data), "int64_data"
	case TypeUint32, TypeUint64:
		have, field = len(t.Uint64Data), "uint64_data"
	default:
		have, field = len(t.Int32Data), "int32_data"
	}
	if err := count(have, field); err != nil {
		return err
	}
	d.Float = make([]float32, n)
	switch t.DataType {
	case TypeFloat:
		if err := count(len(t.FloatData), "float_data"); err != nil {
			return err
		}
		copy(d.Float, t.FloatData)
		return nil
	case TypeDouble:
		if err := count(len(t.DoubleData), "double_data"); err != nil {
			return err
		}
		for i, v := range t.DoubleData {
			d.Float[i] = float32(v)
		}
		return nil
	case TypeFloat16, TypeBFloat16:
		if err := count(len(t.Int32Data), "int32_data"); err != nil {
			return err
		}
		for i, v := range t.Int32Data {
			if t.DataType == TypeFloat16 {
				d.Float[i] = halfToFloat(uint16(v))
			} else {
				d.Float[i] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
		return nil
	}
	d.Int = make([]int64, n)
	switch t.DataType {
	case TypeInt64:
		if err := count(len(t.Int64Data), "int64_data"); err != nil {
			return err
		}
		copy(d.Int, t.Int64Data)
	case TypeUint32, TypeUint64:
		if err := count(len(t.Uint64Data), "uint64_data"); err != nil {
			return err
		}
		for i, v := range t.Uint64Data {
			d.Int[i] = int64(v)
		}
	default: // int32, int16, int8, uint16, uint8, bool
		if err := count(len(t.Int32Data), "int32_data"); err != nil {
			return err
		}
		for i, v := range t.Int32Data {
			switch t.DataType {
			case TypeUint8:
				d.Int[i] = int64(uint8(v))
			case TypeInt8:
				d.Int[i] = int64(int8(v))
			case TypeUint16:
				d.Int[i] = int64(uint16(v))
			case TypeInt16:
				d.Int[i] = int64(int16(v))
			case TypeBool:
				d.Int[i] = int64(min(uint32(v), 1))
			default:
				d.Int[i] = int64(v)
			}
		}
	}
	for i, v := range d.Int {
		d.Float[i] = float32(v)
	}
	return nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
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

// ReadTensorFile reads a serialized TensorProto (the input_*.pb and
// output_*.pb files of ONNX's test data).
func ReadTensorFile(path string) (*Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp, err := DecodeTensor(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d, err := tp.Decode(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
