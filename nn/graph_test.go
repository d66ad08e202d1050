package nn

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// residualMLP is x -> dense -> relu -> add(., x) -> dense: x fans out.
func residualMLP(t *testing.T) *Graph {
	t.Helper()
	g := NewGraph()
	x := g.Input("x", 5)
	h := g.Apply(NewReLU(), g.Apply(NewDense(5), x))
	y := g.Apply(NewDense(3), g.Apply(NewAdd(), h, x))
	g.Output(y)
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGraphResidualGradients(t *testing.T) {
	g := residualMLP(t)
	gradCheckGraph(t, g, [][]int{{4, 5}}, gradOpts{Training: true})
}

func TestGraphFanOutSumsGradients(t *testing.T) {
	// y = x*x + x: dy/dx = 2x + 1, through three reads of x.
	g := NewGraph()
	x := g.Input("x", 3)
	g.Output(g.Apply(NewAdd(), g.Apply(NewMul(), x, x), x))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	s := g.NewSession()
	s.SetInputGrad(true)
	in, _ := tensor.FromSlice([]float32{1, -2, 0.5}, 1, 3)
	if _, err := s.Run(true, in); err != nil {
		t.Fatal(err)
	}
	dy, _ := tensor.FromSlice([]float32{1, 1, 1}, 1, 3)
	grads, err := s.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{3, -3, 2} {
		if got := grads[0].Data[i]; got != want {
			t.Errorf("dx[%d] = %v, want %v", i, got, want)
		}
	}
	if dy.Data[0] != 1 {
		t.Error("Backward wrote over the caller's gradient")
	}
}

func TestGraphBuildErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func() *Graph
		want  []string
	}{
		{"cycle", func() *Graph {
			g := NewGraph()
			g.Input("x", 3)
			g.AddNode("a", NewAdd(), "x", "b")
			g.AddNode("b", NewReLU(), "a")
			g.OutputRefs("b")
			return g
		}, []string{"cycle", `"a"`, `"b"`}},
		{"dangling", func() *Graph {
			g := NewGraph()
			g.Input("x", 3)
			g.AddNode("a", NewReLU(), "nowhere")
			g.OutputRefs("a")
			return g
		}, []string{"nowhere", "dangling", `"a"`}},
		{"add shapes", func() *Graph {
			g := NewGraph()
			a := g.Input("a", 3)
			b := g.Input("b", 4)
			g.Output(g.Node("sum", NewAdd(), a, b).Out(0))
			return g
		}, []string{`"sum"`, "Add", "a (?, 3)", "b (?, 4)", "broadcast"}},
		{"other graph", func() *Graph {
			other := NewGraph()
			v := other.Input("v", 3)
			g := NewGraph()
			x := g.Input("x", 3)
			g.Output(g.Apply(NewAdd(), x, v))
			return g
		}, []string{"another graph"}},
		{"dense needs features", func() *Graph {
			g := NewGraph()
			x := g.Input("img", 4, 4, 1)
			g.Output(g.Apply(NewDense(2), g.Apply(NewSoftmax(), x)))
			return g
		}, nil},
		{"bad output index", func() *Graph {
			g := NewGraph()
			g.Input("x", 3)
			g.AddNode("r", NewReLU(), "x")
			g.OutputRefs("r:2")
			return g
		}, []string{`"r"`, "output 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.build().Build(0)
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Build succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSessionInputShapeError(t *testing.T) {
	g := residualMLP(t)
	_, err := g.Forward(tensor.New(2, 6), false)
	if err == nil || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), "(2, 6)") {
		t.Fatalf("error %v does not name the input and its shape", err)
	}
}

func TestSessionsShareWeightsConcurrently(t *testing.T) {
	g := residualMLP(t)
	x := tensor.New(8, 5)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	want, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := g.NewSession()
			for range 50 {
				y, err := s.Run(false, x)
				if err != nil {
					errs <- err.Error()
					return
				}
				for i, v := range y[0].Data {
					if v != want.Data[i] {
						errs <- "different result"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestSessionBuffersAreReused(t *testing.T) {
	// A chain of 12 equal-width layers needs two activations at a time.
	g := NewGraph()
	x := g.Input("x", 64)
	for range 12 {
		x = g.Apply(NewTanh(), g.Apply(NewDense(64), x))
	}
	g.Output(x)
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	s := g.NewSession()
	if _, err := s.Run(false, tensor.New(16, 64)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.pool.free); n > 2 {
		t.Errorf("%d free buffers after an inference run, want at most 2 (in-place tanh, one ping-pong buffer)", n)
	}
}

func TestTrainStepAllocatesNothing(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 20)
	h := g.Apply(NewDropout(0.2), g.Apply(NewReLU(), g.Apply(NewDense(16), x)))
	h = g.Apply(NewAdd(), h, g.Apply(NewDense(16), x))
	g.Output(g.Apply(NewSoftmax(), g.Apply(NewDense(4), h)))
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	in := tensor.New(32, 20)
	target := tensor.New(32, 4)
	for i := range 32 {
		target.Data[i*4+i%4] = 1
	}
	loss := NewCategoricalCrossEntropy()
	step := func() {
		if _, err := g.TrainStep(in, target, loss); err != nil {
			t.Fatal(err)
		}
	}
	step()
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Errorf("TrainStep allocates %v times per call", a)
	}
	infer := func() {
		if _, err := g.Predict(in); err != nil {
			t.Fatal(err)
		}
	}
	infer()
	if a := testing.AllocsPerRun(20, infer); a != 0 {
		t.Errorf("Predict allocates %v times per call", a)
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	run := func() ([]float64, []float32) {
		g := NewGraph()
		x := g.Input("x", 10)
		h := g.Apply(NewDropout(0.5), g.Apply(NewReLU(), g.Apply(NewDense(8), x)))
		g.Output(g.Apply(NewSoftmax(), g.Apply(NewDense(3), h)))
		if err := g.Build(42); err != nil {
			t.Fatal(err)
		}
		in := tensor.New(6, 10)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range in.Data {
			in.Data[i] = float32(rng.NormFloat64())
		}
		target := tensor.New(6, 3)
		for i := range 6 {
			target.Data[i*3+i%3] = 1
		}
		var losses []float64
		for range 5 {
			l, err := g.TrainStep(in, target, NewCategoricalCrossEntropy())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range g.Params() {
				for i := range p.Value.Data {
					p.Value.Data[i] -= 0.1 * p.Grad.Data[i]
				}
			}
			losses = append(losses, l)
		}
		return losses, g.Params()[0].Value.Data
	}
	l1, w1 := run()
	l2, w2 := run()
	for i := range l1 {
		if l1[i] != l2[i] {
			t.Fatalf("loss %d: %v vs %v", i, l1[i], l2[i])
		}
	}
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatalf("weight %d: %v vs %v", i, w1[i], w2[i])
		}
	}
}

func TestGraphSaveLoad(t *testing.T) {
	g := residualMLP(t)
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := SaveFile(path, g, map[string]string{"note": "hi"}); err != nil {
		t.Fatal(err)
	}
	m, meta, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["note"] != "hi" {
		t.Errorf("metadata %v", meta)
	}
	if _, ok := m.(*Graph); !ok {
		t.Fatalf("loaded a %T, want *Graph", m)
	}
	x := tensor.New(3, 5)
	for i := range x.Data {
		x.Data[i] = float32(i) / 7
	}
	want, _ := g.Predict(x)
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if want.Data[i] != got.Data[i] {
			t.Fatalf("output %d: %v after loading, %v before", i, got.Data[i], want.Data[i])
		}
	}
	if g.Summary() != m.Summary() {
		t.Errorf("summary changed:\n%s\n%s", g.Summary(), m.Summary())
	}
}

// scaleOp is a user-defined op: y = Factor * x.
type scaleOp struct {
	unary
	Factor float32 `json:"factor"`
}

func (o *scaleOp) Kind() string { return "TestScale" }
func (o *scaleOp) Forward(c *Call, in, out []*tensor.Tensor) error {
	for i, v := range in[0].Data {
		out[0].Data[i] = o.Factor * v
	}
	return nil
}
func (o *scaleOp) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	for i, v := range dout[0].Data {
		din[0].Data[i] = o.Factor * v
	}
	return nil
}

func TestRegisterOpSavesUserOps(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 2)
	g.Output(g.Apply(&scaleOp{Factor: 3}, x))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "u.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), `unknown op kind "TestScale"`) {
		t.Fatalf("loading an unregistered op: %v", err)
	}
	if err := RegisterOp(func() Op { return &scaleOp{} }); err != nil {
		t.Fatal(err)
	}
	if err := RegisterOp(func() Op { return &scaleOp{} }); err == nil {
		t.Error("registering a kind twice succeeded")
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Predict(tensor.New(1, 2))
	if err != nil || m.Graph().Nodes()[1].Op.(*scaleOp).Factor != 3 || len(y.Data) != 2 {
		t.Fatalf("loaded user op: %v %v", m.Graph().Nodes()[1].Op, err)
	}
}

func TestGraphSummary(t *testing.T) {
	g := residualMLP(t)
	s := g.Summary()
	for _, w := range []string{"x (InputLayer)", "[(None, 5)]", "dense (Dense)", "(None, 5)", "30", "add (Add)", "re_lu[0][0]", "x[0][0]", "Total params: 48", "Connected to"} {
		if !strings.Contains(s, w) {
			t.Errorf("summary lacks %q:\n%s", w, s)
		}
	}
}

// Frozen weights (transfer learning) stay frozen through a model file.
func TestFrozenParamsSurviveSaving(t *testing.T) {
	g := residualMLP(t)
	k := g.Nodes()[1].Op.Params()[0]
	k.Trainable, k.Grad = false, nil
	path := filepath.Join(t.TempDir(), "frozen.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range m.Graph().Nodes() {
		for j, p := range n.Op.Params() {
			frozen := i == 1 && j == 0
			if p.Trainable == frozen || (p.Grad == nil) != frozen {
				t.Errorf("node %s param %s: trainable %v, gradient %v", n.Name, p.Name, p.Trainable, p.Grad != nil)
			}
		}
	}
}

// Long layer names and a layer of over 10 million weights keep every
// column of the summary aligned.
func TestGraphSummaryAlignsLongNames(t *testing.T) {
	g := NewGraph()
	g.Input("image", 4000)
	g.AddNode("MobilenetV2/expanded_conv_16/project/add_fold_with_a_long_name", NewDense(3000), "image")
	g.AddNode("out", NewDense(2), "MobilenetV2/expanded_conv_16/project/add_fold_with_a_long_name")
	g.OutputRefs("out")
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	s := g.Summary()
	lines := strings.Split(s, "\n")
	header := lines[2]
	shapeCol, paramCol, connCol := strings.Index(header, "Output Shape"), strings.Index(header, "Param #"), strings.Index(header, "Connected to")
	rows := 0
	for _, l := range lines {
		if !strings.Contains(l, "(Dense)") {
			continue
		}
		rows++
		if l[shapeCol-1] != ' ' || l[shapeCol] != '(' || l[paramCol-1] != ' ' || l[paramCol] == ' ' || l[connCol-1] != ' ' || l[connCol] == ' ' {
			t.Errorf("columns at %d, %d, %d misaligned in\n%s\n%s", shapeCol, paramCol, connCol, header, l)
		}
	}
	if rows != 2 || !strings.Contains(s, "12,003,000") {
		t.Errorf("summary:\n%s", s)
	}
}
