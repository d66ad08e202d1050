package tflite

import (
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Field numbers below follow the public TFLite schema
// (tensorflow/lite/schema/schema.fbs); a table field with index i lives at
// vtable slot 4+2*i. Unions take two fields: the type byte, then the table.

// TensorType values from the schema.
type TensorType int8

const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int8    TensorType = 9
)

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	case Int32:
		return "int32"
	case Uint8:
		return "uint8"
	case Int64:
		return "int64"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("type(%d)", int8(t))
}

// size is the byte size of one element, 0 for types we do not read.
func (t TensorType) size() int {
	switch t {
	case Float32, Int32:
		return 4
	case Float16:
		return 2
	case Uint8, Int8:
		return 1
	case Int64:
		return 8
	}
	return 0
}

// Quant holds a tensor's affine quantization: real = Scale*(q - ZeroPoint),
// per tensor (one scale) or per channel along Dim.
type Quant struct {
	Scale     []float32
	ZeroPoint []int64
	Dim       int
}

// tensorDef is a decoded Tensor table.
type tensorDef struct {
	Name  string
	Shape []int
	Type  TensorType
	Data  []byte // constant contents, nil for activations
	Quant *Quant // nil when not quantized
}

// opDef is a decoded Operator table.
type opDef struct {
	Code    int32
	Version int32  // the operator code's version (1 when absent)
	Custom  string // custom_code of a CUSTOM operator
	Inputs  []int  // -1 marks an optional input that is absent
	Outputs []int
	Options table // builtin_options table; zero value when absent
	HasOpts bool
	path    string
}

// modelDef is a decoded Model (first subgraph only).
type modelDef struct {
	Version     uint32
	Description string
	Tensors     []tensorDef
	Inputs      []int
	Outputs     []int
	Ops         []opDef
}

// decode parses the flatbuffer into a modelDef.
func decode(buf []byte) (*modelDef, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("tflite: file of %d bytes is too short", len(buf))
	}
	if string(buf[4:8]) != "TFL3" {
		return nil, fmt.Errorf("tflite: file identifier %q is not TFL3", buf[4:8])
	}
	root, err := newTable(buf, uint64(flatbuffers.GetUint32(buf)), "model")
	if err != nil {
		return nil, err
	}
	m := &modelDef{}
	if m.Version, err = root.uint32(0, "version", 0); err != nil {
		return nil, err
	}
	if m.Version != 3 {
		return nil, fmt.Errorf("tflite: schema version %d, want 3", m.Version)
	}
	if m.Description, err = root.str(3, "description"); err != nil {
		return nil, err
	}
	codes, err := root.tables(1, "operator_codes")
	if err != nil {
		return nil, err
	}
	opcodes := make([]int32, len(codes))
	versions := make([]int32, len(codes))
	customs := make([]string, len(codes))
	for i, c := range codes {
		dep, err := c.int8(0, "deprecated_builtin_code", 0)
		if err != nil {
			return nil, err
		}
		bc, err := c.int32(3, "builtin_code", 0)
		if err != nil {
			return nil, err
		}
		// Old files set only the int8 field, new ones both (the int8 one
		// saturated at 127): the larger is the real code.
		opcodes[i] = max(int32(dep), bc)
		if customs[i], err = c.str(1, "custom_code"); err != nil {
			return nil, err
		}
		if versions[i], err = c.int32(2, "version", 1); err != nil {
			return nil, err
		}
	}
	buffers, err := root.tables(4, "buffers")
	if err != nil {
		return nil, err
	}
	subgraphs, err := root.tables(2, "subgraphs")
	if err != nil {
		return nil, err
	}
	if len(subgraphs) == 0 {
		return nil, errField("model.subgraphs", "no subgraph")
	}
	sg := subgraphs[0]
	tensors, err := sg.tables(0, "tensors")
	if err != nil {
		return nil, err
	}
	m.Tensors = make([]tensorDef, len(tensors))
	for i, tt := range tensors {
		if err := decodeTensor(tt, buffers, buf, &m.Tensors[i]); err != nil {
			return nil, err
		}
	}
	checkIdx := func(v []int32, path string, optional bool) ([]int, error) {
		out := make([]int, len(v))
		for i, x := range v {
			if x == -1 && optional {
				out[i] = -1
				continue
			}
			if x < 0 || int(x) >= len(m.Tensors) {
				return nil, errField(fmt.Sprintf("%s[%d]", path, i), "tensor index %d out of range [0,%d)", x, len(m.Tensors))
			}
			out[i] = int(x)
		}
		return out, nil
	}
	in, err := sg.int32s(1, "inputs")
	if err != nil {
		return nil, err
	}
	if m.Inputs, err = checkIdx(in, sg.field("inputs"), false); err != nil {
		return nil, err
	}
	out, err := sg.int32s(2, "outputs")
	if err != nil {
		return nil, err
	}
	if m.Outputs, err = checkIdx(out, sg.field("outputs"), false); err != nil {
		return nil, err
	}
	ops, err := sg.tables(3, "operators")
	if err != nil {
		return nil, err
	}
	m.Ops = make([]opDef, len(ops))
	for i, ot := range ops {
		o := &m.Ops[i]
		o.path = ot.path
		idx, err := ot.uint32(0, "opcode_index", 0)
		if err != nil {
			return nil, err
		}
		if int(idx) >= len(opcodes) {
			return nil, errField(ot.field("opcode_index"), "%d out of range [0,%d)", idx, len(opcodes))
		}
		o.Code, o.Version, o.Custom = opcodes[idx], versions[idx], customs[idx]
		oi, err := ot.int32s(1, "inputs")
		if err != nil {
			return nil, err
		}
		if o.Inputs, err = checkIdx(oi, ot.field("inputs"), true); err != nil {
			return nil, err
		}
		oo, err := ot.int32s(2, "outputs")
		if err != nil {
			return nil, err
		}
		if o.Outputs, err = checkIdx(oo, ot.field("outputs"), false); err != nil {
			return nil, err
		}
		if o.Options, o.HasOpts, err = ot.sub(4, "builtin_options"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func decodeTensor(tt table, buffers []table, file []byte, d *tensorDef) error {
	var err error
	if d.Name, err = tt.str(3, "name"); err != nil {
		return err
	}
	shape, err := tt.int32s(0, "shape")
	if err != nil {
		return err
	}
	d.Shape = make([]int, len(shape))
	n := 1
	for i, s := range shape {
		if s < 0 || s > 1<<24 {
			return errField(tt.field("shape"), "dimension %d of tensor %q is %d", i, d.Name, s)
		}
		d.Shape[i] = int(s)
		n *= int(s)
		if n > 1<<26 {
			return errField(tt.field("shape"), "tensor %q shape %v is too large", d.Name, shape)
		}
	}
	ty, err := tt.int8(1, "type", 0)
	if err != nil {
		return err
	}
	d.Type = TensorType(ty)
	bi, err := tt.uint32(2, "buffer", 0)
	if err != nil {
		return err
	}
	if bi != 0 { // buffer 0 is the conventional empty buffer
		if int(bi) >= len(buffers) {
			return errField(tt.field("buffer"), "buffer index %d out of range [0,%d)", bi, len(buffers))
		}
		b := buffers[bi]
		if d.Data, err = b.bytes(0, "data"); err != nil {
			return err
		}
		if d.Data == nil {
			// Files over 2 GB keep data outside the flatbuffer (offset, size).
			off, ok, err := b.scalar(1, 8, "offset")
			if err != nil {
				return err
			}
			if ok {
				o := flatbuffers.GetUint64(file[off:])
				sp, _, err := b.scalar(2, 8, "size")
				if err != nil {
					return err
				}
				var sz uint64
				if sp != 0 {
					sz = flatbuffers.GetUint64(file[sp:])
				}
				if o > 1 && !inBounds(file, o, sz) {
					return errField(b.field("offset"), "data of %d bytes at %d outside the file", sz, o)
				}
				if o > 1 {
					d.Data = file[o : o+sz]
				}
			}
		}
		if d.Data != nil {
			if es := d.Type.size(); es != 0 && len(d.Data) != n*es {
				return errField(b.field("data"), "tensor %q %s %v needs %d bytes, buffer has %d", d.Name, d.Type, d.Shape, n*es, len(d.Data))
			}
		}
	}
	q, ok, err := tt.sub(4, "quantization")
	if err != nil || !ok {
		return err
	}
	scale, err := q.float32s(2, "scale")
	if err != nil {
		return err
	}
	zp, err := q.int64s(3, "zero_point")
	if err != nil {
		return err
	}
	dim, err := q.int32(6, "quantized_dimension", 0)
	if err != nil {
		return err
	}
	if len(scale) == 0 {
		return nil
	}
	if len(zp) != len(scale) {
		return errField(q.field("zero_point"), "tensor %q has %d scales and %d zero points", d.Name, len(scale), len(zp))
	}
	for i, s := range scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return errField(q.field("scale"), "tensor %q scale[%d] = %g", d.Name, i, s)
		}
	}
	if len(scale) > 1 {
		if dim < 0 || int(dim) >= len(d.Shape) || d.Shape[dim] != len(scale) {
			return errField(q.field("quantized_dimension"), "tensor %q: %d scales along dimension %d of shape %v", d.Name, len(scale), dim, d.Shape)
		}
	}
	d.Quant = &Quant{Scale: scale, ZeroPoint: zp, Dim: int(dim)}
	return nil
}
