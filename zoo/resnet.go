package zoo

import (
	"fmt"

	"github.com/dlcv-go/dlcv/nn"
)

// Residual networks (He et al., "Deep Residual Learning for Image
// Recognition", 2016) as graphs.

func init() {
	for _, n := range []int{20, 56} {
		name := fmt.Sprintf("resnet%d", n)
		blocks := (n - 2) / 6
		archs[name] = &Arch{
			Name: name,
			Description: fmt.Sprintf("ResNet-%d for 32x32 images (He et al. 2016, sec. 4.2): conv 16 3x3, 3 stages of %d basic blocks "+
				"(16, 32, 64 filters; stride 2 and a 1x1 conv + BN projection where the shape changes), global average pool, dense softmax", n, blocks),
			DefaultInput: []int{32, 32, 3},
			graph: func(in []int, classes int) (*nn.Graph, error) {
				return resNet(in, classes, []int{16, 32, 64}, blocks, false), nil
			},
		}
	}
	archs["resnet18"] = &Arch{
		Name: "resnet18",
		Description: "ResNet-18 (He et al. 2016, torchvision's layout): conv 64 7x7 stride 2, max pool 3x3 stride 2, 4 stages of 2 basic blocks " +
			"(64, 128, 256, 512 filters), global average pool, dense softmax",
		DefaultInput: []int{224, 224, 3},
		graph: func(in []int, classes int) (*nn.Graph, error) {
			return resNet(in, classes, []int{64, 128, 256, 512}, 2, true), nil
		},
	}
}

// conv returns a bias-free convolution (a batch norm follows) with He
// initialisation, padded as PyTorch pads (k/2 on every side), so a stride-2
// convolution halves even sizes exactly as torchvision's models do.
func conv(filters, k, stride int) *nn.Conv2D {
	c := nn.NewConv2D(filters, k, stride, nn.Explicit(k/2))
	c.UseBias = false
	c.Initializer = nn.HeNormal
	return c
}

// convBN is conv -> batch norm.
func convBN(g *nn.Graph, x *nn.Value, filters, k, stride int) *nn.Value {
	return g.Apply(nn.NewBatchNorm(0, 0), g.Apply(conv(filters, k, stride), x))
}

// basicBlock is ResNet's basic block: two 3x3 conv-BN layers with a ReLU
// between, added to the shortcut (a 1x1 conv-BN projection when the shape
// changes), then a ReLU.
func basicBlock(g *nn.Graph, x *nn.Value, filters, stride int) *nn.Value {
	h := g.Apply(nn.NewReLU(), convBN(g, x, filters, 3, stride))
	h = convBN(g, h, filters, 3, 1)
	short := x
	if s := x.Shape(); stride != 1 || s[len(s)-1] != filters {
		short = convBN(g, x, filters, 1, stride)
	}
	return g.Apply(nn.NewReLU(), g.Add(h, short))
}

// resNet stacks stages of basic blocks. imagenet selects the 7x7 stride-2
// stem and max pool of ResNet-18/34; otherwise the 3x3 stem of the CIFAR
// networks.
func resNet(in []int, classes int, widths []int, blocks int, imagenet bool) *nn.Graph {
	g := nn.NewGraph()
	x := g.Input("input", in...)
	if imagenet {
		x = g.Apply(nn.NewReLU(), convBN(g, x, widths[0], 7, 2))
		pool := nn.NewMaxPool2D(3, 2)
		pool.Padding = nn.Explicit(1)
		x = g.Apply(pool, x)
	} else {
		x = g.Apply(nn.NewReLU(), convBN(g, x, widths[0], 3, 1))
	}
	for i, w := range widths {
		for j := range blocks {
			stride := 1
			if i > 0 && j == 0 {
				stride = 2
			}
			x = basicBlock(g, x, w, stride)
		}
	}
	x = g.Apply(nn.NewGlobalAveragePool(), x)
	g.Output(g.Apply(nn.NewSoftmax(), g.Apply(nn.NewDense(classes), x)))
	return g
}
