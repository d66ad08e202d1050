package zoo

import (
	"fmt"

	"github.com/dlcv-go/dlcv/nn"
)

// MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
// Bottlenecks", 2018) as a graph, in torchvision's layout.

// The width multipliers Keras offers: mobilenetv2 is 1.0, the others are
// named mobilenetv2-<alpha>.
var mobileNetWidths = []float64{0.35, 0.5, 0.75, 1, 1.3, 1.4}

func init() {
	for _, alpha := range mobileNetWidths {
		name := "mobilenetv2"
		desc := "MobileNetV2 (Sandler et al. 2018): conv 32 3x3 stride 2, 17 inverted residual blocks (1x1 expand, " +
			"3x3 depthwise, ReLU6, linear 1x1 projection, identity shortcut at stride 1), conv 1280 1x1, global average pool, dropout 0.2, dense softmax"
		if alpha != 1 {
			name = fmt.Sprintf("mobilenetv2-%g", alpha)
			desc = fmt.Sprintf("MobileNetV2 with width multiplier %g (channels scaled, rounded to multiples of 8)", alpha)
		}
		archs[name] = &Arch{
			Name:         name,
			Description:  desc,
			DefaultInput: []int{224, 224, 3},
			graph: func(in []int, classes int) (*nn.Graph, error) {
				return MobileNetV2(in, classes, alpha), nil
			},
		}
	}
}

// makeDivisible rounds channels to a multiple of 8, never more than 10%
// below v (the rule of the reference implementation).
func makeDivisible(v float64) int {
	n := max(8, int(v+4)/8*8)
	if float64(n) < 0.9*v {
		n += 8
	}
	return n
}

// MobileNetV2 builds the network for inputs of shape in (H, W, C) with the
// width multiplier alpha (1 is the standard network; 0.35 to 1.4 in the
// paper).
func MobileNetV2(in []int, classes int, alpha float64) *nn.Graph {
	g := nn.NewGraph()
	x := g.Input("input", in...)
	relu6BN := func(x *nn.Value) *nn.Value { return g.Apply(nn.NewReLU6(), g.Apply(nn.NewBatchNorm(0, 0), x)) }
	x = relu6BN(g.Apply(conv(makeDivisible(32*alpha), 3, 2), x))
	cin := makeDivisible(32 * alpha)
	// t (expansion), c (output channels), n (repeats), s (first stride).
	for _, b := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		cout := makeDivisible(float64(b[1]) * alpha)
		for i := range b[2] {
			stride := 1
			if i == 0 {
				stride = b[3]
			}
			h := x
			if b[0] != 1 {
				h = relu6BN(g.Apply(conv(cin*b[0], 1, 1), h))
			}
			dw := nn.NewDepthwiseConv2D(3, stride, nn.Explicit(1))
			dw.UseBias = false
			h = relu6BN(g.Apply(dw, h))
			h = g.Apply(nn.NewBatchNorm(0, 0), g.Apply(conv(cout, 1, 1), h))
			if stride == 1 && cin == cout {
				h = g.Add(x, h)
			}
			x, cin = h, cout
		}
	}
	last := 1280
	if alpha > 1 {
		last = makeDivisible(1280 * alpha)
	}
	x = relu6BN(g.Apply(conv(last, 1, 1), x))
	x = g.Apply(nn.NewDropout(0.2), g.Apply(nn.NewGlobalAveragePool(), x))
	g.Output(g.Apply(nn.NewSoftmax(), g.Apply(nn.NewDense(classes), x)))
	return g
}
