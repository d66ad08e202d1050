package onnx

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dlcv-go/dlcv/tensor"
)

// A small ONNX encoder for the tests: models built field by field, so
// that each bad input can be made exactly.

type msg []byte

func (m msg) str(num protowire.Number, s string) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendString(m, s)
}

func (m msg) sub(num protowire.Number, b msg) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) varint(num protowire.Number, v int64) msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, uint64(v))
}

func (m msg) float(num protowire.Number, v float32) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, math.Float32bits(v))
}

// tensorMsg encodes a float tensor with raw data.
func tensorMsg(name string, dims []int64, vals []float32) msg {
	var m msg
	for _, d := range dims {
		m = m.varint(1, d)
	}
	m = m.varint(2, TypeFloat).str(8, name)
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return m.sub(9, raw)
}

// valueInfo encodes a float tensor input or output of a shape (-1: a
// symbolic "n").
func valueInfo(name string, dims ...int64) msg {
	var shape msg
	for _, d := range dims {
		if d < 0 {
			shape = shape.sub(1, msg(nil).str(2, "n"))
		} else {
			shape = shape.sub(1, msg(nil).varint(1, d))
		}
	}
	tt := msg(nil).varint(1, TypeFloat).sub(2, shape)
	return msg(nil).str(1, name).sub(2, msg(nil).sub(1, tt))
}

type nodeSpec struct {
	op      string
	in, out []string
	attrs   []msg
}

func nodeMsg(n nodeSpec) msg {
	var m msg
	for _, s := range n.in {
		m = m.str(1, s)
	}
	for _, s := range n.out {
		m = m.str(2, s)
	}
	m = m.str(3, n.out[0]).str(4, n.op)
	for _, a := range n.attrs {
		m = m.sub(5, a)
	}
	return m
}

func intsAttr(name string, v ...int64) msg {
	m := msg(nil).str(1, name).varint(20, int64(AttrInts))
	for _, x := range v {
		m = m.varint(8, x)
	}
	return m
}

// modelMsg encodes a model of nodes, initializers, one input and one
// output at an opset.
func modelMsg(opset int64, nodes []nodeSpec, inits []msg, in, out msg) []byte {
	var g msg
	for _, n := range nodes {
		g = g.sub(1, nodeMsg(n))
	}
	g = g.str(2, "test")
	for _, t := range inits {
		g = g.sub(5, t)
	}
	g = g.sub(11, in).sub(12, out)
	return msg(nil).varint(1, 8).str(2, "dlcv-test").sub(7, g).sub(8, msg(nil).str(1, "").varint(2, opset))
}

// convModel is Conv(x, W, B) -> Relu for x (n, 2, 5, 5), 3 filters 3x3.
func convModel(w []float32, extraInit ...msg) []byte {
	inits := []msg{tensorMsg("W", []int64{3, 2, 3, 3}, w), tensorMsg("B", []int64{3}, []float32{0.1, -0.2, 0.3})}
	inits = append(inits, extraInit...)
	nodes := []nodeSpec{
		{op: "Conv", in: []string{"x", "W", "B"}, out: []string{"c"}, attrs: []msg{intsAttr("pads", 1, 1, 1, 1)}},
		{op: "Relu", in: []string{"c"}, out: []string{"y"}},
	}
	return modelMsg(13, nodes, inits, valueInfo("x", -1, 2, 5, 5), valueInfo("y", -1, 3, 5, 5))
}

func ramp(n int, s float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%7-3) * s
	}
	return v
}

func TestEncodedModelRuns(t *testing.T) {
	m, err := Convert(convModel(ramp(54, 0.1)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 2, 5, 5)
	for i := range x.Data {
		x.Data[i] = float32(i%5) - 2
	}
	out, err := m.RunNCHW(x)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.EqualShape(out[0].Shape, []int{2, 3, 5, 5}) {
		t.Fatalf("output shape %v", out[0].Shape)
	}
}

func errContains(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", what, err, w)
		}
	}
}

// TestTruncatedModels cuts a model at every length: each prefix gives an
// error (or, where the cut falls between fields, a model missing parts),
// never a panic.
func TestTruncatedModels(t *testing.T) {
	b := convModel(ramp(54, 0.1))
	for n := 0; n < len(b); n++ {
		_, err := Convert(b[:n], "", nil)
		if err == nil {
			t.Errorf("prefix of %d bytes (of %d) converted without error", n, len(b))
		}
	}
	errContains(t, "truncated", func() error { _, err := Convert(b[:len(b)/2], "", nil); return err }(), "not a readable ONNX model")
}

func TestBadModels(t *testing.T) {
	nan := ramp(54, 0.1)
	nan[7] = float32(math.NaN())
	_, err := Convert(convModel(nan), "", nil)
	errContains(t, "NaN weights", err, "NaN", "Conv", "opset 13")

	_, err = Convert(convModel(ramp(50, 0.1)), "", nil)
	errContains(t, "short weights", err, "raw data has 200 bytes", "needs 216")

	// Weights for 4 input channels on a 2-channel input.
	inits := []msg{tensorMsg("W", []int64{3, 4, 3, 3}, ramp(108, 0.1))}
	nodes := []nodeSpec{{op: "Conv", in: []string{"x", "W"}, out: []string{"y"}}}
	_, err = Convert(modelMsg(13, nodes, inits, valueInfo("x", -1, 2, 5, 5), valueInfo("y", -1, 3, 3, 3)), "", nil)
	errContains(t, "channel mismatch", err, `"y" (Conv, opset 13)`, "2 channels", "want 4")

	// Unsupported ops are listed all at once, with their nodes.
	nodes = []nodeSpec{
		{op: "Relu", in: []string{"x"}, out: []string{"a"}},
		{op: "NonZero", in: []string{"a"}, out: []string{"b"}},
		{op: "Loop", in: []string{"b"}, out: []string{"c"}},
		{op: "NonZero", in: []string{"c"}, out: []string{"y"}},
	}
	_, err = Convert(modelMsg(13, nodes, nil, valueInfo("x", 2), valueInfo("y", 2)), "", nil)
	errContains(t, "unsupported", err, "unsupported op(s) at opset 13", `Loop (1 node(s): "c")`, `NonZero (2 node(s): "b", "y")`)

	_, err = Convert(modelMsg(18, []nodeSpec{{op: "Relu", in: []string{"x"}, out: []string{"y"}}}, nil, valueInfo("x", 2), valueInfo("y", 2)), "", nil)
	errContains(t, "opset 18", err, "opset 18", "6 to 17")

	// A dangling input.
	_, err = Convert(modelMsg(13, []nodeSpec{{op: "Add", in: []string{"x", "nowhere"}, out: []string{"y"}}}, nil, valueInfo("x", 2), valueInfo("y", 2)), "", nil)
	errContains(t, "dangling", err, `"nowhere" is not produced`)

	// A reshape of the wrong size.
	shape := msg(nil).varint(1, 2).varint(2, TypeInt64).str(8, "s").sub(7, protowire.AppendVarint(protowire.AppendVarint(nil, 3), 3))
	_, err = Convert(modelMsg(13, []nodeSpec{{op: "Reshape", in: []string{"x", "s"}, out: []string{"y"}}}, []msg{shape}, valueInfo("x", 2, 4), valueInfo("y", 3, 3)), "", nil)
	errContains(t, "reshape size", err, "Reshape", "8 values", "(3, 3)")

	// A file of another kind.
	p := filepath.Join(t.TempDir(), "model.onnx")
	os.WriteFile(p, append([]byte("\x00\x00\x00\x00TFL3"), make([]byte, 64)...), 0o644)
	_, err = Load(p, nil)
	errContains(t, "tflite", err, "is a TFLite flatbuffer, not an ONNX model")
}

// externalInit is an initializer whose data is in a file.
func externalInit(name, location string, offset, length int64) msg {
	m := msg(nil).varint(1, 3).varint(1, 2).varint(1, 3).varint(1, 3).varint(2, TypeFloat).str(8, name)
	for _, kv := range [][2]string{{"location", location}, {"offset", itoa(offset)}, {"length", itoa(length)}} {
		m = m.sub(13, msg(nil).str(1, kv[0]).str(2, kv[1]))
	}
	return m.varint(14, 1)
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	w := ramp(54, 0.1)
	raw := make([]byte, 16+4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(raw[16+4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	model := func(loc string, off, n int64) string {
		inits := []msg{externalInit("W", loc, off, n), tensorMsg("B", []int64{3}, []float32{0, 0, 0})}
		nodes := []nodeSpec{{op: "Conv", in: []string{"x", "W", "B"}, out: []string{"y"}}}
		p := filepath.Join(dir, "m.onnx")
		os.WriteFile(p, modelMsg(13, nodes, inits, valueInfo("x", -1, 2, 5, 5), valueInfo("y", -1, 3, 3, 3)), 0o644)
		return p
	}
	m, err := Load(model("weights.bin", 16, 216), nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Convert(convModel(w), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ref
	if m.Graph == nil {
		t.Fatal("no graph")
	}
	_, err = Load(model("weights.bin", 16, 200), nil)
	errContains(t, "short length", err, "length 200 bytes", "needs 216")
	_, err = Load(model("weights.bin", 100, 216), nil)
	errContains(t, "past the end", err, "past the end of the file")
	_, err = Load(model("../weights.bin", 16, 216), nil)
	errContains(t, "escape", err, `"../weights.bin" leaves the model's folder`)
	_, err = Load(model("/etc/passwd", 0, 216), nil)
	errContains(t, "absolute", err, "leaves the model's folder")
	_, err = Load(model("missing.bin", 0, 216), nil)
	errContains(t, "missing", err, "missing.bin")
	_, err = Convert(mustRead(t, model("weights.bin", 16, 216)), "", nil)
	errContains(t, "no folder", err, "not read from a file")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAllFinite puts a NaN or an infinity at every position of a few
// lengths (the four chains and the tail).
func TestAllFinite(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 9, 17} {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i) - 3.5
		}
		if !allFinite(d) {
			t.Fatalf("n %d: finite values reported not finite", n)
		}
		for i := range n {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				old := d[i]
				d[i] = bad
				if allFinite(d) {
					t.Fatalf("n %d: %v at %d not seen", n, bad, i)
				}
				d[i] = old
			}
		}
	}
}
