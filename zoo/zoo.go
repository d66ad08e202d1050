package zoo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// Arch describes one named architecture.
type Arch struct {
	Name        string
	Description string
	// DefaultInput is the input shape (H, W, C) the architecture is usually
	// trained at.
	DefaultInput []int
	// layers makes a chain architecture's layers (a Sequential); graph
	// makes the others.
	layers func(classes int) []nn.Layer
	graph  func(in []int, classes int) (*nn.Graph, error)
}

var archs = map[string]*Arch{
	"mlp": {
		Name:         "mlp",
		Description:  "classic 784-256-128-10 perceptron: flatten, dense 256 sigmoid, dense 128 sigmoid, dense softmax",
		DefaultInput: []int{28, 28, 1},
		layers: func(k int) []nn.Layer {
			return []nn.Layer{
				nn.NewFlatten(),
				nn.NewDense(256), nn.NewSigmoid(),
				nn.NewDense(128), nn.NewSigmoid(),
				nn.NewDense(k), nn.NewSoftmax(),
			}
		},
	},
	"shallownet": {
		Name:         "shallownet",
		Description:  "CONV 32 3x3 same, ReLU, FC, softmax",
		DefaultInput: []int{32, 32, 3},
		layers: func(k int) []nn.Layer {
			return []nn.Layer{
				nn.NewConv2D(32, 3, 1, nn.Same), nn.NewReLU(),
				nn.NewFlatten(),
				nn.NewDense(k), nn.NewSoftmax(),
			}
		},
	},
	"lenet": {
		Name:         "lenet",
		Description:  "CONV 20 5x5 same, ReLU, POOL 2; CONV 50 5x5 same, ReLU, POOL 2; FC 500 ReLU; FC softmax",
		DefaultInput: []int{28, 28, 1},
		layers: func(k int) []nn.Layer {
			return []nn.Layer{
				nn.NewConv2D(20, 5, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
				nn.NewConv2D(50, 5, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
				nn.NewFlatten(),
				nn.NewDense(500), nn.NewReLU(),
				nn.NewDense(k), nn.NewSoftmax(),
			}
		},
	},
	"minivggnet": {
		Name:         "minivggnet",
		Description:  "(CONV 32 3x3, ReLU, BN) x2, POOL, dropout 0.25; (CONV 64 3x3, ReLU, BN) x2, POOL, dropout 0.25; FC 512 ReLU BN dropout 0.5; FC softmax",
		DefaultInput: []int{32, 32, 3},
		layers: func(k int) []nn.Layer {
			block := func(f int) []nn.Layer {
				return []nn.Layer{
					nn.NewConv2D(f, 3, 1, nn.Same), nn.NewReLU(), nn.NewBatchNorm(0, 0),
					nn.NewConv2D(f, 3, 1, nn.Same), nn.NewReLU(), nn.NewBatchNorm(0, 0),
					nn.NewMaxPool2D(2, 2), nn.NewDropout(0.25),
				}
			}
			ls := append(block(32), block(64)...)
			return append(ls,
				nn.NewFlatten(),
				nn.NewDense(512), nn.NewReLU(), nn.NewBatchNorm(0, 0), nn.NewDropout(0.5),
				nn.NewDense(k), nn.NewSoftmax())
		},
	},
}

// Names lists the architectures in alphabetical order.
func Names() []string {
	ns := make([]string, 0, len(archs))
	for n := range archs {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Get returns the architecture called name (case-insensitive).
func Get(name string) (*Arch, error) {
	a := archs[strings.ToLower(name)]
	if a == nil {
		return nil, fmt.Errorf("zoo: unknown architecture %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return a, nil
}

// New builds the architecture called name for inputs of shape in (H, W, C)
// and the given number of classes, initialised from seed.
func New(name string, in []int, classes int, seed uint64) (nn.Model, error) {
	a, err := Get(name)
	if err != nil {
		return nil, err
	}
	if classes < 2 {
		return nil, fmt.Errorf("zoo: %s needs at least 2 classes, got %d", a.Name, classes)
	}
	if a.graph != nil {
		g, err := a.graph(in, classes)
		if err == nil {
			err = g.Build(seed)
		}
		if err != nil {
			return nil, fmt.Errorf("zoo: %s for input %v: %w", a.Name, in, err)
		}
		return g, nil
	}
	m := nn.NewSequential(a.layers(classes)...)
	if err := m.Build(in, seed); err != nil {
		return nil, fmt.Errorf("zoo: %s for input %v: %w", a.Name, in, err)
	}
	return m, nil
}

// ParamCount builds name at its default input for the given classes and
// counts its parameters (trainable and not).
func ParamCount(name string, classes int) (trainable, nonTrainable int, err error) {
	a, err := Get(name)
	if err != nil {
		return 0, 0, err
	}
	m, err := New(name, a.DefaultInput, classes, 0)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range m.Params() {
		if p.Trainable {
			trainable += p.Value.Len()
		} else {
			nonTrainable += p.Value.Len()
		}
	}
	return trainable, nonTrainable, nil
}
