package tflite

import (
	"math/rand/v2"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/tensor"
)

// runBothPaths loads a model on the integer path (asm where the CPU has
// int8 dot products, else the Go twins) and on the float32 one, runs x
// on both and checks for the same bits: the two paths compute the same
// integers.
func runBothPaths(t *testing.T, load func() (*Model, error), x *tensor.Tensor) {
	t.Helper()
	defer func(p int) { qPath = p }(qPath)
	var outs [2]*tensor.Tensor
	for i, mode := range []int{1, -1} {
		qPath = mode
		m, err := load()
		if err != nil {
			t.Fatal(err)
		}
		integer := false
		for _, o := range m.ops {
			if b, ok := o.(byteOp); ok && b.integer() {
				integer = true
			}
		}
		if integer != (mode == 1) {
			t.Fatalf("qPath %d: integer operators %v", mode, integer)
		}
		if outs[i], err = m.Run(x); err != nil {
			t.Fatal(err)
		}
	}
	for i := range outs[0].Data {
		if outs[0].Data[i] != outs[1].Data[i] {
			t.Fatalf("output %d: integer path %v, float32 path %v", i, outs[0].Data[i], outs[1].Data[i])
		}
	}
}

// qChain is conv 3x3/2 -> depthwise 3x3 -> conv 1x1 (weights too wide
// for int8 once centred when uint8: the per-row sums) -> ADD with the
// first conv's output -> depthwise 3x3/2 -> max pool 2x2 SAME -> average
// pool 2x2 VALID, odd sizes throughout.
func qChain(r *rand.Rand, typ TensorType) []byte {
	const c = 20
	q := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	narrow := func(n int) []byte { // int8 weights in [-100, 100]
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(int8(r.IntN(201) - 100))
		}
		return b
	}
	bias := func(n int) []byte {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.IntN(20001) - 10000)
		}
		return i32bytes(v)
	}
	zAct := []int64{128}
	if typ == Int8 {
		zAct = []int64{-3}
	}
	act := func(name string, shape []int32, scale float32) tTensor {
		return tTensor{name: name, shape: shape, typ: typ, scale: []float32{scale}, zp: zAct}
	}
	weights := func(name string, shape []int32, qdim int32, zp int64) tTensor {
		n := int(shape[0] * shape[1] * shape[2] * shape[3])
		if typ == Uint8 {
			return tTensor{name: name, shape: shape, typ: Uint8, data: q(n), scale: []float32{0.004}, zp: []int64{zp}}
		}
		ch := int(shape[qdim])
		s, z := make([]float32, ch), make([]int64, ch)
		for i := range s {
			s[i] = 0.002 + 0.004*r.Float32()
		}
		return tTensor{name: name, shape: shape, typ: Int8, data: narrow(n), scale: s, zp: z, qdim: qdim}
	}
	bt := func(name string) tTensor {
		return tTensor{name: name, shape: []int32{c}, typ: Int32, data: bias(c), scale: []float32{1e-4}, zp: []int64{0}}
	}
	return buildModel([]tTensor{
		act("in", []int32{1, 9, 11, 5}, 0.02),
		weights("w1", []int32{c, 3, 3, 5}, 0, 120),
		bt("b1"),
		act("t1", []int32{1, 5, 6, c}, 0.05),
		weights("wd", []int32{1, 3, 3, c}, 3, 130),
		bt("bd"),
		act("t2", []int32{1, 5, 6, c}, 0.04),
		weights("w3", []int32{c, 1, 1, c}, 0, 10),
		bt("b3"),
		act("t3", []int32{1, 5, 6, c}, 0.06),
		act("t4", []int32{1, 5, 6, c}, 0.07),
		weights("wd2", []int32{1, 3, 3, c}, 3, 128),
		bt("bd2"),
		act("t5", []int32{1, 3, 3, c}, 0.03),
		act("t6", []int32{1, 2, 2, c}, 0.03),
		act("out", []int32{1, 1, 1, c}, 0.03),
	}, []tOp{
		{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(false, true, 2, actRelu6)},
		{code: opDepthwiseConv, in: []int32{3, 4, 5}, out: []int32{6}, optType: 2, opts: convOpts(true, true, 1, actRelu)},
		{code: opConv2D, in: []int32{6, 7, 8}, out: []int32{9}, optType: 1, opts: convOpts(false, true, 1, actNone)},
		{code: opAdd, in: []int32{9, 3}, out: []int32{10}},
		{code: opDepthwiseConv, in: []int32{10, 11, 12}, out: []int32{13}, optType: 2, opts: convOpts(true, true, 2, actNone)},
		{code: opMaxPool2D, in: []int32{13}, out: []int32{14}, optType: 5, opts: poolOptions(true, 2, 2, actNone)},
		{code: opAveragePool2D, in: []int32{14}, out: []int32{15}, optType: 5, opts: poolOptions(false, 1, 2, actRelu)},
	}, []int32{0}, []int32{15})
}

func TestIntegerPathMatchesFloat(t *testing.T) {
	for _, typ := range []TensorType{Uint8, Int8} {
		t.Run(typ.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(typ)))
			b := qChain(r, typ)
			x := tensor.New(2, 9, 11, 5)
			for i := range x.Data {
				x.Data[i] = 0.02 * float32(r.IntN(256)-128)
			}
			runBothPaths(t, func() (*Model, error) { return Parse(b) }, x)
		})
	}
}

func TestIntegerPathMatchesFloatOnModels(t *testing.T) {
	for _, name := range []string{"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"} {
		t.Run(name, func(t *testing.T) {
			path := "models/coral/" + name
			m, err := Load(testutil.SharedFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			x, err := m.Preprocess(loadBMP(t, "models/coral/cat.bmp"))
			if err != nil {
				t.Fatal(err)
			}
			runBothPaths(t, func() (*Model, error) { return Load(testutil.SharedFile(t, path)) }, x)
		})
	}
}
