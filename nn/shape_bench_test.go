package nn

import (
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// benchShapeOp times op's Forward (and, with backward, Forward+Backward)
// on one input shape, with one Call so that state is reused as in a
// Session. Bytes are the values read and written by Forward.
func benchShapeOp(b *testing.B, op Op, backward bool, shapes ...[]int) {
	xs := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		xs[i] = psRand(uint64(i), s...)
	}
	outs, err := op.Shapes(shapes)
	if err != nil {
		b.Fatal(err)
	}
	ys := make([]*tensor.Tensor, len(outs))
	dys := make([]*tensor.Tensor, len(outs))
	bytes := 0
	for i, s := range outs {
		ys[i], dys[i] = tensor.New(s...), psRand(9, s...)
		bytes += 4 * len(ys[i].Data)
	}
	dxs := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		dxs[i] = tensor.New(x.Shape...)
		bytes += 4 * len(x.Data)
	}
	c := &Call{}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for b.Loop() {
		if err := op.Forward(c, xs, ys); err != nil {
			b.Fatal(err)
		}
		if backward {
			if err := op.Backward(c, xs, ys, dys, dxs); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkMaxPool2x2(b *testing.B) {
	b.Run("fwd", func(b *testing.B) { benchShapeOp(b, NewMaxPool2D(2, 2), false, []int{16, 56, 56, 64}) })
	b.Run("fwd+bwd", func(b *testing.B) { benchShapeOp(b, NewMaxPool2D(2, 2), true, []int{16, 56, 56, 64}) })
}

func BenchmarkMaxPool3x3s2Same(b *testing.B) { // the ResNet stem's pool
	p := &MaxPool2D{PoolH: 3, PoolW: 3, StrideH: 2, StrideW: 2, Padding: Same}
	b.Run("fwd", func(b *testing.B) { benchShapeOp(b, p, false, []int{4, 112, 112, 64}) })
	b.Run("fwd+bwd", func(b *testing.B) { benchShapeOp(b, p, true, []int{4, 112, 112, 64}) })
}

func BenchmarkAveragePool3x3s1Same(b *testing.B) { // Inception's branch pool
	p := &AveragePool2D{PoolH: 3, PoolW: 3, StrideH: 1, StrideW: 1, Padding: Same}
	b.Run("fwd", func(b *testing.B) { benchShapeOp(b, p, false, []int{8, 28, 28, 192}) })
	b.Run("fwd+bwd", func(b *testing.B) { benchShapeOp(b, p, true, []int{8, 28, 28, 192}) })
}

func BenchmarkGlobalAveragePool(b *testing.B) {
	benchShapeOp(b, NewGlobalAveragePool(), false, []int{32, 7, 7, 512})
}

func BenchmarkReduceMeanSpatial(b *testing.B) {
	benchShapeOp(b, NewReduceMean(true, 1, 2), false, []int{32, 14, 14, 256})
}

func BenchmarkTranspose(b *testing.B) {
	b.Run("NCHW-NHWC/3ch", func(b *testing.B) { benchShapeOp(b, NewTranspose(0, 2, 3, 1), false, []int{8, 3, 224, 224}) })
	b.Run("NCHW-NHWC/64ch", func(b *testing.B) { benchShapeOp(b, NewTranspose(0, 2, 3, 1), false, []int{8, 64, 56, 56}) })
	b.Run("NHWC-NCHW/64ch", func(b *testing.B) { benchShapeOp(b, NewTranspose(0, 3, 1, 2), false, []int{8, 56, 56, 64}) })
	b.Run("gather", func(b *testing.B) { benchShapeOp(b, NewTranspose(3, 1, 0, 2), false, []int{8, 56, 56, 64}) })
}

func BenchmarkConcatChannels(b *testing.B) {
	benchShapeOp(b, NewConcat(-1), false, []int{16, 28, 28, 128}, []int{16, 28, 28, 128})
}

func BenchmarkPad(b *testing.B) {
	pads := []int{0, 1, 1, 0, 0, 1, 1, 0}
	b.Run("constant", func(b *testing.B) { benchShapeOp(b, NewPad("constant", pads...), false, []int{8, 56, 56, 64}) })
	b.Run("reflect", func(b *testing.B) { benchShapeOp(b, NewPad("reflect", pads...), false, []int{8, 56, 56, 64}) })
	b.Run("reflect fwd+bwd", func(b *testing.B) { benchShapeOp(b, NewPad("reflect", pads...), true, []int{8, 56, 56, 64}) })
}

func BenchmarkResize2x(b *testing.B) {
	b.Run("nearest", func(b *testing.B) { benchShapeOp(b, NewResize("nearest", 2, 2), false, []int{8, 28, 28, 64}) })
	b.Run("bilinear", func(b *testing.B) { benchShapeOp(b, NewResize("bilinear", 2, 2), false, []int{8, 28, 28, 64}) })
	b.Run("bilinear fwd+bwd", func(b *testing.B) { benchShapeOp(b, NewResize("bilinear", 2, 2), true, []int{8, 28, 28, 64}) })
	b.Run("bilinear 3ch", func(b *testing.B) { benchShapeOp(b, NewResizeTo("bilinear", 224, 224), false, []int{8, 112, 112, 3}) })
}
