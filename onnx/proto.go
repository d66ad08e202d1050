package onnx

import (
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The messages of onnx.proto (IR version 3 to 8) that the importer reads,
// decoded with protowire field by field. Field numbers are onnx.proto's;
// fields the importer has no use for are skipped. Byte fields (raw_data,
// strings) alias the file's bytes: nothing is copied.

// ModelProto is an ONNX model file.
type ModelProto struct {
	IRVersion       int64
	Opsets          []OpsetID
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           *GraphProto
	Metadata        []StringPair
	// Functions counts the model-local functions (not supported: a node
	// calling one is reported as an unsupported op).
	Functions int
}

// OpsetID is one entry of opset_import.
type OpsetID struct {
	Domain  string
	Version int64
}

// StringPair is a StringStringEntryProto.
type StringPair struct{ Key, Value string }

// GraphProto is a computation graph.
type GraphProto struct {
	Name         string
	Nodes        []*NodeProto
	Initializers []*TensorProto
	// SparseInitializers counts sparse initializers (not supported).
	SparseInitializers int
	Inputs             []*ValueInfo
	Outputs            []*ValueInfo
	ValueInfo          []*ValueInfo
}

// NodeProto is one operator call.
type NodeProto struct {
	Inputs  []string
	Outputs []string
	Name    string
	OpType  string
	Domain  string
	Attrs   []*Attribute
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// Attribute types.
const (
	AttrUndefined  AttrType = 0
	AttrFloat      AttrType = 1
	AttrInt        AttrType = 2
	AttrString     AttrType = 3
	AttrTensor     AttrType = 4
	AttrGraph      AttrType = 5
	AttrFloats     AttrType = 6
	AttrInts       AttrType = 7
	AttrStrings    AttrType = 8
	AttrTensors    AttrType = 9
	AttrGraphs     AttrType = 10
	AttrSparse     AttrType = 11
	AttrSparses    AttrType = 12
	AttrTypeProto  AttrType = 13
	AttrTypeProtos AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "undefined", AttrFloat: "float", AttrInt: "int", AttrString: "string",
	AttrTensor: "tensor", AttrGraph: "graph", AttrFloats: "floats", AttrInts: "ints",
	AttrStrings: "strings", AttrTensors: "tensors", AttrGraphs: "graphs",
	AttrSparse: "sparse_tensor", AttrSparses: "sparse_tensors",
	AttrTypeProto: "type_proto", AttrTypeProtos: "type_protos",
}

func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", int32(t))
}

// Attribute is an AttributeProto: every type is decoded.
type Attribute struct {
	Name        string
	RefAttrName string // inside functions only
	Type        AttrType
	F           float32
	I           int64
	S           []byte
	T           *TensorProto
	G           *GraphProto
	Floats      []float32
	Ints        []int64
	Strings     [][]byte
	Tensors     []*TensorProto
	Graphs      []*GraphProto
	// Sparse tensors and type protos are counted, not decoded (no op the
	// importer supports takes them).
	SparseTensors int
	TypeProtos    int
}

// Data types (TensorProto.DataType).
const (
	TypeUndefined  = 0
	TypeFloat      = 1
	TypeUint8      = 2
	TypeInt8       = 3
	TypeUint16     = 4
	TypeInt16      = 5
	TypeInt32      = 6
	TypeInt64      = 7
	TypeString     = 8
	TypeBool       = 9
	TypeFloat16    = 10
	TypeDouble     = 11
	TypeUint32     = 12
	TypeUint64     = 13
	TypeComplex64  = 14
	TypeComplex128 = 15
	TypeBFloat16   = 16
)

var typeNames = []string{"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
	"string", "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16"}

// TypeName names a data type ("float", "int64").
func TypeName(t int32) string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("data type %d", t)
}

// TensorProto is a tensor: an initializer, a Constant's value, a test
// input. Values are in one of the typed fields or in RawData
// (little-endian), or in an external file (External).
type TensorProto struct {
	Dims         []int64
	DataType     int32
	Segmented    bool
	FloatData    []float32
	Int32Data    []int32
	StringData   [][]byte
	Int64Data    []int64
	Name         string
	RawData      []byte
	HasRawData   bool
	External     []StringPair
	DataLocation int32 // 1: external
	DoubleData   []float64
	Uint64Data   []uint64
}

// ValueInfo is a graph input's, output's or intermediate value's declared
// type.
type ValueInfo struct {
	Name string
	// Kind is "tensor", "sequence", "map", "optional", "sparse_tensor" or
	// "" when no type is given.
	Kind     string
	ElemType int32
	// HasShape: the shape is declared (a missing shape means any rank).
	HasShape bool
	Dims     []Dim
}

// Dim is one dimension of a declared shape: a size, a symbolic name
// ("batch"), or neither (unknown).
type Dim struct {
	Value int64
	Param string
	Known bool // Value is set
}

// maxDepth bounds the nesting of graphs in attributes (If, Loop bodies),
// so a hostile file cannot exhaust the stack.
const maxDepth = 32

// protoError is a decoding error with the path of the field.
type protoError struct {
	path []string
	msg  string
}

func (e *protoError) Error() string {
	if len(e.path) == 0 {
		return e.msg
	}
	return strings.Join(e.path, ".") + ": " + e.msg
}

// wrap prefixes a decoding error with a path element.
func wrap(err error, elem string) error {
	if pe, ok := err.(*protoError); ok {
		pe.path = append([]string{elem}, pe.path...)
		return pe
	}
	return err
}

func perr(format string, args ...any) error { return &protoError{msg: fmt.Sprintf(format, args...)} }

// reader walks the fields of one message.
type reader struct {
	b   []byte
	num protowire.Number
	typ protowire.Type
}

// next reads the next tag; false at the end of the message.
func (r *reader) next() (bool, error) {
	if len(r.b) == 0 {
		return false, nil
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		return false, perr("bad field tag: %v", protowire.ParseError(n))
	}
	r.b = r.b[n:]
	r.num, r.typ = num, typ
	return true, nil
}

// skip drops the current field's value.
func (r *reader) skip() error {
	n := protowire.ConsumeFieldValue(r.num, r.typ, r.b)
	if n < 0 {
		return perr("field %d: %v", r.num, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	return nil
}

func (r *reader) want(t protowire.Type, what string) error {
	if r.typ != t {
		return perr("%s (field %d) has wire type %d, want %d", what, r.num, r.typ, t)
	}
	return nil
}

func (r *reader) varint(what string) (uint64, error) {
	if err := r.want(protowire.VarintType, what); err != nil {
		return 0, err
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		return 0, perr("%s: %v", what, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) int64(what string) (int64, error) {
	v, err := r.varint(what)
	return int64(v), err
}

func (r *reader) int32(what string) (int32, error) {
	v, err := r.varint(what)
	return int32(v), err
}

func (r *reader) bytes(what string) ([]byte, error) {
	if err := r.want(protowire.BytesType, what); err != nil {
		return nil, err
	}
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		return nil, perr("%s: %v", what, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) string(what string) (string, error) {
	b, err := r.bytes(what)
	return string(b), err
}

func (r *reader) float32(what string) (float32, error) {
	if err := r.want(protowire.Fixed32Type, what); err != nil {
		return 0, err
	}
	v, n := protowire.ConsumeFixed32(r.b)
	if n < 0 {
		return 0, perr("%s: %v", what, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	return math.Float32frombits(v), nil
}

// Repeated scalar fields come packed (one length-delimited run) or one
// value per tag; both are accepted, as protobuf requires.

func (r *reader) varints(what string, dst []uint64) ([]uint64, error) {
	if r.typ == protowire.VarintType {
		v, err := r.varint(what)
		return append(dst, v), err
	}
	b, err := r.bytes(what)
	if err != nil {
		return dst, err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return dst, perr("%s: %v", what, protowire.ParseError(n))
		}
		dst = append(dst, v)
		b = b[n:]
	}
	return dst, nil
}

func (r *reader) int64s(what string, dst []int64) ([]int64, error) {
	if r.typ == protowire.VarintType {
		v, err := r.varint(what)
		return append(dst, int64(v)), err
	}
	b, err := r.bytes(what)
	if err != nil {
		return dst, err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return dst, perr("%s: %v", what, protowire.ParseError(n))
		}
		dst = append(dst, int64(v))
		b = b[n:]
	}
	return dst, nil
}

func (r *reader) int32s(what string, dst []int32) ([]int32, error) {
	if r.typ == protowire.VarintType {
		v, err := r.varint(what)
		return append(dst, int32(v)), err
	}
	b, err := r.bytes(what)
	if err != nil {
		return dst, err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return dst, perr("%s: %v", what, protowire.ParseError(n))
		}
		dst = append(dst, int32(v))
		b = b[n:]
	}
	return dst, nil
}

func (r *reader) float32s(what string, dst []float32) ([]float32, error) {
	if r.typ == protowire.Fixed32Type {
		v, err := r.float32(what)
		return append(dst, v), err
	}
	b, err := r.bytes(what)
	if err != nil {
		return dst, err
	}
	if len(b)%4 != 0 {
		return dst, perr("%s: packed floats of %d bytes (not a multiple of 4)", what, len(b))
	}
	if dst == nil {
		dst = make([]float32, 0, len(b)/4)
	}
	for i := 0; i < len(b); i += 4 {
		v, _ := protowire.ConsumeFixed32(b[i:])
		dst = append(dst, math.Float32frombits(v))
	}
	return dst, nil
}

func (r *reader) float64s(what string, dst []float64) ([]float64, error) {
	if r.typ == protowire.Fixed64Type {
		v, n := protowire.ConsumeFixed64(r.b)
		if n < 0 {
			return dst, perr("%s: %v", what, protowire.ParseError(n))
		}
		r.b = r.b[n:]
		return append(dst, math.Float64frombits(v)), nil
	}
	b, err := r.bytes(what)
	if err != nil {
		return dst, err
	}
	if len(b)%8 != 0 {
		return dst, perr("%s: packed doubles of %d bytes (not a multiple of 8)", what, len(b))
	}
	for i := 0; i < len(b); i += 8 {
		v, _ := protowire.ConsumeFixed64(b[i:])
		dst = append(dst, math.Float64frombits(v))
	}
	return dst, nil
}

// DecodeModel decodes a ModelProto from the bytes of an .onnx file.
func DecodeModel(b []byte) (*ModelProto, error) {
	m := &ModelProto{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch r.num {
		case 1:
			m.IRVersion, err = r.int64("ir_version")
		case 2:
			m.ProducerName, err = r.string("producer_name")
		case 3:
			m.ProducerVersion, err = r.string("producer_version")
		case 4:
			m.Domain, err = r.string("domain")
		case 5:
			m.ModelVersion, err = r.int64("model_version")
		case 6:
			m.DocString, err = r.string("doc_string")
		case 7:
			var sub []byte
			if sub, err = r.bytes("graph"); err == nil {
				m.Graph, err = decodeGraph(sub, 0)
				err = wrapIf(err, "graph")
			}
		case 8:
			var sub []byte
			if sub, err = r.bytes("opset_import"); err == nil {
				var o OpsetID
				o, err = decodeOpset(sub)
				m.Opsets = append(m.Opsets, o)
				err = wrapIf(err, fmt.Sprintf("opset_import[%d]", len(m.Opsets)-1))
			}
		case 14:
			var sub []byte
			if sub, err = r.bytes("metadata_props"); err == nil {
				var p StringPair
				p, err = decodePair(sub)
				m.Metadata = append(m.Metadata, p)
				err = wrapIf(err, "metadata_props")
			}
		case 25:
			if err = r.want(protowire.BytesType, "functions"); err == nil {
				m.Functions++
				err = r.skip()
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func wrapIf(err error, elem string) error {
	if err == nil {
		return nil
	}
	return wrap(err, elem)
}

func decodeOpset(b []byte) (OpsetID, error) {
	var o OpsetID
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return o, err
		}
		switch r.num {
		case 1:
			o.Domain, err = r.string("domain")
		case 2:
			o.Version, err = r.int64("version")
		default:
			err = r.skip()
		}
		if err != nil {
			return o, err
		}
	}
}

func decodePair(b []byte) (StringPair, error) {
	var p StringPair
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return p, err
		}
		switch r.num {
		case 1:
			p.Key, err = r.string("key")
		case 2:
			p.Value, err = r.string("value")
		default:
			err = r.skip()
		}
		if err != nil {
			return p, err
		}
	}
}

func decodeGraph(b []byte, depth int) (*GraphProto, error) {
	if depth > maxDepth {
		return nil, perr("graphs nested more than %d deep", maxDepth)
	}
	g := &GraphProto{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return g, nil
		}
		var sub []byte
		switch r.num {
		case 1:
			if sub, err = r.bytes("node"); err == nil {
				var n *NodeProto
				n, err = decodeNode(sub, depth)
				g.Nodes = append(g.Nodes, n)
				err = wrapIf(err, fmt.Sprintf("node[%d]", len(g.Nodes)-1))
			}
		case 2:
			g.Name, err = r.string("name")
		case 5:
			if sub, err = r.bytes("initializer"); err == nil {
				var t *TensorProto
				t, err = DecodeTensor(sub)
				g.Initializers = append(g.Initializers, t)
				err = wrapIf(err, fmt.Sprintf("initializer[%d]", len(g.Initializers)-1))
			}
		case 15:
			if err = r.want(protowire.BytesType, "sparse_initializer"); err == nil {
				g.SparseInitializers++
				err = r.skip()
			}
		case 11, 12, 13:
			if sub, err = r.bytes("value info"); err == nil {
				var v *ValueInfo
				v, err = decodeValueInfo(sub)
				switch r.num {
				case 11:
					g.Inputs = append(g.Inputs, v)
					err = wrapIf(err, fmt.Sprintf("input[%d]", len(g.Inputs)-1))
				case 12:
					g.Outputs = append(g.Outputs, v)
					err = wrapIf(err, fmt.Sprintf("output[%d]", len(g.Outputs)-1))
				default:
					g.ValueInfo = append(g.ValueInfo, v)
					err = wrapIf(err, fmt.Sprintf("value_info[%d]", len(g.ValueInfo)-1))
				}
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeNode(b []byte, depth int) (*NodeProto, error) {
	n := &NodeProto{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		var s string
		switch r.num {
		case 1:
			if s, err = r.string("input"); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case 2:
			if s, err = r.string("output"); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			n.Name, err = r.string("name")
		case 4:
			n.OpType, err = r.string("op_type")
		case 7:
			n.Domain, err = r.string("domain")
		case 5:
			var sub []byte
			if sub, err = r.bytes("attribute"); err == nil {
				var a *Attribute
				a, err = decodeAttribute(sub, depth)
				n.Attrs = append(n.Attrs, a)
				err = wrapIf(err, fmt.Sprintf("attribute[%d]", len(n.Attrs)-1))
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return n, err
		}
	}
}

func decodeAttribute(b []byte, depth int) (*Attribute, error) {
	a := &Attribute{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return a, err
		}
		if !ok {
			break
		}
		var sub []byte
		switch r.num {
		case 1:
			a.Name, err = r.string("name")
		case 21:
			a.RefAttrName, err = r.string("ref_attr_name")
		case 20:
			var t int32
			t, err = r.int32("type")
			a.Type = AttrType(t)
		case 2:
			a.F, err = r.float32("f")
		case 3:
			a.I, err = r.int64("i")
		case 4:
			a.S, err = r.bytes("s")
		case 5:
			if sub, err = r.bytes("t"); err == nil {
				a.T, err = DecodeTensor(sub)
				err = wrapIf(err, "t")
			}
		case 6:
			if sub, err = r.bytes("g"); err == nil {
				a.G, err = decodeGraph(sub, depth+1)
				err = wrapIf(err, "g")
			}
		case 7:
			a.Floats, err = r.float32s("floats", a.Floats)
		case 8:
			a.Ints, err = r.int64s("ints", a.Ints)
		case 9:
			if sub, err = r.bytes("strings"); err == nil {
				a.Strings = append(a.Strings, sub)
			}
		case 10:
			if sub, err = r.bytes("tensors"); err == nil {
				var t *TensorProto
				t, err = DecodeTensor(sub)
				a.Tensors = append(a.Tensors, t)
				err = wrapIf(err, fmt.Sprintf("tensors[%d]", len(a.Tensors)-1))
			}
		case 11:
			if sub, err = r.bytes("graphs"); err == nil {
				var g *GraphProto
				g, err = decodeGraph(sub, depth+1)
				a.Graphs = append(a.Graphs, g)
				err = wrapIf(err, fmt.Sprintf("graphs[%d]", len(a.Graphs)-1))
			}
		case 22, 23:
			if err = r.want(protowire.BytesType, "sparse tensor"); err == nil {
				a.SparseTensors++
				err = r.skip()
			}
		case 14, 15:
			if err = r.want(protowire.BytesType, "type proto"); err == nil {
				a.TypeProtos++
				err = r.skip()
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return a, err
		}
	}
	if a.Type == AttrUndefined {
		// IR version < 3 files leave the type out: infer it from the
		// field that is set.
		switch {
		case a.T != nil:
			a.Type = AttrTensor
		case a.G != nil:
			a.Type = AttrGraph
		case len(a.Floats) > 0:
			a.Type = AttrFloats
		case len(a.Ints) > 0:
			a.Type = AttrInts
		case len(a.Strings) > 0:
			a.Type = AttrStrings
		case len(a.Tensors) > 0:
			a.Type = AttrTensors
		case len(a.Graphs) > 0:
			a.Type = AttrGraphs
		case a.S != nil:
			a.Type = AttrString
		}
	}
	return a, nil
}

// DecodeTensor decodes a TensorProto (a .pb file of ONNX's test data is
// one).
func DecodeTensor(b []byte) (*TensorProto, error) {
	t := &TensorProto{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return t, err
		}
		if !ok {
			return t, nil
		}
		var sub []byte
		switch r.num {
		case 1:
			t.Dims, err = r.int64s("dims", t.Dims)
		case 2:
			t.DataType, err = r.int32("data_type")
		case 3:
			if err = r.want(protowire.BytesType, "segment"); err == nil {
				t.Segmented = true
				err = r.skip()
			}
		case 4:
			t.FloatData, err = r.float32s("float_data", t.FloatData)
		case 5:
			t.Int32Data, err = r.int32s("int32_data", t.Int32Data)
		case 6:
			if sub, err = r.bytes("string_data"); err == nil {
				t.StringData = append(t.StringData, sub)
			}
		case 7:
			t.Int64Data, err = r.int64s("int64_data", t.Int64Data)
		case 8:
			t.Name, err = r.string("name")
		case 9:
			t.RawData, err = r.bytes("raw_data")
			t.HasRawData = true
		case 13:
			if sub, err = r.bytes("external_data"); err == nil {
				var p StringPair
				p, err = decodePair(sub)
				t.External = append(t.External, p)
				err = wrapIf(err, "external_data")
			}
		case 14:
			t.DataLocation, err = r.int32("data_location")
		case 10:
			t.DoubleData, err = r.float64s("double_data", t.DoubleData)
		case 11:
			var u []uint64
			u, err = r.varints("uint64_data", t.Uint64Data)
			t.Uint64Data = u
		default:
			err = r.skip()
		}
		if err != nil {
			return t, err
		}
	}
}

func decodeValueInfo(b []byte) (*ValueInfo, error) {
	v := &ValueInfo{}
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil {
			return v, err
		}
		if !ok {
			return v, nil
		}
		switch r.num {
		case 1:
			v.Name, err = r.string("name")
		case 2:
			var sub []byte
			if sub, err = r.bytes("type"); err == nil {
				err = wrapIf(decodeType(sub, v), "type")
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return v, err
		}
	}
}

// decodeType reads a TypeProto into v: the element type and shape of a
// tensor; for other kinds only the kind.
func decodeType(b []byte, v *ValueInfo) error {
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		switch r.num {
		case 1:
			var sub []byte
			if sub, err = r.bytes("tensor_type"); err == nil {
				v.Kind = "tensor"
				err = wrapIf(decodeTensorType(sub, v), "tensor_type")
			}
		case 4, 5, 8, 9:
			if err = r.want(protowire.BytesType, "type"); err == nil {
				v.Kind = map[protowire.Number]string{4: "sequence", 5: "map", 8: "sparse_tensor", 9: "optional"}[r.num]
				err = r.skip()
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
}

func decodeTensorType(b []byte, v *ValueInfo) error {
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		switch r.num {
		case 1:
			v.ElemType, err = r.int32("elem_type")
		case 2:
			var sub []byte
			if sub, err = r.bytes("shape"); err == nil {
				v.HasShape = true
				err = wrapIf(decodeShape(sub, v), "shape")
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
}

func decodeShape(b []byte, v *ValueInfo) error {
	r := reader{b: b}
	for {
		ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if r.num != 1 {
			if err := r.skip(); err != nil {
				return err
			}
			continue
		}
		sub, err := r.bytes("dim")
		if err != nil {
			return err
		}
		var d Dim
		dr := reader{b: sub}
		for {
			ok, err := dr.next()
			if err != nil {
				return wrap(err, "dim")
			}
			if !ok {
				break
			}
			switch dr.num {
			case 1:
				d.Value, err = dr.int64("dim_value")
				d.Known = true
			case 2:
				d.Param, err = dr.string("dim_param")
			default:
				err = dr.skip()
			}
			if err != nil {
				return wrap(err, "dim")
			}
		}
		v.Dims = append(v.Dims, d)
	}
}
