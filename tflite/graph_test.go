package tflite

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// opts builds an options table of n fields; set writes them.
func opts(n int, set func(b *flatbuffers.Builder)) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		b.StartObject(n)
		set(b)
		return b.EndObject()
	}
}

// poolOptions writes Pool2DOptions.
func poolOptions(same bool, stride, k int32, act byte) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return opts(6, func(b *flatbuffers.Builder) {
		pad := int8(1)
		if same {
			pad = 0
		}
		b.PrependInt8Slot(0, pad, 0)
		b.PrependInt32Slot(1, stride, 0)
		b.PrependInt32Slot(2, stride, 0)
		b.PrependInt32Slot(3, k, 0)
		b.PrependInt32Slot(4, k, 0)
		b.PrependByteSlot(5, act, 0)
	})
}

// actOptions writes an options table whose field 0 is the fused
// activation (AddOptions, MulOptions, ...).
func actOptions(act byte) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return opts(2, func(b *flatbuffers.Builder) { b.PrependByteSlot(0, act, 0) })
}

// floatModel is a small float model through most operators the
// interpreter runs: 13 tensors computed from input "in" (2 images).
func floatModel(r *rand.Rand) []byte {
	const h, w, c = 9, 11, 3
	w1, b1 := randFloats(r, 6*3*3*c), randFloats(r, 6)
	w2, b2 := randFloats(r, 3*3*12), randFloats(r, 12)
	w3 := randFloats(r, 12*12)
	w10, b10 := randFloats(r, 5*24), randFloats(r, 5)
	tensors := []tTensor{
		{name: "in", shape: []int32{1, h, w, c}},                       // 0
		{name: "w1", shape: []int32{6, 3, 3, c}, data: f32bytes(w1)},   // 1
		{name: "b1", shape: []int32{6}, data: f32bytes(b1)},            // 2
		{name: "conv1;fused/name", shape: []int32{1, 5, 6, 6}},         // 3
		{name: "w2", shape: []int32{1, 3, 3, 12}, data: f32bytes(w2)},  // 4
		{name: "b2", shape: []int32{12}, data: f32bytes(b2)},           // 5
		{name: "dw", shape: []int32{1, 5, 6, 12}},                      // 6
		{name: "w3", shape: []int32{12, 1, 1, 12}, data: f32bytes(w3)}, // 7
		{name: "pw", shape: []int32{1, 5, 6, 12}},                      // 8
		{name: "add", shape: []int32{1, 5, 6, 12}},                     // 9
		{name: "pads", shape: []int32{4, 2}, typ: Int32, data: i32bytes([]int32{0, 0, 1, 0, 0, 1, 0, 0})},
		{name: "padded", shape: []int32{1, 6, 7, 12}},  // 11
		{name: "maxpool", shape: []int32{1, 3, 3, 12}}, // 12
		{name: "avgpool", shape: []int32{1, 3, 3, 12}}, // 13
		{name: "concat", shape: []int32{1, 3, 3, 24}},  // 14
		{name: "axes", shape: []int32{2}, typ: Int32, data: i32bytes([]int32{1, 2})},
		{name: "features:0", shape: []int32{1, 1, 1, 24}},         // 16
		{name: "w10", shape: []int32{5, 24}, data: f32bytes(w10)}, // 17
		{name: "b10", shape: []int32{5}, data: f32bytes(b10)},     // 18
		{name: "fc", shape: []int32{1, 5}},                        // 19
		{name: "shape3", shape: []int32{3}, typ: Int32, data: i32bytes([]int32{1, 1, 5})},
		{name: "reshaped", shape: []int32{1, 1, 5}}, // 21
		{name: "squeezed", shape: []int32{1, 5}},    // 22
		{name: "probs", shape: []int32{1, 5}},       // 23
	}
	dwOpts := opts(7, func(b *flatbuffers.Builder) {
		b.PrependInt32Slot(1, 1, 0)
		b.PrependInt32Slot(2, 1, 0)
		b.PrependInt32Slot(3, 2, 0) // depth_multiplier
		b.PrependInt32Slot(5, 2, 0) // dilation_w_factor
		b.PrependInt32Slot(6, 2, 0) // dilation_h_factor
	})
	ops := []tOp{
		{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(false, true, 2, actRelu6)},
		{code: opDepthwiseConv, in: []int32{3, 4, 5}, out: []int32{6}, optType: 2, opts: dwOpts},
		{code: opConv2D, in: []int32{6, 7, -1}, out: []int32{8}, optType: 1, opts: convOpts(false, false, 1, actRelu)},
		{code: opAdd, in: []int32{6, 8}, out: []int32{9}, opts: actOptions(actRelu1)},
		{code: opPad, in: []int32{9, 10}, out: []int32{11}},
		{code: opMaxPool2D, in: []int32{11}, out: []int32{12}, opts: poolOptions(false, 2, 2, actNone)},
		{code: opAveragePool2D, in: []int32{9}, out: []int32{13}, opts: poolOptions(true, 2, 3, actRelu)},
		{code: opConcatenation, in: []int32{12, 13}, out: []int32{14}, opts: opts(2, func(b *flatbuffers.Builder) { b.PrependInt32Slot(0, 3, 0) })},
		{code: opMean, in: []int32{14, 15}, out: []int32{16}, opts: opts(1, func(b *flatbuffers.Builder) { b.PrependBoolSlot(0, true, false) })},
		{code: opFullyConn, in: []int32{16, 17, 18}, out: []int32{19}, opts: actOptions(actNone)},
		{code: opReshape, in: []int32{19, 20}, out: []int32{21}},
		{code: opSqueeze, in: []int32{21}, out: []int32{22}, opts: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
			dims := int32Vec(b, []int32{1}) // vectors come before their table
			b.StartObject(1)
			b.PrependUOffsetTSlot(0, dims, 0)
			return b.EndObject()
		}},
		{code: opSoftmax, in: []int32{22}, out: []int32{23}, opts: opts(1, func(b *flatbuffers.Builder) { b.PrependFloat32Slot(0, 0.5, 1) })},
	}
	return buildModel(tensors, ops, []int32{0}, []int32{23})
}

// cutModel compiles the interpreter with tensor out as the output (tests
// compare every intermediate tensor).
func cutModel(t *testing.T, b []byte, out string) *Model {
	t.Helper()
	def, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	found := -1
	for i, td := range def.Tensors {
		if td.Name == out {
			found = i
		}
	}
	if found < 0 {
		t.Fatalf("no tensor %q", out)
	}
	def.Outputs = []int{found}
	m, err := compile(def)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maxRel is max|a-b| / max|b|.
func maxRel(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		m = max(m, math.Abs(float64(b[i])))
	}
	return d / max(m, 1e-30)
}

func predict(t *testing.T, g *nn.Graph, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	y, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// Every tensor of the float model, cut there, matches the interpreter
// within 1e-5 relative, with real inputs and with pixels.
func TestGraphFloatMatchesInterpreter(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	b := floatModel(r)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 9, 11, 3)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for _, name := range []string{"conv1;fused/name", "dw", "pw", "add", "padded", "maxpool", "avgpool", "concat", "features:0", "fc", "reshaped", "squeezed", "probs"} {
		g, err := ToGraph(m, GraphOptions{RealInput: true, Outputs: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		want, err := cutModel(t, b, name).Run(x)
		if err != nil {
			t.Fatal(err)
		}
		got := predict(t, g, x)
		if !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, interpreter %v", name, got.Shape, want.Shape)
		}
		if e := maxRel(got.Data, want.Data); e > 1e-5 {
			t.Errorf("%s: relative difference %.2g", name, e)
		}
	}
	// Node names: the tensor name up to ';', ':' replaced.
	g, err := ToGraph(m, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"in", "in/dequantize", "conv1", "features_0", "probs", "add/pre_activation", "add"} {
		if g.NodeByName(n) == nil {
			t.Errorf("no node %q", n)
		}
	}
	if s := g.Outputs()[0].Shape(); !slices.Equal(s, []int{-1, 5}) {
		t.Errorf("output shape %v", s)
	}
	// Pixels 0..255 (and 0..1 with PixelMax 1) map as Preprocess does.
	px := tensor.New(2, 9, 11, 3)
	real := tensor.New(2, 9, 11, 3)
	unit := tensor.New(2, 9, 11, 3)
	mean, std := m.InputNorm()
	if mean != 127.5 || std != 127.5 {
		t.Fatalf("float InputNorm %v %v", mean, std)
	}
	for i := range px.Data {
		p := float32(r.IntN(256))
		px.Data[i], real.Data[i], unit.Data[i] = p, (p-127.5)*float32(1/127.5), p/255
	}
	want, err := m.Run(real)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRel(predict(t, g, px).Data, want.Data); e > 1e-5 {
		t.Errorf("pixel input: relative difference %.2g", e)
	}
	gu, err := ToGraph(m, GraphOptions{PixelMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRel(predict(t, gu, unit).Data, want.Data); e > 1e-5 {
		t.Errorf("[0,1] input: relative difference %.2g", e)
	}
}

// A uint8 convolution and an int8 per-channel depthwise convolution:
// the graph's weights are exactly the dequantized ones, and its output is
// within half an output step of the interpreter's (one layer: the
// interpreter's only extra error is the final rounding).
func TestGraphQuantizedWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const h, w, c, oc = 6, 7, 3, 4
	u8 := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	wq := u8(oc * 9 * c)
	dq := u8(9 * oc)
	bias := []int32{1500, -2000, 0, 800}
	dbias := []int32{-300, 200, 50, 0}
	sIn, sW, sMid := float32(0.02), float32(0.01), float32(0.05)
	dScales := []float32{0.01, 0.02, 0.005, 0.03}
	sOut := float32(1.5) // wide enough that no output saturates
	const zIn, zW, zMid = 128, 120, 10
	b := buildModel([]tTensor{
		{name: "in", shape: []int32{1, h, w, c}, typ: Uint8, scale: []float32{sIn}, zp: []int64{zIn}},
		{name: "w", shape: []int32{oc, 3, 3, c}, typ: Uint8, data: wq, scale: []float32{sW}, zp: []int64{zW}},
		{name: "b", shape: []int32{oc}, typ: Int32, data: i32bytes(bias), scale: []float32{sIn * sW}, zp: []int64{0}},
		{name: "mid", shape: []int32{1, h, w, oc}, typ: Uint8, scale: []float32{sMid}, zp: []int64{zMid}},
		{name: "q", shape: []int32{1, h, w, oc}, typ: Int8, scale: []float32{sMid}, zp: []int64{zMid - 128}},
		{name: "dw", shape: []int32{1, 3, 3, oc}, typ: Int8, data: dq, scale: dScales, zp: []int64{0, 0, 0, 0}, qdim: 3},
		{name: "db", shape: []int32{oc}, typ: Int32, data: i32bytes(dbias)},
		{name: "out", shape: []int32{1, h, w, oc}, typ: Int8, scale: []float32{sOut}, zp: []int64{-5}},
	}, []tOp{
		{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(false, true, 1, actRelu6)},
		{code: opQuantize, in: []int32{3}, out: []int32{4}},
		{code: opDepthwiseConv, in: []int32{4, 5, 6}, out: []int32{7}, optType: 2, opts: convOpts(true, false, 1, actNone)},
	}, []int32{0}, []int32{7})
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ToGraph(m, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conv := g.NodeByName("mid").Op.(*nn.Conv2D)
	if conv.Act != (nn.Act{Kind: "clip", Min: 0, Max: 6}) || conv.Padding != nn.Same {
		t.Errorf("conv act %v padding %v", conv.Act, conv.Padding)
	}
	k, bb := conv.Params()[0].Value, conv.Params()[1].Value
	for o := 0; o < oc; o++ {
		for j := 0; j < 9*c; j++ {
			if want := sW * (float32(wq[o*9*c+j]) - zW); k.Data[j*oc+o] != want {
				t.Fatalf("kernel (%d, %d) = %v, want %v", j, o, k.Data[j*oc+o], want)
			}
		}
		if want := float32(float64(bias[o]) * float64(sIn) * float64(sW)); bb.Data[o] != want {
			t.Fatalf("bias %d = %v, want %v", o, bb.Data[o], want)
		}
	}
	dw := g.NodeByName("out").Op.(*nn.DepthwiseConv2D)
	dk, db := dw.Params()[0].Value, dw.Params()[1].Value
	for i, q := range dq {
		if want := dScales[i%oc] * float32(int8(q)); dk.Data[i] != want {
			t.Fatalf("depthwise kernel %d = %v, want %v", i, dk.Data[i], want)
		}
	}
	for o := range oc {
		if want := float32(float64(dbias[o]) * float64(sMid) * float64(dScales[o])); db.Data[o] != want {
			t.Fatalf("depthwise bias %d = %v, want %v", o, db.Data[o], want)
		}
	}
	// Pixels are the uint8 input's q values.
	mean, std := m.InputNorm()
	if mean != zIn || std != 1/sIn {
		t.Errorf("InputNorm %v %v", mean, std)
	}
	px, real := tensor.New(2, h, w, c), tensor.New(2, h, w, c)
	for i := range px.Data {
		px.Data[i] = float32(r.IntN(256))
		real.Data[i] = (px.Data[i] - zIn) * sIn
	}
	gotMid := predict(t, mustGraph(t, m, GraphOptions{Outputs: []string{"mid"}}), px)
	wantMid, err := cutModel(t, b, "mid").Run(real)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wantMid.Data {
		if d := math.Abs(float64(gotMid.Data[i] - wantMid.Data[i])); d > float64(sMid)/2*1.0001 {
			t.Fatalf("mid %d: graph %v, interpreter %v", i, gotMid.Data[i], wantMid.Data[i])
		}
	}
	// The whole model: the depthwise layer sees the interpreter's rounding
	// of mid too, bounded by the filter's absolute sum per channel.
	got := predict(t, g, px)
	want, err := m.Run(real)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		o := i % oc
		var l1 float64
		for j := 0; j < 9; j++ {
			l1 += math.Abs(float64(dScales[o] * float32(int8(dq[j*oc+o]))))
		}
		if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > float64(sOut)/2+l1*float64(sMid)/2+1e-5 {
			t.Fatalf("out %d: graph %v, interpreter %v", i, got.Data[i], want.Data[i])
		}
	}
}

func mustGraph(t *testing.T, m *Model, o GraphOptions) *nn.Graph {
	t.Helper()
	g, err := ToGraph(m, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The operators only the graph importer runs, against their formulas.
func TestGraphElementwiseOps(t *testing.T) {
	half := func(v []uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			b[2*i], b[2*i+1] = byte(x), byte(x>>8)
		}
		return b
	}
	// float16 1, -2, 0.5, 65504 (the largest), 2^-24 (the smallest subnormal)
	h16 := []uint16{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001}
	h32 := []float32{1, -2, 0.5, 65504, 1.0 / (1 << 24)}
	for i, v := range h16 {
		if got := halfToFloat(v); got != h32[i] {
			t.Errorf("halfToFloat(%#x) = %v, want %v", v, got, h32[i])
		}
	}
	const n = 5
	tensors := []tTensor{
		{name: "x", shape: []int32{1, n}},                                  // 0
		{name: "k16", shape: []int32{1, n}, typ: Float16, data: half(h16)}, // 1
		{name: "k", shape: []int32{1, n}},                                  // 2
		{name: "sig", shape: []int32{1, n}},                                // 3
		{name: "tanh", shape: []int32{1, n}},                               // 4
		{name: "relu", shape: []int32{1, n}},                               // 5
		{name: "relu6", shape: []int32{1, n}},                              // 6
		{name: "relu1", shape: []int32{1, n}},                              // 7
		{name: "leaky", shape: []int32{1, n}},                              // 8
		{name: "hswish", shape: []int32{1, n}},                             // 9
		{name: "mul", shape: []int32{1, n}},                                // 10
		{name: "sub", shape: []int32{1, n}},                                // 11
		{name: "div", shape: []int32{1, n}},                                // 12
		{name: "pads", shape: []int32{2, 2}, typ: Int32, data: i32bytes([]int32{0, 0, 1, 2})},
		{name: "value", shape: []int32{}, data: f32bytes([]float32{-7})}, // 14
		{name: "padded", shape: []int32{1, n + 3}},                       // 15
	}
	ops := []tOp{
		{code: opDequantize, in: []int32{1}, out: []int32{2}},
		{code: opLogistic, in: []int32{0}, out: []int32{3}},
		{code: opTanh, in: []int32{0}, out: []int32{4}},
		{code: opRelu, in: []int32{0}, out: []int32{5}},
		{code: opRelu6, in: []int32{0}, out: []int32{6}},
		{code: opReluN1To1, in: []int32{0}, out: []int32{7}},
		{code: opLeakyRelu, in: []int32{0}, out: []int32{8}, opts: opts(1, func(b *flatbuffers.Builder) { b.PrependFloat32Slot(0, 0.2, 0) })},
		{code: opHardSwish, in: []int32{0}, out: []int32{9}},
		{code: opMul, in: []int32{0, 2}, out: []int32{10}, opts: actOptions(actRelu)},
		{code: opSub, in: []int32{0, 2}, out: []int32{11}},
		{code: opDiv, in: []int32{0, 2}, out: []int32{12}, opts: actOptions(actTanh)},
		{code: opPadV2, in: []int32{12, 13, 14}, out: []int32{15}},
	}
	b := buildModel(tensors, ops, []int32{0}, []int32{15})
	x := tensor.New(2, n)
	copy(x.Data, []float32{-3, -0.5, 0, 0.7, 8, 2, -9, 0.25, 5.5, -1.5})
	k := h32
	f := map[string]func(v float32, i int) float32{
		"sig":    func(v float32, _ int) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) },
		"tanh":   func(v float32, _ int) float32 { return float32(math.Tanh(float64(v))) },
		"relu":   func(v float32, _ int) float32 { return max(v, 0) },
		"relu6":  func(v float32, _ int) float32 { return min(max(v, 0), 6) },
		"relu1":  func(v float32, _ int) float32 { return min(max(v, -1), 1) },
		"leaky":  func(v float32, _ int) float32 { return max(v, 0.2*v) },
		"hswish": func(v float32, _ int) float32 { return v * min(max(v+3, 0), 6) / 6 },
		"mul":    func(v float32, i int) float32 { return max(v*k[i], 0) },
		"sub":    func(v float32, i int) float32 { return v - k[i] },
		"div":    func(v float32, i int) float32 { return float32(math.Tanh(float64(v / k[i]))) },
	}
	for name, fn := range f {
		g, err := ParseGraph(b, GraphOptions{Outputs: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		got := predict(t, g, x)
		for i, v := range x.Data {
			if want := fn(v, i%n); math.Abs(float64(got.Data[i]-want)) > 1e-6*max(1, math.Abs(float64(want))) {
				t.Errorf("%s(%v) = %v, want %v", name, v, got.Data[i], want)
			}
		}
	}
	g, err := ParseGraph(b, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := predict(t, g, x)
	if !slices.Equal(got.Shape, []int{2, n + 3}) {
		t.Fatalf("padded shape %v", got.Shape)
	}
	for row := 0; row < 2; row++ {
		for j := 0; j < n+3; j++ {
			want := float32(-7)
			if j >= 1 && j <= n {
				want = f["div"](x.Data[row*n+j-1], j-1)
			}
			if v := got.Data[row*(n+3)+j]; math.Abs(float64(v-want)) > 1e-6 {
				t.Errorf("padded (%d, %d) = %v, want %v", row, j, v, want)
			}
		}
	}
}

// Outputs cut the graph: only the operators the named tensors need are
// converted, and the values equal the whole graph's.
func TestGraphOutputsCut(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := floatModel(r)
	full, err := ParseGraph(b, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut, err := ParseGraph(b, GraphOptions{Outputs: []string{"features_0", "dw"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cut.Outputs()) != 2 || cut.NodeByName("fc") != nil || cut.NodeByName("probs") != nil {
		t.Fatalf("cut graph has outputs %d, fc %v", len(cut.Outputs()), cut.NodeByName("fc") != nil)
	}
	// Gone: the dense layer's kernel and bias, the softmax's beta.
	if len(cut.Params()) != len(full.Params())-3 {
		t.Errorf("cut graph has %d params, full %d: the head's 3 should be gone", len(cut.Params()), len(full.Params()))
	}
	x := tensor.New(3, 9, 11, 3)
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	s := full.NewSession()
	want, err := s.RunValues(false, []*tensor.Tensor{x}, []*nn.Value{full.NodeByName("features_0").Out(0), full.NodeByName("dw").Out(0)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cut.NewSession().Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !slices.Equal(got[i].Data, want[i].Data) {
			t.Errorf("output %d differs from the full graph's", i)
		}
	}
	for _, tc := range []struct{ out, msg string }{
		{"nowhere", `output "nowhere" is not a tensor of the model`},
		{"w1", `output "w1" is a constant tensor`},
	} {
		if _, err := ParseGraph(b, GraphOptions{Outputs: []string{tc.out}}); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Outputs %q: err = %v", tc.out, err)
		}
	}
}

// Every unsupported operator the outputs need is listed at once; cutting
// before them converts the rest.
func TestGraphUnsupportedListed(t *testing.T) {
	b := buildModel([]tTensor{
		{name: "in", shape: []int32{1, 2, 2, 4}},
		{name: "a", shape: []int32{1, 2, 2, 4}},
		{name: "b", shape: []int32{1, 4, 4, 1}},
		{name: "perm", shape: []int32{4}, typ: Int32, data: i32bytes([]int32{0, 2, 1, 3})},
		{name: "c", shape: []int32{1, 4, 4, 1}},
		{name: "d", shape: []int32{1, 4, 4, 1}},
	}, []tOp{
		{code: opRelu, in: []int32{0}, out: []int32{1}},
		{code: 5, in: []int32{1}, out: []int32{2}}, // DEPTH_TO_SPACE
		{code: 39, in: []int32{2, 3}, out: []int32{4}},
		{code: opCustom, in: []int32{4}, out: []int32{5}},
	}, []int32{0}, []int32{5})
	_, err := ParseGraph(b, GraphOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"does not support 3 operator(s)", `operator 1 (DEPTH_TO_SPACE v1, output "b")`, `operator 2 (TRANSPOSE v1, output "c")`, `operator 3 (CUSTOM`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	path := filepath.Join(t.TempDir(), "m.tflite")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGraph(path, GraphOptions{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadGraph error does not name the file: %v", err)
	}
	if _, err := LoadGraph(path, GraphOptions{Outputs: []string{"a"}}); err != nil {
		t.Errorf("cut before the unsupported operators: %v", err)
	}
}

// Malformed models give errors naming the operator, never a panic.
func TestGraphBadModels(t *testing.T) {
	conv := func(filter []int32, bias []int32, in []int32) []byte {
		return buildModel([]tTensor{
			{name: "in", shape: []int32{1, 4, 4, 3}},
			{name: "w", shape: filter, data: f32bytes(make([]float32, tensor.Numel(toInts(filter))))},
			{name: "b", shape: bias, data: f32bytes(make([]float32, tensor.Numel(toInts(bias))))},
			{name: "out", shape: []int32{1, 4, 4, 2}},
		}, []tOp{{code: opConv2D, in: in, out: []int32{3}, optType: 1, opts: convOpts(false, true, 1, actNone)}}, []int32{0}, []int32{3})
	}
	for _, tc := range []struct {
		name string
		b    []byte
		msg  string
	}{
		{"filter rank", conv([]int32{2, 3, 3}, []int32{2}, []int32{0, 1, 2}), `operator 0 (CONV_2D v1, output "out"): filter "w" has shape [2 3 3], want rank 4`},
		{"channels", conv([]int32{2, 1, 1, 2}, []int32{2}, []int32{0, 1, 2}), "does not fit filter"},
		{"bias", conv([]int32{2, 1, 1, 3}, []int32{3}, []int32{0, 1, 2}), `bias "b" has shape [3], want a constant [2]`},
		{"filter not constant", conv([]int32{2, 1, 1, 3}, []int32{2}, []int32{0, 0, 2}), "the filter must be a constant"},
		{"reads uncomputed", buildModel([]tTensor{
			{name: "in", shape: []int32{1, 2}}, {name: "x", shape: []int32{1, 2}}, {name: "y", shape: []int32{1, 2}},
		}, []tOp{{code: opAdd, in: []int32{0, 1}, out: []int32{2}}}, []int32{0}, []int32{2}), `reads tensor "x" before it is computed`},
		{"shapes", buildModel([]tTensor{
			{name: "in", shape: []int32{1, 2}}, {name: "k", shape: []int32{3}, data: f32bytes([]float32{1, 2, 3})}, {name: "y", shape: []int32{1, 2}},
		}, []tOp{{code: opAdd, in: []int32{0, 1}, out: []int32{2}}}, []int32{0}, []int32{2}), "do not broadcast"},
	} {
		_, err := ParseGraph(tc.b, GraphOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "tflite: ") {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.msg)
		}
	}
	if _, err := ToGraph(nil, GraphOptions{}); err == nil {
		t.Error("ToGraph(nil) succeeded")
	}
	if _, err := ParseGraph(floatModel(rand.New(rand.NewPCG(1, 1))), GraphOptions{PixelMax: -1}); err == nil {
		t.Error("PixelMax -1 accepted")
	}
}

func toInts(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// The imported graph trains: one step changes the weights and lowers the
// loss, and it saves and loads as a dlcv model file.
func TestGraphTrainsAndSaves(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	g, err := ParseGraph(floatModel(r), GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(4, 9, 11, 3)
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	y := tensor.New(4, 5)
	for i := 0; i < 4; i++ {
		y.Data[i*5+i%5] = 1
	}
	loss := nn.NewCategoricalCrossEntropy()
	l0, err := g.TrainStep(x, y, loss)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		if p.Trainable {
			for i, gr := range p.Grad.Data {
				p.Value.Data[i] -= 0.01 * gr
			}
		}
	}
	l1, err := g.TrainStep(x, y, loss)
	if err != nil {
		t.Fatal(err)
	}
	if !(l1 < l0) {
		t.Errorf("loss %v then %v", l0, l1)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := nn.SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	back, _, err := nn.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	a = a.Clone()
	bb, err := back.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Data, bb.Data) {
		t.Error("the loaded model predicts differently")
	}
}

func FuzzToGraph(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	f.Add(floatModel(r))
	f.Add(seedModel())
	f.Add(buildModel([]tTensor{
		{name: "in", shape: []int32{1, 2, 2, 1}, typ: Uint8, scale: []float32{0.5}, zp: []int64{3}},
		{name: "w", shape: []int32{1, 3, 3, 1}, typ: Int8, data: make([]byte, 9), scale: []float32{0.1}, zp: []int64{0}, qdim: 3},
		{name: "out", shape: []int32{1, 2, 2, 1}, typ: Uint8, scale: []float32{0.5}, zp: []int64{3}},
	}, []tOp{{code: opDepthwiseConv, in: []int32{0, 1, -1}, out: []int32{2}, optType: 2, opts: convOpts(true, true, 1, actRelu)}}, []int32{0}, []int32{2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGraph(b, GraphOptions{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tflite: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		// Run it when every value is small (paddings and pools can make
		// large ones from a small input).
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs {
				if s := v.Shape(); s == nil || slices.Contains(s[1:], -1) || tensor.Numel(s[1:]) > 1<<14 {
					return
				}
			}
		}
		s := g.Inputs()[0].Shape()
		if len(g.Inputs()) != 1 {
			return
		}
		shape := append([]int{1}, s[1:]...)
		g.Predict(tensor.New(shape...)) // errors are fine, panics are not
	})
}

// A hard swish written as ADD, RELU6, MUL, MUL (x * (1/6) * relu6(x + 3))
// is one HardSwish node in the graph, and computes the formula.
func TestGraphDecomposedHardSwish(t *testing.T) {
	const n = 6
	tensors := []tTensor{
		{name: "x", shape: []int32{1, n}},                                     // 0
		{name: "three", shape: []int32{}, data: f32bytes([]float32{3})},       // 1
		{name: "sixth", shape: []int32{}, data: f32bytes([]float32{1.0 / 6})}, // 2
		{name: "add", shape: []int32{1, n}},                                   // 3
		{name: "relu6", shape: []int32{1, n}},                                 // 4
		{name: "scaled", shape: []int32{1, n}},                                // 5
		{name: "hswish", shape: []int32{1, n}},                                // 6
	}
	ops := []tOp{
		{code: opAdd, in: []int32{0, 1}, out: []int32{3}},
		{code: opRelu6, in: []int32{3}, out: []int32{4}},
		{code: opMul, in: []int32{0, 2}, out: []int32{5}},
		{code: opMul, in: []int32{5, 4}, out: []int32{6}},
	}
	g, err := ParseGraph(buildModel(tensors, ops, []int32{0}, []int32{6}), GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, nd := range g.Nodes() {
		kinds = append(kinds, nd.Op.Kind())
	}
	if got := strings.Join(kinds, " "); got != "InputLayer HardSwish" {
		t.Errorf("graph %s, want InputLayer HardSwish", got)
	}
	x := tensor.New(1, n)
	copy(x.Data, []float32{-4, -3, -0.5, 0.7, 3, 8})
	got := predict(t, g, x)
	for i, v := range x.Data {
		if want := v * min(max(v+3, 0), 6) / 6; math.Abs(float64(got.Data[i]-want)) > 1e-6*max(1, math.Abs(float64(want))) {
			t.Errorf("hard swish(%v) = %v, want %v", v, got.Data[i], want)
		}
	}
}
