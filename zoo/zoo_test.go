package zoo

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// countParams builds name for input in and classes and counts its
// trainable and non-trainable values.
func countParams(t *testing.T, name string, in []int, classes int) (trainable, frozen int) {
	t.Helper()
	m, err := New(name, in, classes, 1)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	for _, p := range m.Params() {
		if p.Trainable {
			trainable += p.Value.Len()
		} else {
			frozen += p.Value.Len()
		}
	}
	return trainable, frozen
}

// The expected counts are worked out layer by layer in the comments.
func TestParamCounts(t *testing.T) {
	cases := []struct {
		name              string
		in                []int
		classes           int
		trainable, frozen int
	}{
		// conv 5*5*1*20+20 = 520; conv 5*5*20*50+50 = 25,050;
		// dense 7*7*50*500+500 = 1,225,500; dense 500*10+10 = 5,010.
		{"lenet", []int{28, 28, 1}, 10, 1256080, 0},
		// 784*256+256 = 200,960; 256*128+128 = 32,896; 128*10+10 = 1,290.
		{"mlp", []int{28, 28, 1}, 10, 235146, 0},
		// conv 3*3*3*32+32 = 896; dense 32*32*32*3+3 = 98,307.
		{"shallownet", []int{32, 32, 3}, 3, 99203, 0},
		// convs 896 + 9,248 + 18,496 + 36,928; dense 8*8*64*512+512 =
		// 2,097,664 and 512*3+3 = 1,539; batch norms (gamma, beta
		// trainable; moving mean, variance not) over 32, 32, 64, 64, 512
		// channels: 1,408 of each kind.
		{"minivggnet", []int{32, 32, 3}, 3, 2166179, 1408},
	}
	for _, c := range cases {
		tr, fr := countParams(t, c.name, c.in, c.classes)
		if tr != c.trainable || fr != c.frozen {
			t.Errorf("%s %v, %d classes: %d trainable, %d non-trainable params; want %d and %d",
				c.name, c.in, c.classes, tr, fr, c.trainable, c.frozen)
		}
	}
}

func TestParamCountDefaultInput(t *testing.T) {
	tr, fr, err := ParamCount("LeNet", 10)
	if err != nil || tr != 1256080 || fr != 0 {
		t.Fatalf("ParamCount(LeNet, 10) = %d, %d, %v; want 1256080, 0, nil", tr, fr, err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("resnet", []int{28, 28, 1}, 10, 1); err == nil || !strings.Contains(err.Error(), "resnet") {
		t.Errorf("unknown architecture: err = %v, want one naming it", err)
	}
	for _, k := range []int{1, 0, -3} {
		if _, err := New("lenet", []int{28, 28, 1}, k, 1); err == nil || !strings.Contains(err.Error(), "classes") {
			t.Errorf("%d classes: err = %v, want a classes error", k, err)
		}
	}
	if _, err := New("lenet", []int{2, 2, 1}, 10, 1); err == nil {
		t.Error("lenet on a 2x2 input: no error")
	}
}

func TestNames(t *testing.T) {
	got := strings.Join(Names(), ",")
	if got != "knn,lenet,minivggnet,mlp,mobilenetv2,mobilenetv2-0.35,mobilenetv2-0.5,mobilenetv2-0.75,mobilenetv2-1.3,mobilenetv2-1.4,resnet18,resnet20,resnet56,shallownet,softmax" {
		t.Errorf("Names() = %s", got)
	}
}

// A LeNet training step (TrainStep and an SGD update) allocates nothing
// once its buffers exist, and training on a fixed batch lowers the loss.
func TestLeNetTrainStepSteadyState(t *testing.T) {
	m, err := New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, y := lenetBatch(8)
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.05, 0, false)
	step := func() float64 {
		l, err := m.TrainStep(x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(m.Params()); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := step()
	if a := testing.AllocsPerRun(3, func() { step() }); a != 0 {
		t.Errorf("LeNet TrainStep + SGD step allocates %v times", a)
	}
	var last float64
	for range 10 {
		last = step()
	}
	if !(last < first) {
		t.Errorf("loss did not decrease on a fixed batch: %v -> %v", first, last)
	}
	if _, err := m.Predict(x); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(3, func() { m.Predict(x) }); a != 0 {
		t.Errorf("LeNet Predict allocates %v times", a)
	}
}

// The graph architectures have the parameter counts of their reference
// implementations: torchvision 0.14 for ResNet-18 and MobileNetV2 (its
// parameters are the trainable ones; batch-norm statistics are buffers),
// and the PyTorch ResNet-20/56 of bench/resnet/torch_resnet.py.
func TestGraphArchParamCounts(t *testing.T) {
	for _, c := range []struct {
		arch    string
		in      []int
		classes int
		want    int
	}{
		{"resnet20", []int{32, 32, 3}, 10, 272474},
		{"resnet56", []int{32, 32, 3}, 10, 855770},
		{"resnet18", []int{224, 224, 3}, 1000, 11689512},
		{"mobilenetv2", []int{224, 224, 3}, 1000, 3504872},
		{"mobilenetv2-0.5", []int{96, 96, 3}, 10, 700490},
	} {
		m, err := New(c.arch, c.in, c.classes, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range m.Params() {
			if p.Trainable {
				n += p.Value.Len()
			}
		}
		if n != c.want {
			t.Errorf("%s: %d trainable params, the reference has %d", c.arch, n, c.want)
		}
		if out := m.OutputShape(); len(out) != 1 || out[0] != c.classes {
			t.Errorf("%s: output shape %v", c.arch, out)
		}
	}
}

// A ResNet-20 learns: a few steps on a fixed batch lower the loss, and a
// steady-state step allocates nothing.
func TestResNet20Trains(t *testing.T) {
	m, err := New("resnet20", []int{16, 16, 3}, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := nn.NewRNG(2)
	x := tensor.New(8, 16, 16, 3)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	y := tensor.New(8, 4)
	for i := range 8 {
		y.Data[i*4+i%4] = 1
	}
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.05, 0.9, false)
	step := func() float64 {
		l, err := m.TrainStep(x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(m.Params()); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := step()
	var last float64
	for range 15 {
		last = step()
	}
	if !(last < first/2) {
		t.Errorf("loss %v -> %v after 16 steps", first, last)
	}
	if a := testing.AllocsPerRun(3, func() { step() }); a != 0 {
		t.Errorf("a ResNet-20 training step allocates %v times", a)
	}
}

// Every architecture computes the same function after nn.Optimize (batch
// norms folded, residual additions and activations fused), and after
// FuseActivations, within float32 rounding.
func TestOptimizedArchsMatch(t *testing.T) {
	for _, name := range Names() {
		if name == "knn" { // no function before its training set is stored
			continue
		}
		a, _ := Get(name)
		in := a.DefaultInput
		if in[0] > 64 {
			in = []int{64, 64, 3}
		}
		m, err := New(name, in, 5, 3)
		if err != nil {
			t.Fatal(err)
		}
		// Moving statistics away from their defaults, so folding matters.
		for _, p := range m.Params() {
			if !p.Trainable {
				for i := range p.Value.Data {
					p.Value.Data[i] = 0.5 + float32(i%7)*0.1
				}
			}
		}
		x := tensor.New(append([]int{2}, in...)...)
		rng := nn.NewRNG(4)
		for i := range x.Data {
			x.Data[i] = rng.Float32()
		}
		want, err := m.Graph().NewSession().Run(false, x)
		if err != nil {
			t.Fatal(err)
		}
		for pass, f := range map[string]func(*nn.Graph) (*nn.Graph, error){"Optimize": nn.Optimize, "FuseActivations": nn.FuseActivations} {
			g, err := f(m.Graph())
			if err != nil {
				t.Fatalf("%s %s: %v", name, pass, err)
			}
			got, err := g.NewSession().Run(false, x)
			if err != nil {
				t.Fatalf("%s %s: %v", name, pass, err)
			}
			for i, v := range want[0].Data {
				if d := math.Abs(float64(v - got[0].Data[i])); d > 1e-4 {
					t.Fatalf("%s after %s: output %d is %v, %v before", name, pass, i, got[0].Data[i], v)
				}
			}
			if pass == "Optimize" && len(g.Nodes()) >= len(m.Graph().Nodes()) && strings.Contains(name, "net") {
				t.Errorf("%s: Optimize left %d of %d nodes", name, len(g.Nodes()), len(m.Graph().Nodes()))
			}
		}
	}
}
