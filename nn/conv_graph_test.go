package nn

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// convNet is a small network of every convolution with activations and a
// residual connection for the passes to fuse:
// x -> conv+relu -> grouped conv -> add(., conv's output) -> leaky relu
// -> depthwise (mult 2) -> tanh -> transposed conv (stride 2) -> sigmoid.
func convNet(t testing.TB) *Graph {
	t.Helper()
	g := NewGraph()
	x := g.Input("x", 7, 6, 4)
	h := g.Apply(NewReLU(), g.Apply(NewConv2D(6, 3, 1, Same), x))
	gc := NewConv2D(6, 3, 1, Same)
	gc.Groups = 3
	r := g.Apply(NewLeakyReLU(0.1), g.Apply(NewAdd(), g.Apply(gc, h), h))
	dw := NewDepthwiseConv2D(3, 2, Same)
	dw.DepthMultiplier = 2
	d := g.Apply(NewTanh(), g.Apply(dw, r))
	ct := NewConvTranspose2D(3, 3, 2, Explicit(1))
	ct.OutputPaddingH = 1
	g.Output(g.Apply(NewSigmoid(), g.Apply(ct, d)))
	if err := g.Build(5); err != nil {
		t.Fatal(err)
	}
	// Non-zero biases, so that the epilogue's bias matters.
	rng := NewRNG(8)
	for _, p := range g.Params() {
		if p.Name == "bias" {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.NormFloat64()) / 4
			}
		}
	}
	return g
}

// runGrads runs a training step on a session of g: outputs, the input
// gradient and every param's gradient (by param, since fused graphs share
// the weights).
func runGrads(t *testing.T, g *Graph, x, dy *tensor.Tensor) (y, dx *tensor.Tensor, grads map[*Param][]float32) {
	t.Helper()
	s := g.NewSession()
	s.SetInputGrad(true)
	ZeroGrads(g.Params())
	ys, err := s.Run(true, x)
	if err != nil {
		t.Fatal(err)
	}
	y = ys[0].Clone()
	gs, err := s.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	grads = map[*Param][]float32{}
	for _, p := range g.Params() {
		if p.Grad != nil {
			grads[p] = append([]float32(nil), p.Grad.Data...)
		}
	}
	return y, gs[0].Clone(), grads
}

// Activations fused by FuseActivations give the outputs and gradients of
// the separate ops; the fused ops carry them in their epilogues.
func TestConvFusedMatchesSeparate(t *testing.T) {
	g := convNet(t)
	fused, err := FuseActivations(g)
	if err != nil {
		t.Fatal(err)
	}
	acts := map[string]string{}
	for _, n := range fused.Nodes() {
		switch op := n.Op.(type) {
		case *Conv2D:
			acts[n.Name] = op.Act.Kind
		case *DepthwiseConv2D:
			acts[n.Name] = op.Act.Kind
		case *ConvTranspose2D:
			acts[n.Name] = op.Act.Kind
		case ActOp:
			if n.Inputs[0].Node().Op.Kind() != "Add" { // residuals fuse at inference only
				t.Errorf("activation %q (%s) left unfused", n.Name, n.Op.Kind())
			}
		}
	}
	want := map[string]string{"conv2d": "relu", "conv2d_1": "", "depthwise_conv2d": "tanh", "conv2d_transpose": "sigmoid"}
	for k, v := range want {
		if acts[k] != v {
			t.Errorf("node %s fused %q, want %q (all: %v)", k, acts[k], v, acts)
		}
	}
	x := convRand(NewRNG(1), 3, 7, 6, 4)
	dy := convRand(NewRNG(2), 3, 8, 5, 3)
	y1, dx1, g1 := runGrads(t, g, x, dy)
	y2, dx2, g2 := runGrads(t, fused, x, dy)
	convClose(t, "y", y2.Data, y1.Data, 1e-6)
	convClose(t, "dx", dx2.Data, dx1.Data, 1e-5)
	for _, n := range g.Nodes() {
		for _, p := range n.Op.Params() {
			convClose(t, n.Name+"."+p.Name, g2[p], g1[p], 1e-5)
		}
	}
	// The fused graph trains the original's weights: its gradients check
	// out end to end.
	gradCheckGraph(t, fused, [][]int{{2, 7, 6, 4}}, gradOpts{Training: true, Samples: 12, Tol: 2e-2})
}

// affineTestOp is y = x*scale + shift over the last axis, with the
// channelAffine hook, standing in for an inference batch norm.
type affineTestOp struct {
	unary
	scale, shift []float32
}

func (o *affineTestOp) Kind() string { return "TestAffine" }
func (o *affineTestOp) inferenceAffine() ([]float32, []float32, bool) {
	return o.scale, o.shift, true
}
func (o *affineTestOp) Forward(c *Call, in, out []*tensor.Tensor) error {
	f := len(o.scale)
	for i, v := range in[0].Data {
		out[0].Data[i] = v*o.scale[i%f] + o.shift[i%f]
	}
	return nil
}
func (o *affineTestOp) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return fmt.Errorf("inference only")
}

func convAffine(rng *rand.Rand, f int) *affineTestOp {
	o := &affineTestOp{scale: make([]float32, f), shift: make([]float32, f)}
	for i := range f {
		o.scale[i] = float32(rng.Float64()*1.5 + 0.25)
		o.shift[i] = float32(rng.NormFloat64())
	}
	return o
}

// Optimize folds the affine maps into the convolutions before them, the
// residual addition into the grouped conv's epilogue and the activations
// after, and computes what the original graph does.
func TestConvOptimizeFoldsAndFuses(t *testing.T) {
	rng := NewRNG(4)
	g := NewGraph()
	x := g.Input("x", 9, 7, 4)
	h := g.Apply(NewReLU(), g.Apply(convAffine(rng, 6), g.Apply(NewConv2D(6, 3, 2, Same), x)))
	gc := NewConv2D(6, 3, 1, Same)
	gc.Groups = 2
	r := g.Apply(NewReLU(), g.Apply(NewAdd(), g.Apply(convAffine(rng, 6), g.Apply(gc, h)), h))
	dw := NewDepthwiseConv2D(3, 1, Same)
	dwo := g.Apply(convAffine(rng, 6), g.Apply(dw, r))
	d := g.Apply(NewReLU(), g.Apply(NewAdd(), r, dwo)) // residual as the first operand
	ct := NewConvTranspose2D(4, 3, 2, Same)
	ct.Groups = 2
	g.Output(g.Apply(NewTanh(), g.Apply(convAffine(rng, 4), g.Apply(ct, d))))
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	opt, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range opt.Nodes() {
		kinds = append(kinds, n.Op.Kind())
	}
	if want := "InputLayer Conv2D Conv2D DepthwiseConv2D Conv2DTranspose"; strings.Join(kinds, " ") != want {
		t.Fatalf("optimized graph: %v, want %s", kinds, want)
	}
	if c := opt.Nodes()[2].Op.(*Conv2D); !c.Residual || c.Act.Kind != "relu" || c.Kernel().Grad != nil {
		t.Errorf("grouped conv: residual %v act %q, folded kernel trainable %v", c.Residual, c.Act.Kind, c.Kernel().Grad != nil)
	}
	if d := opt.Nodes()[3].Op.(*DepthwiseConv2D); !d.Residual || d.Act.Kind != "relu" {
		t.Errorf("depthwise: residual %v act %q", d.Residual, d.Act.Kind)
	}
	in := convRand(NewRNG(5), 2, 9, 7, 4)
	s1, s2 := g.NewSession(), opt.NewSession()
	y1, err := s1.Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	y2, err := s2.Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	convClose(t, "optimized y", y2[0].Data, y1[0].Data, 1e-5)
}

// foldAffine's copy computes y*scale + shift and leaves the original alone.
func TestConvFoldAffine(t *testing.T) {
	grouped := NewConv2D(6, 3, 2, Same)
	grouped.Groups = 3
	dw := NewDepthwiseConv2D(3, 1, Valid)
	dw.DepthMultiplier = 2
	ct := NewConvTranspose2D(6, 3, 2, Explicit(1))
	ct.Groups = 2
	nobias := NewConv2D(6, 1, 1, Valid)
	nobias.UseBias = false
	for _, op := range []Op{NewConv2D(6, 3, 1, Same), grouped, nobias, dw, ct} {
		t.Run(op.Kind(), func(t *testing.T) {
			out := convBuild(t, op, []int{2, 6, 5, 6})
			rng := NewRNG(3)
			for _, p := range op.Params() {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(rng.NormFloat64())
				}
			}
			before := op.Params()[0].Value.Clone()
			f := out[3]
			aff := convAffine(rng, f)
			folded, err := op.(affineFolder).foldAffine(aff.scale, aff.shift)
			if err != nil {
				t.Fatal(err)
			}
			x := convRand(rng, 2, 6, 5, 6)
			y, _ := convRun(t, op, &Call{}, false, []*tensor.Tensor{x}, nil, false)
			want := tensor.New(y.Shape...)
			aff.Forward(nil, []*tensor.Tensor{y}, []*tensor.Tensor{want})
			got, _ := convRun(t, folded, &Call{}, false, []*tensor.Tensor{x}, nil, false)
			convClose(t, "folded y", got.Data, want.Data, 1e-5)
			convClose(t, "original kernel", op.Params()[0].Value.Data, before.Data, 0)
			if _, err := op.(affineFolder).foldAffine(aff.scale[1:], aff.shift); err == nil {
				t.Error("folding the wrong number of channels succeeded")
			}
		})
	}
	c := NewConv2D(2, 1, 1, Valid)
	c.Act = Act{Kind: "relu"}
	convBuild(t, c, []int{1, 2, 2, 2})
	if _, err := c.foldAffine([]float32{1, 1}, []float32{0, 0}); err == nil || !strings.Contains(err.Error(), "activation") {
		t.Errorf("folding after an activation: %v", err)
	}
	if _, ok := c.fuseAct(Act{Kind: "tanh"}); ok {
		t.Error("fused a second activation")
	}
	if _, ok := c.fuseResidual(); ok {
		t.Error("fused a residual after the activation")
	}
}

// Conv2D with a fused residual and activation computes act(conv(x) + r)
// and trains: dr = dy * act'(y).
func TestConv2DResidualMatchesAdd(t *testing.T) {
	for _, groups := range []int{1, 2, 4} {
		c := NewConv2D(4, 3, 1, Same)
		c.Groups = groups
		convBuild(t, c, []int{2, 5, 6, 4})
		fused := *c
		fused.Residual, fused.Act = true, Act{Kind: "relu"}
		x, r := convRand(NewRNG(1), 2, 5, 6, 4), convRand(NewRNG(2), 2, 5, 6, 4)
		y, _ := convRun(t, c, &Call{}, false, []*tensor.Tensor{x}, nil, false)
		for i := range y.Data {
			y.Data[i] = max(y.Data[i]+r.Data[i], 0)
		}
		dy := convRand(NewRNG(3), 2, 5, 6, 4)
		call := &Call{}
		yf, _ := convRun(t, &fused, call, true, []*tensor.Tensor{x, r}, nil, false)
		convClose(t, "y", yf.Data, y.Data, 1e-6)
		dr := tensor.New(r.Shape...)
		if err := fused.Backward(call, []*tensor.Tensor{x, r}, []*tensor.Tensor{yf}, []*tensor.Tensor{dy}, []*tensor.Tensor{nil, dr}); err != nil {
			t.Fatal(err)
		}
		for i, v := range dr.Data {
			want := dy.Data[i]
			if yf.Data[i] <= 0 {
				want = 0
			}
			if v != want {
				t.Fatalf("groups %d: dr[%d] = %v, want %v", groups, i, v, want)
			}
		}
	}
}

// A steady-state training step and inference of a graph of convolutions
// allocate nothing.
func TestConvTrainStepAllocatesNothing(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 12, 10, 3)
	h := g.Apply(NewReLU(), g.Apply(NewConv2D(8, 3, 1, Same), x))
	gc := NewConv2D(8, 3, 2, Same)
	gc.Groups, gc.DilationH = 2, 2
	h = g.Apply(NewReLU(), g.Apply(gc, h))
	dw := NewDepthwiseConv2D(3, 1, Same)
	h = g.Apply(NewAdd(), g.Apply(NewReLU(), g.Apply(dw, h)), h)
	h = g.Apply(NewTanh(), g.Apply(NewConvTranspose2D(4, 2, 2, Valid), h))
	h = g.Apply(NewConv2D(4, 1, 1, Valid), h)
	g.Output(g.Apply(NewSoftmax(), g.Apply(NewDense(5), g.Apply(NewFlatten(), h))))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	in := convRand(NewRNG(2), 8, 12, 10, 3)
	target := tensor.New(8, 5)
	for i := range 8 {
		target.Data[i*5+i%5] = 1
	}
	loss := NewCategoricalCrossEntropy()
	step := func() {
		if _, err := g.TrainStep(in, target, loss); err != nil {
			t.Fatal(err)
		}
	}
	for _, threads := range []int{1, 0} {
		prev := kernels.SetThreads(threads)
		step()
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("threads %d: TrainStep allocates %v times per call", kernels.Threads(), a)
		}
		infer := func() {
			if _, err := g.Predict(in); err != nil {
				t.Fatal(err)
			}
		}
		infer()
		if a := testing.AllocsPerRun(10, infer); a != 0 {
			t.Errorf("threads %d: Predict allocates %v times per call", kernels.Threads(), a)
		}
		kernels.SetThreads(prev)
	}
}

// Splitting the work over cores (lines forward, images backward; kept or
// chunked patches; with and without the input gradient) gives the results
// of one core up to rounding.
func TestConvPartsMatchOneCore(t *testing.T) {
	type result struct{ y, dx, dw, db *tensor.Tensor }
	x := convRand(NewRNG(11), 7, 9, 8, 6)
	run := func(threads int, op Op, chunked, wantDX bool) result {
		prev := kernels.SetThreads(threads)
		defer kernels.SetThreads(prev)
		out := convBuild(t, op, x.Shape)
		if c, ok := op.(*Conv2D); ok && chunked {
			c.keepFloats, c.chunkFloats = -1, 2*8*9*6
		}
		if c, ok := op.(*ConvTranspose2D); ok && chunked {
			c.chunkFloats = 2 * 8 * 9 * 6
		}
		dy := convRand(NewRNG(5), out...)
		call := &Call{}
		var r result
		for range 2 { // gradients accumulate over calls
			y, dx := convRun(t, op, call, true, []*tensor.Tensor{x}, dy, wantDX)
			r.y, r.dx = y, dx
		}
		r.dw, r.db = op.Params()[0].Grad.Clone(), op.Params()[1].Grad.Clone()
		return r
	}
	grouped := func() Op { c := NewConv2D(6, 3, 2, Valid); c.Groups = 3; return c }
	dilated := func() Op { c := NewConv2D(5, 3, 1, Same); c.DilationH, c.DilationW = 2, 2; return c }
	ops := map[string]func() Op{
		"5x5 same":       func() Op { return NewConv2D(6, 5, 1, Same) },
		"3x3 s2":         func() Op { return NewConv2D(5, 3, 2, Valid) },
		"1x1":            func() Op { return NewConv2D(4, 1, 1, Valid) },
		"groups 3":       grouped,
		"dilation 2":     dilated,
		"depthwise":      func() Op { return NewDepthwiseConv2D(3, 2, Same) },
		"transposed s2":  func() Op { return NewConvTranspose2D(4, 3, 2, Same) },
		"transposed 1x1": func() Op { return NewConvTranspose2D(4, 1, 1, Valid) },
	}
	for name, mk := range ops {
		for _, chunked := range []bool{false, true} {
			for _, wantDX := range []bool{false, true} {
				want := run(1, mk(), chunked, wantDX)
				for _, threads := range []int{2, 3, 8} {
					got := run(threads, mk(), chunked, wantDX)
					what := fmt.Sprintf("%s chunked=%v dx=%v threads=%d", name, chunked, wantDX, threads)
					convClose(t, what+" y", got.y.Data, want.y.Data, 1e-5)
					if wantDX {
						convClose(t, what+" dx", got.dx.Data, want.dx.Data, 1e-5)
					}
					convClose(t, what+" dW", got.dw.Data, want.dw.Data, 1e-4)
					convClose(t, what+" db", got.db.Data, want.db.Data, 1e-4)
				}
			}
		}
	}
}

// A version-1 model file (a chain of layers, configs as the old release
// wrote them) loads into Conv2D ops that compute what the weights say.
func TestConv2DLoadsVersion1File(t *testing.T) {
	arch := `{"input_shape":[6,5,2],"layers":[{"kind":"Conv2D","config":{"filters":3,"kernel_h":3,"kernel_w":3,"stride_h":2,"stride_w":2,"padding":{"mode":"explicit","top":1,"bottom":1,"left":1,"right":1},"use_bias":true}}]}`
	rng := NewRNG(6)
	kernel, bias := convRand(rng, 3, 3, 2, 3), convRand(rng, 3)
	f := &safetensors.File{
		Metadata: map[string]string{metaFormat: "dlcv", metaVersion: "1", metaArch: arch},
		Tensors: map[string]safetensors.Tensor{
			"layers.0.kernel": {Shape: kernel.Shape, Data: kernel.Data},
			"layers.0.bias":   {Shape: bias.Shape, Data: bias.Data},
		},
	}
	path := filepath.Join(t.TempDir(), "v1.safetensors")
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Graph().Nodes()[1].Op.(*Conv2D)
	if c.Padding != Explicit(1) || c.groups() != 1 || c.Act.Kind != "" {
		t.Fatalf("loaded %+v", c)
	}
	x := convRand(rng, 2, 6, 5, 2)
	y, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := convRef(c, x)
	for i := range want {
		if d := float64(y.Data[i]) - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("y[%d] = %v, want %v", i, y.Data[i], want[i])
		}
	}
}

// Sessions of one graph run its convolutions concurrently (no op state is
// shared), and a fully convolutional graph takes any image size.
func TestConvSessionsConcurrentAnySize(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", -1, -1, 3)
	h := g.Apply(NewReLU(), g.Apply(NewConv2D(6, 3, 2, Same), x))
	h = g.Apply(NewDepthwiseConv2D(3, 1, Same), h)
	g.Output(g.Apply(NewConvTranspose2D(2, 3, 2, Same), h))
	if err := g.Build(2); err != nil {
		t.Fatal(err)
	}
	if s := g.Outputs()[0].Shape(); !tensor.EqualShape(s, []int{-1, -1, -1, 2}) {
		t.Fatalf("output shape %v", s)
	}
	sizes := [][]int{{2, 9, 7, 3}, {1, 16, 12, 3}, {3, 5, 5, 3}}
	want := make([]*tensor.Tensor, len(sizes))
	ins := make([]*tensor.Tensor, len(sizes))
	for i, s := range sizes {
		ins[i] = convRand(NewRNG(uint64(i)), s...)
		y, err := g.NewSession().Run(false, ins[i])
		if err != nil {
			t.Fatal(err)
		}
		if y[0].Shape[1] != (s[1]+1)/2*2 || y[0].Shape[2] != (s[2]+1)/2*2 {
			t.Fatalf("input %v: output %v", s, y[0].Shape)
		}
		want[i] = y[0].Clone()
	}
	errs := make(chan string, 4)
	done := make(chan bool)
	for w := range 4 {
		go func() {
			s := g.NewSession()
			for k := range 20 {
				i := (w + k) % len(sizes)
				y, err := s.Run(k%2 == 0, ins[i])
				if err != nil {
					errs <- err.Error()
					break
				}
				for j, v := range y[0].Data {
					if v != want[i].Data[j] {
						errs <- fmt.Sprintf("worker %d: input %d: y[%d] = %v, want %v", w, i, j, v, want[i].Data[j])
						break
					}
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// Without the input gradient a one-channel convolution takes dW from
// kernels.Conv1ChanGrad where the CPU has it; it must equal the im2col
// path's dW.
func TestConv2DOneChannelWithoutInputGrad(t *testing.T) {
	x := convRand(NewRNG(4), 3, 12, 11, 1)
	grads := func(wantDX bool) (dw, db *tensor.Tensor) {
		c := NewConv2D(20, 5, 1, Same)
		out := convBuild(t, c, x.Shape)
		dy := convRand(NewRNG(6), out...)
		convRun(t, c, &Call{}, true, []*tensor.Tensor{x}, dy, wantDX)
		return c.kernel.Grad, c.bias.Grad
	}
	dw1, db1 := grads(false)
	dw2, db2 := grads(true)
	convClose(t, "dW", dw1.Data, dw2.Data, 1e-4)
	convClose(t, "db", db1.Data, db2.Data, 1e-5)
}
