package nn

import (
	"fmt"
	"testing"
)

// Benchmarks of the convolutions, each run as a one-node graph on a
// Session (so the op state and scratch are reused as in a model). GFLOP/s
// counts a multiply-add as two operations, of the forward pass (1x) and of
// Backward's dW and dX (2x). With -benchmem, steady state shows 0
// allocs/op.

func benchConvOp(b *testing.B, op Op, in []int, train, backward bool, flops int) {
	g := NewGraph()
	g.Output(g.Apply(op, g.InputBatch("x", in...)))
	if err := g.Build(1); err != nil {
		b.Fatal(err)
	}
	s := g.NewSession()
	s.SetInputGrad(backward)
	rng := NewRNG(2)
	x := convRand(rng, in...)
	dy := convRand(rng, g.Outputs()[0].Shape()...)
	step := func() {
		if _, err := s.Run(train || backward, x); err != nil {
			b.Fatal(err)
		}
		if backward {
			if _, err := s.Backward(dy); err != nil {
				b.Fatal(err)
			}
		}
	}
	step()
	if backward {
		flops *= 3
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPUTime() - cpu0; cpu0 > 0 && cpu > 0 {
		// CPU time (all threads): what the machine's other jobs inflate
		// least.
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// convFlops is 2 * output pixels * kernel taps * input channels per group
// * filters.
func convFlops(op Op, in []int) int {
	out, _ := op.Shapes([][]int{in})
	o := out[0]
	switch c := op.(type) {
	case *Conv2D:
		return 2 * o[0] * o[1] * o[2] * c.KernelH * c.KernelW * in[3] / c.groups() * c.Filters
	case *DepthwiseConv2D:
		return 2 * o[0] * o[1] * o[2] * o[3] * c.KernelH * c.KernelW
	case *ConvTranspose2D: // the equivalent convolution's, whose output is the input
		return 2 * in[0] * in[1] * in[2] * c.KernelH * c.KernelW * c.Filters / c.groups() * in[3]
	}
	return 0
}

// ResNet-20's first stage: a 3x3 convolution on 32x32x16, batch 128,
// Forward (training) and Backward with the input gradient.
func BenchmarkConv2DResNet20(b *testing.B) {
	in := []int{128, 32, 32, 16}
	c := NewConv2D(16, 3, 1, Same)
	c.Act = Act{Kind: "relu"}
	benchConvOp(b, c, in, true, true, convFlops(c, in))
}

// ResNet-20's 3x3 stride-1 convolutions at batch 128, one per stage
// (32x32x16, 16x16x32, 8x8x64, as many filters), without an epilogue:
// forward (training), and forward + backward with the input gradient, by
// Winograd F(2x2, 3x3) and by the implicit GEMM. GFLOP/s counts the
// direct convolution's operations.
func BenchmarkConv2DResNet20Stages(b *testing.B) {
	for _, st := range []struct{ hw, c int }{{32, 16}, {16, 32}, {8, 64}} {
		in := []int{128, st.hw, st.hw, st.c}
		for _, backward := range []bool{false, true} {
			for _, wino := range []bool{true, false} {
				name := fmt.Sprintf("%dx%dx%d/forward", st.hw, st.hw, st.c)
				if backward {
					name += "+backward"
				}
				if wino {
					name += "/winograd"
				} else {
					name += "/implicit"
				}
				b.Run(name, func(b *testing.B) {
					defer func(on bool) { winogradOn = on }(winogradOn)
					winogradOn = wino
					c := NewConv2D(st.c, 3, 1, Same)
					c.UseBias = false
					benchConvOp(b, c, in, true, backward, convFlops(c, in))
				})
			}
		}
	}
}

// MobileNetV2's depthwise 3x3 convolutions at batch 1 inference, with the
// ReLU6 epilogue: 112x112x32 stride 1 and 56x56x144 stride 2. "op" is
// DepthwiseConv2D, "grouped" the Conv2D with Groups = Cin that ONNX gives.
func BenchmarkDepthwiseMobileNetV2(b *testing.B) {
	relu6 := Act{Kind: "clip", Min: 0, Max: 6}
	for _, c := range []struct {
		name   string
		in     []int
		stride int
	}{
		{"112x112x32 s1", []int{1, 112, 112, 32}, 1},
		{"56x56x144 s2", []int{1, 56, 56, 144}, 2},
		{"56x56x144 s1", []int{1, 56, 56, 144}, 1},
		{"28x28x192 s1", []int{1, 28, 28, 192}, 1},
		{"14x14x576 s1", []int{1, 14, 14, 576}, 1},
		{"7x7x960 s1", []int{1, 7, 7, 960}, 1},
		{"128x128x24 s1", []int{1, 128, 128, 24}, 1},
		{"128x128x128 s1", []int{1, 128, 128, 128}, 1},
		{"32x32x96 s1 b8", []int{8, 32, 32, 96}, 1},
	} {
		b.Run(c.name+"/op", func(b *testing.B) {
			d := NewDepthwiseConv2D(3, c.stride, Same)
			d.Act = relu6
			benchConvOp(b, d, c.in, false, false, convFlops(d, c.in))
		})
		b.Run(c.name+"/grouped", func(b *testing.B) {
			g := NewConv2D(c.in[3], 3, c.stride, Same)
			g.Groups, g.Act = c.in[3], relu6
			benchConvOp(b, g, c.in, false, false, convFlops(g, c.in))
		})
	}
}

// The depthwise layers training (batch 16): Forward and Backward.
func BenchmarkDepthwiseTrain(b *testing.B) {
	in := []int{16, 56, 56, 32}
	d := NewDepthwiseConv2D(3, 1, Same)
	benchConvOp(b, d, in, true, true, convFlops(d, in))
}

// LeNet's two convolutions at batch 128 (28x28x1 -> 20 and 14x14x20 ->
// 50, 5x5 same), as the old layer benchmarks measured them.
func BenchmarkConv2DLeNet(b *testing.B) {
	for _, c := range []struct {
		name    string
		in      []int
		filters int
	}{
		{"conv1", []int{128, 28, 28, 1}, 20},
		{"conv2", []int{128, 14, 14, 20}, 50},
	} {
		for _, backward := range []bool{false, true} {
			name := c.name + "/forward"
			if backward {
				name = c.name + "/forward+backward"
			}
			b.Run(name, func(b *testing.B) {
				l := NewConv2D(c.filters, 5, 1, Same)
				benchConvOp(b, l, c.in, true, backward, convFlops(l, c.in))
			})
		}
	}
}

// A grouped convolution (ResNeXt-like: 32 groups of 4 channels) at batch
// 8 and a batch-1 inference 3x3 convolution (ResNet-50's 56x56x64).
func BenchmarkConv2DShapes(b *testing.B) {
	b.Run("groups32 28x28x128 train", func(b *testing.B) {
		in := []int{8, 28, 28, 128}
		c := NewConv2D(128, 3, 1, Same)
		c.Groups = 32
		benchConvOp(b, c, in, true, true, convFlops(c, in))
	})
	b.Run("3x3 56x56x64 batch1 inference", func(b *testing.B) {
		in := []int{1, 56, 56, 64}
		c := NewConv2D(64, 3, 1, Same)
		benchConvOp(b, c, in, false, false, convFlops(c, in))
	})
}

// A DCGAN-style upsampling: 4x4 stride 2 padding 1, 16x16x64 -> 32x32x32,
// batch 16, Forward and Backward; and batch-1 inference.
func BenchmarkConvTranspose2D(b *testing.B) {
	in := []int{16, 16, 16, 64}
	b.Run("train", func(b *testing.B) {
		c := NewConvTranspose2D(32, 4, 2, Explicit(1))
		benchConvOp(b, c, in, true, true, convFlops(c, in))
	})
	b.Run("batch1 inference", func(b *testing.B) {
		c := NewConvTranspose2D(32, 4, 2, Explicit(1))
		in1 := []int{1, 16, 16, 64}
		benchConvOp(b, c, in1, false, false, convFlops(c, in1))
	})
}
