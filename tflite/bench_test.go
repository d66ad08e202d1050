package tflite

import (
	"math/rand/v2"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/tensor"
)

func benchModel(b *testing.B, batch int) {
	m, err := Load(testutil.SharedFile(b, "models/coral/mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		b.Fatal(err)
	}
	x, err := m.Preprocess(loadBMP(b, "models/coral/cat.bmp"))
	if err != nil {
		b.Fatal(err)
	}
	in := tensor.New(batch, 224, 224, 3)
	for i := 0; i < batch; i++ {
		copy(in.Data[i*len(x.Data):], x.Data)
	}
	if _, err := m.Run(in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := m.Run(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*batch), "ms/img")
	b.ReportMetric(float64((processCPUTime()-cpu0).Microseconds())/1e3/float64(b.N*batch), "cpu-ms/img")
}

// BenchmarkMobileNetV2 is single-image latency of the 224x224 uint8 model.
func BenchmarkMobileNetV2(b *testing.B) { benchModel(b, 1) }

// BenchmarkMobileNetV2Batch32 is batch throughput (see ms/img).
func BenchmarkMobileNetV2Batch32(b *testing.B) { benchModel(b, 32) }

// BenchmarkDepthwise3x3 is MobileNet v2's 112x112x96 stride-2 and
// 56x56x144 stride-1 depthwise layers in float.
func BenchmarkDepthwise3x3(b *testing.B) {
	for _, tc := range []struct {
		name         string
		h, c, stride int
	}{{"112x112x96_s2", 112, 96, 2}, {"56x56x144_s1", 56, 144, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			o := &depthwiseOp{in: 0, out: 1, kh: 3, kw: 3, oc: tc.c, mult: 1, w: randFloats(r, 9*tc.c),
				p:  convParams{same: true, strideH: tc.stride, strideW: tc.stride, dilH: 1, dilW: 1},
				ep: epilogue{bias: make([]float32, tc.c), lo: 0, hi: 6}}
			st := &state{shapes: make([][]int, 2), data: make([][]float32, 2)}
			copy(st.out(0, []int{1, tc.h, tc.h, tc.c}), randFloats(r, tc.h*tc.h*tc.c))
			b.SetBytes(int64(4 * tc.h * tc.h * tc.c))
			for i := 0; i < b.N; i++ {
				if err := o.run(st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEpilogue is the quantized requantization of a 112x112x96
// accumulator map (per-channel scales).
func BenchmarkEpilogue(b *testing.B) {
	const c, rows = 96, 112 * 112
	r := rand.New(rand.NewPCG(2, 2))
	ep := epilogue{biasF: make([]float32, c), rq: &requantizer{zp: -128, lo: -128, hi: 127}}
	for i := 0; i < c; i++ {
		ep.rq.scales = append(ep.rq.scales, 0.001+0.001*r.Float32())
	}
	acc := make([]float32, c*rows)
	for i := range acc {
		acc[i] = float32(r.IntN(200000) - 100000)
	}
	v := make([]float32, len(acc))
	b.SetBytes(int64(4 * len(acc)))
	for i := 0; i < b.N; i++ {
		copy(v, acc)
		for p := 0; p < rows; p++ {
			ep.row(v[p*c : (p+1)*c])
		}
	}
}
