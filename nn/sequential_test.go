package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func newLeNet() *Sequential {
	return NewSequential(
		NewConv2D(20, 5, 1, Same), NewReLU(), NewMaxPool2D(2, 2),
		NewConv2D(50, 5, 1, Same), NewReLU(), NewMaxPool2D(2, 2),
		NewFlatten(), NewDense(500), NewReLU(), NewDense(10), NewSoftmax(),
	)
}

func TestSequentialSummaryLeNet(t *testing.T) {
	m := newLeNet()
	if err := m.Build([]int{28, 28, 1}, 1); err != nil {
		t.Fatal(err)
	}
	// Parameter counts are those of the same model in Keras.
	want := `Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 conv2d (Conv2D)             (None, 28, 28, 20)        520

 re_lu (ReLU)                (None, 28, 28, 20)        0

 max_pool2d (MaxPool2D)      (None, 14, 14, 20)        0

 conv2d_1 (Conv2D)           (None, 14, 14, 50)        25,050

 re_lu_1 (ReLU)              (None, 14, 14, 50)        0

 max_pool2d_1 (MaxPool2D)    (None, 7, 7, 50)          0

 flatten (Flatten)           (None, 2450)              0

 dense (Dense)               (None, 500)               1,225,500

 re_lu_2 (ReLU)              (None, 500)               0

 dense_1 (Dense)             (None, 10)                5,010

 softmax (Softmax)           (None, 10)                0
=================================================================
Total params: 1,256,080
Trainable params: 1,256,080
Non-trainable params: 0
_________________________________________________________________
`
	if got := m.Summary(); got != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", got, want)
	}
	if s := m.OutputShape(); !tensor.EqualShape(s, []int{10}) {
		t.Errorf("OutputShape %v", s)
	}
	if s := m.InputShape(); !tensor.EqualShape(s, []int{28, 28, 1}) {
		t.Errorf("InputShape %v", s)
	}
	if n := len(m.Params()); n != 8 {
		t.Errorf("%d params, want 8 (kernel+bias for 4 layers)", n)
	}
}

func TestSequentialSummaryNonTrainable(t *testing.T) {
	d := NewDense(3)
	m := NewSequential(d)
	if err := m.Build([]int{4}, 1); err != nil {
		t.Fatal(err)
	}
	d.bias.Trainable = false
	s := m.Summary()
	for _, w := range []string{"Total params: 15\n", "Trainable params: 12\n", "Non-trainable params: 3\n"} {
		if !strings.Contains(s, w) {
			t.Errorf("Summary lacks %q:\n%s", w, s)
		}
	}
}

func TestSequentialErrors(t *testing.T) {
	// Dense works on the last axis, as in Keras: on feature maps it maps
	// the channels of every pixel.
	m := NewSequential(NewConv2D(4, 3, 1, Same), NewDense(10))
	if err := m.Build([]int{8, 8, 1}, 1); err != nil || !tensor.EqualShape(m.OutputShape(), []int{8, 8, 10}) {
		t.Errorf("Dense on images: %v, output %v", err, m.OutputShape())
	}
	m = NewSequential(NewConv2D(4, 3, 1, Same), NewMaxPool2D(16, 16))
	err := m.Build([]int{8, 8, 1}, 1)
	if err == nil || !strings.Contains(err.Error(), "layer 1 (MaxPool2D)") || !strings.Contains(err.Error(), "8, 8, 4)") {
		t.Errorf("pool larger than the image: %v", err)
	}
	m = NewSequential(NewConv2D(4, 3, 1, Same), NewFlatten(), NewDense(10))
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	_, err = m.Forward(tensor.New(2, 8, 8, 3), false)
	if err == nil || !strings.Contains(err.Error(), "(2, 8, 8, 3)") || !strings.Contains(err.Error(), "(batch, 8, 8, 1)") {
		t.Errorf("wrong input: %v", err)
	}
	if _, err := NewSequential(NewDense(2)).Forward(tensor.New(1, 2), false); err == nil {
		t.Error("Forward before Build: no error")
	}
}

func TestSequentialGrad(t *testing.T) {
	m := NewSequential(
		NewConv2D(3, 3, 2, Same), NewTanh(), NewAveragePool2D(2, 0),
		NewConv2D(4, 1, 1, Valid), NewFlatten(), NewDense(5), NewSoftmax(),
	)
	if err := m.Build([]int{9, 7, 2}, 3); err != nil {
		t.Fatal(err)
	}
	gradCheckGraph(t, m.Graph(), [][]int{{2, 9, 7, 2}}, gradOpts{Training: true, Eps: 1e-3, Tol: 2e-2, Samples: 20})
}

// The Model methods run the graph with activations fused into the layers
// before them; the results equal the unfused graph's.
func TestSequentialFusionIsExact(t *testing.T) {
	m := NewSequential(NewConv2D(5, 3, 1, Same), NewReLU(), NewMaxPool2D(2, 2), NewFlatten(), NewDense(7), NewReLU(), NewDense(3), NewSoftmax())
	if err := m.Build([]int{8, 8, 2}, 4); err != nil {
		t.Fatal(err)
	}
	x := randNormal(NewRNG(3), 4, 8, 8, 2)
	fused, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Graph().NewSession().Run(false, x)
	if err != nil {
		t.Fatal(err)
	}
	if !equalF32(fused.Data, plain[0].Data) {
		t.Error("fused and unfused outputs differ")
	}
	exec, err := FuseActivations(m.Graph())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exec.Nodes()); n != len(m.Graph().Nodes())-2 {
		t.Errorf("fused graph has %d nodes, want the %d of the model minus its 2 ReLUs", n, len(m.Graph().Nodes()))
	}
}

// hideLogits hides the LogitsLoss method so TrainStep cannot fuse.
type hideLogits struct{ Loss }

func TestSequentialTrainStepFusion(t *testing.T) {
	rng := NewRNG(5)
	x := randNormal(rng, 4, 6, 6, 2)
	target := tensor.New(4, 3)
	for i := range 4 {
		target.Set(1, i, i%3)
	}
	run := func(loss Loss) (float64, []*tensor.Tensor) {
		m := NewSequential(NewConv2D(3, 3, 1, Same), NewReLU(), NewGlobalAveragePool(), NewDense(3), NewSoftmax())
		if err := m.Build([]int{6, 6, 2}, 9); err != nil {
			t.Fatal(err)
		}
		l, err := m.TrainStep(x, target, loss)
		if err != nil {
			t.Fatal(err)
		}
		var g []*tensor.Tensor
		for _, p := range m.Params() {
			g = append(g, p.Grad.Clone())
		}
		return l, g
	}
	lf, gf := run(NewCategoricalCrossEntropy())
	lu, gu := run(hideLogits{NewCategoricalCrossEntropy()})
	if math.Abs(lf-lu) > 1e-5*math.Max(1, lu) {
		t.Errorf("fused loss %v, unfused %v", lf, lu)
	}
	for i := range gf {
		for j := range gf[i].Data {
			a, b := float64(gf[i].Data[j]), float64(gu[i].Data[j])
			if math.Abs(a-b) > 1e-4*math.Max(1e-2, math.Abs(b)) {
				t.Fatalf("param %d grad[%d]: fused %v, unfused %v", i, j, a, b)
			}
		}
	}
}

func TestSequentialDeterministic(t *testing.T) {
	a, b := newLeNet(), newLeNet()
	if err := a.Build([]int{28, 28, 1}, 42); err != nil {
		t.Fatal(err)
	}
	if err := b.Build([]int{28, 28, 1}, 42); err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Params() {
		if !equalF32(p.Value.Data, b.Params()[i].Value.Data) {
			t.Fatalf("param %d differs between builds with the same seed", i)
		}
	}
}

// A steady-state training step allocates nothing.
func TestSequentialTrainStepNoAllocs(t *testing.T) {
	m := NewSequential(
		NewConv2D(4, 3, 1, Same), NewReLU(), NewMaxPool2D(2, 0),
		NewConv2D(6, 3, 2, Valid), NewReLU(), NewFlatten(), NewDense(5), NewSoftmax(),
	)
	if err := m.Build([]int{10, 10, 1}, 1); err != nil {
		t.Fatal(err)
	}
	rng := NewRNG(2)
	x := randNormal(rng, 3, 10, 10, 1)
	target := tensor.New(3, 5)
	for i := range 3 {
		target.Set(1, i, i)
	}
	loss := NewCategoricalCrossEntropy()
	step := func() {
		if _, err := m.TrainStep(x, target, loss); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("TrainStep allocates %v times per step, want 0", a)
	}
	if a := testing.AllocsPerRun(5, func() { m.Predict(x) }); a != 0 {
		t.Errorf("Predict allocates %v times per call, want 0", a)
	}
}

func TestSnakeCase(t *testing.T) {
	for kind, want := range map[string]string{
		"Conv2D": "conv2d", "MaxPool2D": "max_pool2d", "ReLU": "re_lu", "Dense": "dense",
		"GlobalAveragePool": "global_average_pool", "BatchNorm": "batch_norm",
	} {
		if got := snakeCase(kind); got != want {
			t.Errorf("snakeCase(%s) = %s, want %s", kind, got, want)
		}
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
