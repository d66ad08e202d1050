package tflite

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// naiveConv is a direct NHWC convolution (TFLite OHWI filters, SAME or
// VALID padding) written independently of the engine; depthwise when dw.
func naiveConv(x []float32, n, h, w, c int, f []float32, oc, k, stride int, same, dw bool, bias []float32, lo, hi float32) ([]float32, int, int) {
	oh, ow, pt, pl := (h-k)/stride+1, (w-k)/stride+1, 0, 0
	if same {
		oh, ow = (h+stride-1)/stride, (w+stride-1)/stride
		pt = max((oh-1)*stride+k-h, 0) / 2
		pl = max((ow-1)*stride+k-w, 0) / 2
	}
	y := make([]float32, n*oh*ow*oc)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for o := 0; o < oc; o++ {
					s := float64(bias[o])
					for ky := 0; ky < k; ky++ {
						for kx := 0; kx < k; kx++ {
							yy, xx := i*stride-pt+ky, j*stride-pl+kx
							if yy < 0 || yy >= h || xx < 0 || xx >= w {
								continue
							}
							if dw {
								s += float64(x[((b*h+yy)*w+xx)*c+o] * f[(ky*k+kx)*oc+o])
								continue
							}
							for ci := 0; ci < c; ci++ {
								s += float64(x[((b*h+yy)*w+xx)*c+ci] * f[((o*k+ky)*k+kx)*c+ci])
							}
						}
					}
					y[((b*oh+i)*ow+j)*oc+o] = min(max(float32(s), lo), hi)
				}
			}
		}
	}
	return y, oh, ow
}

// A float graph CONV(3x3/2 SAME, RELU6) -> DEPTHWISE(3x3/1 SAME) ->
// CONV(1x1) -> AVERAGE_POOL(VALID, whole map) -> RESHAPE -> SOFTMAX
// checked against direct loops.
func TestFloatGraphMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, h, w, c, c1, c2 = 2, 9, 11, 5, 6, 4
	w1, b1 := randFloats(r, c1*3*3*c), randFloats(r, c1)
	w2, b2 := randFloats(r, 3*3*c1), randFloats(r, c1)
	w3, b3 := randFloats(r, c2*c1), randFloats(r, c2)
	oh, ow := (h+1)/2, (w+1)/2
	tensors := []tTensor{
		{name: "input", shape: []int32{1, h, w, c}},
		{name: "w1", shape: []int32{c1, 3, 3, c}, data: f32bytes(w1)},
		{name: "b1", shape: []int32{c1}, data: f32bytes(b1)},
		{name: "a1", shape: []int32{1, int32(oh), int32(ow), c1}},
		{name: "w2", shape: []int32{1, 3, 3, c1}, data: f32bytes(w2)},
		{name: "b2", shape: []int32{c1}, data: f32bytes(b2)},
		{name: "a2", shape: []int32{1, int32(oh), int32(ow), c1}},
		{name: "w3", shape: []int32{c2, 1, 1, c1}, data: f32bytes(w3)},
		{name: "b3", shape: []int32{c2}, data: f32bytes(b3)},
		{name: "a3", shape: []int32{1, int32(oh), int32(ow), c2}},
		{name: "pool", shape: []int32{1, 1, 1, c2}},
		{name: "shape", shape: []int32{2}, typ: Int32, data: i32bytes([]int32{1, c2})},
		{name: "logits", shape: []int32{1, c2}},
		{name: "probs", shape: []int32{1, c2}},
	}
	poolOpts := func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		b.StartObject(6)
		b.PrependInt8Slot(0, 1, 0)
		b.PrependInt32Slot(1, 1, 0)
		b.PrependInt32Slot(2, 1, 0)
		b.PrependInt32Slot(3, int32(ow), 0)
		b.PrependInt32Slot(4, int32(oh), 0)
		return b.EndObject()
	}
	ops := []tOp{
		{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(false, true, 2, actRelu6)},
		{code: opDepthwiseConv, in: []int32{3, 4, 5}, out: []int32{6}, optType: 2, opts: convOpts(true, true, 1, actNone)},
		{code: opConv2D, in: []int32{6, 7, 8}, out: []int32{9}, optType: 1, opts: convOpts(false, false, 1, actRelu)},
		{code: opAveragePool2D, in: []int32{9}, out: []int32{10}, optType: 5, opts: poolOpts},
		{code: opReshape, in: []int32{10, 11}, out: []int32{12}},
		{code: opSoftmax, in: []int32{12}, out: []int32{13}},
	}
	m, err := Parse(buildModel(tensors, ops, []int32{0}, []int32{13}))
	if err != nil {
		t.Fatal(err)
	}
	x := randFloats(r, n*h*w*c)
	in, _ := tensor.FromSlice(x, n, h, w, c)
	got, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(1))
	a1, _, _ := naiveConv(x, n, h, w, c, w1, c1, 3, 2, true, false, b1, 0, 6)
	a2, _, _ := naiveConv(a1, n, oh, ow, c1, w2, c1, 3, 1, true, true, b2, -inf, inf)
	a3, _, _ := naiveConv(a2, n, oh, ow, c1, w3, c2, 1, 1, false, false, b3, 0, inf)
	if len(got.Shape) != 2 || got.Shape[0] != n || got.Shape[1] != c2 {
		t.Fatalf("output shape %v", got.Shape)
	}
	for b := 0; b < n; b++ {
		logits := make([]float32, c2)
		for p := 0; p < oh*ow; p++ {
			for k := range logits {
				logits[k] += a3[(b*oh*ow+p)*c2+k] / float32(oh*ow)
			}
		}
		want := softmax(logits)
		for k := range want {
			if d := math.Abs(float64(got.Data[b*c2+k] - want[k])); d > 1e-5 {
				t.Fatalf("batch %d class %d: got %v want %v", b, k, got.Data[b*c2:(b+1)*c2], want)
			}
		}
	}
}

func TestDepthwiseStride2MatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		h, w, c, stride int
		same            bool
	}{{8, 8, 16, 2, true}, {7, 9, 3, 2, true}, {6, 5, 8, 1, false}, {5, 7, 33, 2, false}} {
		wts, bias := randFloats(r, 9*tc.c), randFloats(r, tc.c)
		_, oh, ow := naiveConv(nil, 0, tc.h, tc.w, tc.c, nil, tc.c, 3, tc.stride, tc.same, true, nil, 0, 0)
		m, err := Parse(buildModel([]tTensor{
			{name: "in", shape: []int32{1, int32(tc.h), int32(tc.w), int32(tc.c)}},
			{name: "w", shape: []int32{1, 3, 3, int32(tc.c)}, data: f32bytes(wts)},
			{name: "b", shape: []int32{int32(tc.c)}, data: f32bytes(bias)},
			{name: "out", shape: []int32{1, int32(oh), int32(ow), int32(tc.c)}},
		}, []tOp{{code: opDepthwiseConv, in: []int32{0, 1, 2}, out: []int32{3}, optType: 2, opts: convOpts(true, tc.same, int32(tc.stride), actRelu)}}, []int32{0}, []int32{3}))
		if err != nil {
			t.Fatal(err)
		}
		x := randFloats(r, tc.h*tc.w*tc.c)
		in, _ := tensor.FromSlice(x, 1, tc.h, tc.w, tc.c)
		got, err := m.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := naiveConv(x, 1, tc.h, tc.w, tc.c, wts, tc.c, 3, tc.stride, tc.same, true, bias, 0, float32(math.Inf(1)))
		for i := range want {
			if math.Abs(float64(got.Data[i]-want[i])) > 1e-4 {
				t.Fatalf("%+v: element %d got %v want %v", tc, i, got.Data[i], want[i])
			}
		}
	}
}

// Every operator the interpreter lacks is listed at once, by index, name,
// version and output.
func TestUnsupportedOperatorsListed(t *testing.T) {
	b := buildModel([]tTensor{
		{name: "in", shape: []int32{1, 2, 2, 4}},
		{name: "m", shape: []int32{1, 2, 2, 4}},
		{name: "r", shape: []int32{1, 2, 2, 4}},
		{name: "out", shape: []int32{1, 4, 4, 1}},
	}, []tOp{
		{code: 18, in: []int32{0, 0}, out: []int32{1}}, // MUL
		{code: opRelu, in: []int32{1}, out: []int32{2}},
		{code: 5, in: []int32{2}, out: []int32{3}}, // DEPTH_TO_SPACE
	}, []int32{0}, []int32{3})
	_, err := Parse(b)
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"does not support 3 operator(s)", `operator 0 (MUL v1, output "m")`, `operator 1 (RELU v1, output "r")`, `operator 2 (DEPTH_TO_SPACE v1, output "out")`, "LoadGraph"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// A NaN or infinite float weight is refused by the interpreter and the
// graph importer, naming the tensor, rather than giving NaN outputs.
func TestNaNWeightsRefused(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		b := buildModel([]tTensor{
			{name: "in", shape: []int32{1, 2, 2, 3}},
			{name: "w", shape: []int32{2, 1, 1, 3}, data: f32bytes([]float32{1, 2, 3, -1, v, 1})},
			{name: "out", shape: []int32{1, 2, 2, 2}},
		}, []tOp{{code: opConv2D, in: []int32{0, 1, -1}, out: []int32{2}, optType: 1, opts: convOpts(false, true, 1, actNone)}}, []int32{0}, []int32{2})
		_, err := Parse(b)
		if err == nil || !strings.Contains(err.Error(), `constant tensor "w": value 4 of 6`) {
			t.Errorf("interpreter, %g: err = %v", v, err)
		}
		_, err = ParseGraph(b, GraphOptions{})
		if err == nil || !strings.Contains(err.Error(), `constant tensor "w": value 4 of 6`) {
			t.Errorf("graph, %g: err = %v", v, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.tflite")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for _, b := range [][]byte{nil, []byte("short"), []byte("\x08\x00\x00\x00XXXX\x00\x00\x00\x00")} {
		if _, err := Parse(b); err == nil {
			t.Errorf("Parse(%q) succeeded", b)
		}
	}
}

// Every truncation of a valid file and every single-byte corruption of
// its first bytes must give an error or a model, never a panic.
func TestCorruptFilesNoPanic(t *testing.T) {
	good := seedModel()
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	for i := 0; i < len(good); i++ {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0xA5
		m, err := Parse(bad)
		if err != nil && !strings.HasPrefix(err.Error(), "tflite: ") {
			t.Fatalf("byte %d: error %q lacks the package prefix", i, err)
		}
		if m != nil && tensor.Numel(m.InputShape()) <= 1<<16 {
			m.Run(tensor.New(m.InputShape()...)) // must not panic
		}
	}
}

func TestErrorNamesBrokenField(t *testing.T) {
	good := seedModel()
	// Point the root table beyond the end of the file.
	bad := append([]byte(nil), good...)
	bad[0], bad[1], bad[2], bad[3] = 0xff, 0xff, 0, 0
	_, err := Parse(bad)
	if err == nil || !strings.Contains(err.Error(), "field model") {
		t.Fatalf("err = %v", err)
	}
}

// seedModel is a small valid float model (1x1 conv + softmax).
func seedModel() []byte {
	return buildModel([]tTensor{
		{name: "in", shape: []int32{1, 2, 2, 3}},
		{name: "w", shape: []int32{2, 1, 1, 3}, data: f32bytes([]float32{1, 2, 3, -1, 0, 1})},
		{name: "conv", shape: []int32{1, 2, 2, 2}},
		{name: "out", shape: []int32{1, 2, 2, 2}},
	}, []tOp{
		{code: opConv2D, in: []int32{0, 1, -1}, out: []int32{2}, optType: 1, opts: convOpts(false, true, 1, actRelu)},
		{code: opSoftmax, in: []int32{2}, out: []int32{3}},
	}, []int32{0}, []int32{3})
}

func FuzzLoad(f *testing.F) {
	good := seedModel()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("\x08\x00\x00\x00TFL3"))
	// Quantized chains: the integer path's operators (qpath_test.go).
	f.Add(qChain(rand.New(rand.NewPCG(1, 1)), Uint8))
	f.Add(qChain(rand.New(rand.NewPCG(2, 2)), Int8))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		s := m.InputShape()
		if tensor.Numel(s) > 1<<16 {
			return
		}
		m.Run(tensor.New(s...))
	})
}

// dilatedConv is a direct NHWC convolution with TFLite's SAME padding and
// dilation d, in float64; depthwise with multiplier mult when mult > 0
// (filter [1, k, k, c*mult]), else a full one (OHWI filter).
func dilatedConv(x []float32, h, w, c int, f []float32, oc, k, d, mult int, bias []float32) ([]float32, int, int) {
	ek := (k-1)*d + 1
	oh, ow := h, w
	pt, pl := max(oh-1+ek-h, 0)/2, max(ow-1+ek-w, 0)/2
	y := make([]float32, oh*ow*oc)
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			for o := 0; o < oc; o++ {
				s := float64(bias[o])
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						yy, xx := i-pt+ky*d, j-pl+kx*d
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						if mult > 0 {
							s += float64(x[(yy*w+xx)*c+o/mult]) * float64(f[(ky*k+kx)*oc+o])
							continue
						}
						for ci := 0; ci < c; ci++ {
							s += float64(x[(yy*w+xx)*c+ci]) * float64(f[((o*k+ky)*k+kx)*c+ci])
						}
					}
				}
				y[(i*ow+j)*oc+o] = float32(s)
			}
		}
	}
	return y, oh, ow
}

// A dilated CONV_2D over more pixels than one convRows chunk, then a
// dilated DEPTHWISE_CONV_2D with multiplier 2, on 1, 2 and 4 threads.
func TestDilatedConvsMatchDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const h, w, c, c1, c2, k, d = 20, 23, 3, 5, 10, 3, 2
	w1, b1 := randFloats(r, c1*k*k*c), randFloats(r, c1)
	w2, b2 := randFloats(r, k*k*c2), randFloats(r, c2)
	dil := func(depthwise bool) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
			if depthwise {
				b.StartObject(7)
				b.PrependInt32Slot(1, 1, 0)
				b.PrependInt32Slot(2, 1, 0)
				b.PrependInt32Slot(3, c2/c1, 0) // depth_multiplier
				b.PrependInt32Slot(5, d, 0)     // dilation_w_factor
				b.PrependInt32Slot(6, d, 0)     // dilation_h_factor
				return b.EndObject()
			}
			b.StartObject(6)
			b.PrependInt32Slot(1, 1, 0)
			b.PrependInt32Slot(2, 1, 0)
			b.PrependInt32Slot(4, d, 0)
			b.PrependInt32Slot(5, d, 0)
			return b.EndObject()
		}
	}
	m, err := Parse(buildModel([]tTensor{
		{name: "in", shape: []int32{1, h, w, c}},
		{name: "w1", shape: []int32{c1, k, k, c}, data: f32bytes(w1)},
		{name: "b1", shape: []int32{c1}, data: f32bytes(b1)},
		{name: "a1", shape: []int32{1, h, w, c1}},
		{name: "w2", shape: []int32{1, k, k, c2}, data: f32bytes(w2)},
		{name: "b2", shape: []int32{c2}, data: f32bytes(b2)},
		{name: "out", shape: []int32{1, h, w, c2}},
	}, []tOp{
		{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: dil(false)},
		{code: opDepthwiseConv, in: []int32{3, 4, 5}, out: []int32{6}, optType: 2, opts: dil(true)},
	}, []int32{0}, []int32{6}))
	if err != nil {
		t.Fatal(err)
	}
	x := randFloats(r, h*w*c)
	a1, _, _ := dilatedConv(x, h, w, c, w1, c1, k, d, 0, b1)
	want, _, _ := dilatedConv(a1, h, w, c1, w2, c2, k, d, c2/c1, b2)
	in, _ := tensor.FromSlice(x, 1, h, w, c)
	for _, threads := range []int{1, 2, 4} {
		prev := kernels.SetThreads(threads)
		got, err := m.Run(in)
		kernels.SetThreads(prev)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(got.Data[i]-want[i])) > 1e-4 {
				t.Fatalf("threads %d: element %d got %v want %v", threads, i, got.Data[i], want[i])
			}
		}
	}
}

// A uint8 CONV_2D + int8 per-channel DEPTHWISE pair against the integer
// arithmetic written out directly: outputs must equal
// zp + round(acc * s_in*s_w/s_out), clamped to the RELU6 range.
func TestQuantizedConvMatchesIntegerMath(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const h, w, c, oc = 6, 7, 3, 4
	u8 := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	wq, xq := u8(oc*9*c), u8(h*w*c)
	bias := []int32{1500, -2000, 0, 800}
	sIn, sW, sOut := float32(0.02), float32(0.01), float32(0.05)
	const zIn, zW, zOut = 128, 120, 10
	m, err := Parse(buildModel([]tTensor{
		{name: "in", shape: []int32{1, h, w, c}, typ: Uint8, scale: []float32{sIn}, zp: []int64{zIn}},
		{name: "w", shape: []int32{oc, 3, 3, c}, typ: Uint8, data: wq, scale: []float32{sW}, zp: []int64{zW}},
		{name: "b", shape: []int32{oc}, typ: Int32, data: i32bytes(bias), scale: []float32{sIn * sW}, zp: []int64{0}},
		{name: "out", shape: []int32{1, h, w, oc}, typ: Uint8, scale: []float32{sOut}, zp: []int64{zOut}},
	}, []tOp{{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(false, true, 1, actRelu6)}}, []int32{0}, []int32{3}))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, h, w, c)
	for i, q := range xq {
		x.Data[i] = sIn * (float32(q) - zIn)
	}
	got, err := m.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	hi := min(255, zOut+int(math.Round(6/float64(sOut))))
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			for o := 0; o < oc; o++ {
				acc := int64(bias[o])
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						yy, xx := i-1+ky, j-1+kx
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						for ci := 0; ci < c; ci++ {
							acc += int64(int(xq[(yy*w+xx)*c+ci])-zIn) * int64(int(wq[((o*3+ky)*3+kx)*c+ci])-zW)
						}
					}
				}
				scale := sIn * sW / sOut
				want := min(max(zOut+int(math.RoundToEven(float64(float32(acc)*scale))), zOut), hi)
				gotQ := int(math.Round(float64(got.Data[(i*w+j)*oc+o]/sOut))) + zOut
				if gotQ != want {
					t.Fatalf("(%d,%d,%d): q %d, want %d (acc %d)", i, j, o, gotQ, want, acc)
				}
			}
		}
	}
}
