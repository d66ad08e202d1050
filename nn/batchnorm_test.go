package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// bnLossFixtures mirrors testdata/torch_bn_losses.json, written by
// testdata/gen_torch_bn_fixtures.py.
type bnLossFixtures struct {
	BN4D   bnFixture `json:"bn4d"`
	BN2D   bnFixture `json:"bn2d"`
	Losses struct {
		N, C         int
		Logits       []float32 `json:"logits"`
		Onehot       []float32 `json:"onehot"`
		ClassWeights []float32 `json:"class_weights"`
		Probs        []float32 `json:"probs"`
		CCELogits    lossRef   `json:"cce_logits"`
		CCEWeighted  lossRef   `json:"cce_logits_weighted"`
		CCEProbs     lossRef   `json:"cce_probs"`
		BCEShape     []int     `json:"bce_shape"`
		BCEP         []float32 `json:"bce_p"`
		BCEZ         []float32 `json:"bce_z"`
		BCEY         []float32 `json:"bce_y"`
		BCE          lossRef   `json:"bce"`
		BCELogits    lossRef   `json:"bce_logits"`
		MSEShape     []int     `json:"mse_shape"`
		MSEP         []float32 `json:"mse_p"`
		MSEY         []float32 `json:"mse_y"`
		MSE          lossRef   `json:"mse"`
	} `json:"losses"`
}

type bnFixture struct {
	Shape              []int
	X, Gamma, Beta, DY []float32
	MovingMean0        []float32 `json:"moving_mean0"`
	MovingVar0         []float32 `json:"moving_var0"`
	Momentum, Epsilon  float32
	Train              bnResult `json:"train"`
	Eval               bnResult `json:"eval"`
}

type bnResult struct {
	Y, DX, DGamma, DBeta []float32
	MovingMean           []float32 `json:"moving_mean"`
	MovingVar            []float32 `json:"moving_var"`
}

// lossRef is [value, gradient] as the script writes it.
type lossRef struct {
	Value float64
	Grad  []float32
}

func (r *lossRef) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &r.Value); err != nil {
		return err
	}
	return json.Unmarshal(raw[1], &r.Grad)
}

func loadBNLossFixtures(t *testing.T) *bnLossFixtures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torch_bn_losses.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f bnLossFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("torch_bn_losses.json: %v", err)
	}
	return &f
}

// relClose compares with a relative tolerance and a small absolute floor.
func relClose(t *testing.T, what string, got, want []float32, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > rel*math.Max(math.Abs(w), 1e-2) || math.IsNaN(g) {
			t.Errorf("%s[%d] = %.7g, want %.7g", what, i, g, w)
			return
		}
	}
}

func fixtureTensor(t *testing.T, data []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromSlice(append([]float32(nil), data...), shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestBatchNormTorch(t *testing.T) {
	f := loadBNLossFixtures(t)
	for name, fx := range map[string]bnFixture{"4d": f.BN4D, "2d": f.BN2D} {
		for _, training := range []bool{true, false} {
			bn := NewBatchNorm(fx.Momentum, fx.Epsilon)
			if err := bn.Build([][]int{fx.Shape}, nil); err != nil {
				t.Fatal(err)
			}
			p := bn.Params()
			copy(p[0].Value.Data, fx.Gamma)
			copy(p[1].Value.Data, fx.Beta)
			copy(p[2].Value.Data, fx.MovingMean0)
			copy(p[3].Value.Data, fx.MovingVar0)
			ref := fx.Eval
			what := name + " eval "
			if training {
				ref, what = fx.Train, name+" train "
			}
			call := &Call{Train: training}
			x := fixtureTensor(t, fx.X, fx.Shape...)
			y := evalOp(t, bn, call, x)
			relClose(t, what+"y", y[0].Data, ref.Y, 1e-4)
			dx := evalOpGrad(t, bn, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, fx.DY, fx.Shape...)})
			relClose(t, what+"dx", dx[0].Data, ref.DX, 1e-4)
			relClose(t, what+"dgamma", p[0].Grad.Data, ref.DGamma, 1e-4)
			relClose(t, what+"dbeta", p[1].Grad.Data, ref.DBeta, 1e-4)
			if training {
				relClose(t, what+"moving_mean", p[2].Value.Data, ref.MovingMean, 1e-4)
				relClose(t, what+"moving_variance", p[3].Value.Data, ref.MovingVar, 1e-4)
			} else {
				relClose(t, what+"moving_mean unchanged", p[2].Value.Data, fx.MovingMean0, 0)
				relClose(t, what+"moving_variance unchanged", p[3].Value.Data, fx.MovingVar0, 0)
			}
		}
	}
}

// bnWithStats is a BatchNorm whose Build sets non-trivial gamma, beta and
// moving statistics, so that gradient checks at inference see them.
type bnWithStats struct {
	*BatchNorm
	frozenGamma bool
}

func (b bnWithStats) Build(in [][]int, rng *rand.Rand) error {
	if err := b.BatchNorm.Build(in, rng); err != nil {
		return err
	}
	for _, p := range b.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(0.5 + rng.Float64())
		}
	}
	if b.frozenGamma {
		b.Gamma().Grad = nil
		b.Gamma().Trainable = false
	}
	return nil
}

func TestBatchNormGrad(t *testing.T) {
	for _, training := range []bool{true, false} {
		o := gradOpts{Training: training}
		gradCheckOp(t, bnWithStats{BatchNorm: NewBatchNorm(0, 0)}, [][]int{{3, 2, 2, 3}}, o)
		o.Seed = 3
		gradCheckOp(t, bnWithStats{BatchNorm: NewBatchNorm(0.9, 1e-5)}, [][]int{{6, 4}}, o)
		// Odd sizes, channels not a multiple of 8, rank 3.
		o.Seed = 4
		gradCheckOp(t, bnWithStats{BatchNorm: NewBatchNorm(0, 0)}, [][]int{{3, 7, 5}}, o)
		// Frozen: moving statistics in training too.
		frozen := NewBatchNorm(0, 0)
		frozen.Frozen = true
		gradCheckOp(t, bnWithStats{BatchNorm: frozen}, [][]int{{2, 3, 3, 5}}, o)
		// Gamma frozen as well: no input saved.
		frozen = NewBatchNorm(0, 0)
		frozen.Frozen = true
		gradCheckOp(t, bnWithStats{BatchNorm: frozen, frozenGamma: true}, [][]int{{2, 3, 5}}, o)
	}
	// Enough rows for several chunks (and cores) with a channel count that
	// splits no chunk evenly.
	gradCheckOp(t, bnWithStats{BatchNorm: NewBatchNorm(0, 0)}, [][]int{{4, 33, 33, 13}}, gradOpts{Training: true, Seed: 5})
}

func TestBatchNormDefaultsAndErrors(t *testing.T) {
	bn := NewBatchNorm(0, 0)
	if bn.Momentum != 0.9 || bn.Epsilon != 1e-3 {
		t.Fatalf("defaults %v %v, want PyTorch's momentum (0.9 here) and Keras' epsilon 1e-3", bn.Momentum, bn.Epsilon)
	}
	if err := bn.Forward(&Call{}, []*tensor.Tensor{tensor.New(2, 3)}, []*tensor.Tensor{tensor.New(2, 3)}); err == nil {
		t.Error("Forward before Build did not fail")
	}
	if err := bn.Build([][]int{{-1, 4, 4, 3}}, nil); err != nil {
		t.Fatal(err)
	}
	p := bn.Params()
	if len(p) != 4 || !p[0].Trainable || !p[1].Trainable || p[2].Trainable || p[3].Trainable || p[2].Grad != nil {
		t.Fatalf("params %v: want trainable gamma, beta and state moving_mean, moving_variance", p)
	}
	for i, name := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		if p[i].Name != name {
			t.Errorf("param %d is %q, want %q (model files use the names)", i, p[i].Name, name)
		}
	}
	if p[0].Value.Data[0] != 1 || p[1].Value.Data[0] != 0 || p[2].Value.Data[0] != 0 || p[3].Value.Data[0] != 1 {
		t.Error("initial gamma, beta, moving stats are not 1, 0, 0, 1")
	}
	err := bn.Backward(&Call{}, []*tensor.Tensor{tensor.New(2, 3)}, nil, []*tensor.Tensor{tensor.New(2, 3)}, []*tensor.Tensor{tensor.New(2, 3)})
	if err == nil || !strings.Contains(err.Error(), "before Forward") {
		t.Errorf("Backward before Forward: %v", err)
	}
	shapeErr(t, bn, [][]int{{2, 4, 4, 5}}, "(2, 4, 4, 5)", "5 channels", "built for 3")
	shapeErr(t, NewBatchNorm(1.5, 0), [][]int{{2, 3}}, "momentum 1.5")
	shapeErr(t, NewBatchNorm(0, -1), [][]int{{2, 3}}, "epsilon -1")
	shapeErr(t, NewBatchNorm(0, float32(math.NaN())), [][]int{{2, 3}}, "epsilon NaN")
	shapeErr(t, NewBatchNorm(0, 0), [][]int{{3}}, "(3,)", "channel axis")
	shapeErr(t, NewBatchNorm(0, 0), [][]int{{2, 3}, {2, 3}}, "2")
	if err := NewBatchNorm(0, 0).Build([][]int{{-1, 4, -1}}, nil); err == nil || !strings.Contains(err.Error(), "(?, 4, ?)") {
		t.Errorf("unknown channels at build: %v", err)
	}
}

// Inference after many training steps on a fixed distribution normalises
// with the learnt moving statistics.
func TestBatchNormMovingStats(t *testing.T) {
	bn := NewBatchNorm(0.9, 1e-3)
	if err := bn.Build([][]int{{64, 2}}, nil); err != nil {
		t.Fatal(err)
	}
	rng := NewRNG(5)
	x := tensor.New(64, 2)
	y := tensor.New(64, 2)
	call := &Call{Train: true}
	for range 200 {
		for i := range 64 {
			x.Data[2*i] = float32(3 + 2*rng.NormFloat64())
			x.Data[2*i+1] = float32(-1 + 0.5*rng.NormFloat64())
		}
		if err := bn.Forward(call, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
	}
	mm, mv := bn.MovingMean().Value.Data, bn.MovingVariance().Value.Data
	if math.Abs(float64(mm[0])-3) > 0.3 || math.Abs(float64(mm[1])+1) > 0.1 ||
		math.Abs(float64(mv[0])-4) > 0.8 || math.Abs(float64(mv[1])-0.25) > 0.05 {
		t.Fatalf("moving mean %v variance %v, want about (3, -1) and (4, 0.25)", mm, mv)
	}
}

// A large common offset does not destroy the batch variance.
func TestBatchNormLargeMean(t *testing.T) {
	bn := NewBatchNorm(0, 1e-6)
	x := tensor.New(1000, 1)
	rng := NewRNG(2)
	for i := range x.Data {
		x.Data[i] = float32(1e4 + rng.NormFloat64())
	}
	y := evalOp(t, bn, &Call{Train: true}, x)
	var s, s2 float64
	for _, v := range y[0].Data {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean, vr := s/1000, s2/1000-(s/1000)*(s/1000)
	if math.Abs(mean) > 1e-3 || math.Abs(vr-1) > 1e-3 {
		t.Errorf("normalised output has mean %v variance %v, want 0 and 1", mean, vr)
	}
}

func TestBatchNormFrozen(t *testing.T) {
	rng := NewRNG(9)
	x := randNormal(rng, 4, 3, 3, 5)
	build := func(frozen bool) *BatchNorm {
		bn := NewBatchNorm(0.9, 1e-3)
		bn.Frozen = frozen
		if err := (bnWithStats{BatchNorm: bn}).Build([][]int{x.Shape}, NewRNG(1)); err != nil {
			t.Fatal(err)
		}
		return bn
	}
	frozen, ref := build(true), build(false)
	mm0 := append([]float32(nil), frozen.MovingMean().Value.Data...)
	yf := evalOp(t, frozen, &Call{Train: true}, x)
	yi := evalOp(t, ref, &Call{Train: false}, x)
	relClose(t, "frozen training output vs inference", yf[0].Data, yi[0].Data, 0)
	relClose(t, "frozen moving mean", frozen.MovingMean().Value.Data, mm0, 0)
	yt := evalOp(t, ref, &Call{Train: true}, x)
	if yt[0].Data[0] == yi[0].Data[0] {
		t.Error("unfrozen training output equals inference output")
	}
	var buf strings.Builder
	b, _ := json.Marshal(frozen)
	buf.Write(b)
	if !strings.Contains(buf.String(), `"frozen":true`) {
		t.Errorf("JSON %s lacks frozen", b)
	}
}

func TestBatchNormJSON(t *testing.T) {
	b, err := json.Marshal(NewBatchNorm(0.9, 1e-5))
	if err != nil || string(b) != `{"momentum":0.9,"epsilon":0.00001}` {
		t.Errorf("JSON %s %v: want only momentum and epsilon (frozen omitted)", b, err)
	}
	// A version-1 model file's config.
	op, err := newOp("BatchNormalization", json.RawMessage(`{"momentum":0.95,"epsilon":0.002}`))
	if err != nil {
		t.Fatal(err)
	}
	bn := op.(*BatchNorm)
	if bn.Momentum != 0.95 || bn.Epsilon != 0.002 || bn.Frozen {
		t.Errorf("decoded %+v", bn)
	}
}

// Optimize folds a batch norm into the dense layer before it; the result
// matches the graph with the batch norm at inference.
func TestBatchNormFoldsIntoDense(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 6)
	h := g.Apply(NewBatchNorm(0, 0), g.Apply(NewDense(5), x))
	g.Output(g.Apply(NewReLU(), h))
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	bn := g.Nodes()[2].Op.(*BatchNorm)
	if err := (bnWithStats{BatchNorm: bn}).Build([][]int{{-1, 5}}, NewRNG(4)); err != nil {
		t.Fatal(err)
	}
	in := randNormal(NewRNG(5), 7, 6)
	want, err := g.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	opt, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(opt.Nodes()); n != 2 {
		t.Errorf("optimised graph has %d nodes, want input and dense (batch norm and ReLU folded)", n)
	}
	got, err := opt.NewSession().Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	relClose(t, "folded", got[0].Data, want.Data, 1e-5)
}

// BenchmarkBatchNorm is one training step (Forward + Backward) on a
// (32, 16, 16, 32) NHWC batch; bench/training compares it with PyTorch.
func BenchmarkBatchNorm(b *testing.B) {
	benchOp(b, NewBatchNorm(0, 0), true, 32, 16, 16, 32)
}

// BenchmarkBatchNormInference is Forward at inference on the same batch.
func BenchmarkBatchNormInference(b *testing.B) {
	benchOp(b, NewBatchNorm(0, 0), false, 32, 16, 16, 32)
}

// benchOp times Forward (and Backward when train) of a one-input op.
func benchOp(b *testing.B, op Op, train bool, shape ...int) {
	x := randNormal(NewRNG(1), shape...)
	outShapes, err := op.Shapes([][]int{shape})
	if err != nil {
		b.Fatal(err)
	}
	if err := op.Build([][]int{shape}, NewRNG(1)); err != nil {
		b.Fatal(err)
	}
	y, dx := tensor.New(outShapes[0]...), tensor.New(shape...)
	dy := randNormal(NewRNG(2), outShapes[0]...)
	call := &Call{Train: train}
	in, out := []*tensor.Tensor{x}, []*tensor.Tensor{y}
	b.SetBytes(int64(4 * len(x.Data)))
	for b.Loop() {
		if err := op.Forward(call, in, out); err != nil {
			b.Fatal(err)
		}
		if train {
			if err := op.Backward(call, in, out, []*tensor.Tensor{dy}, []*tensor.Tensor{dx}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// A version-1 model file written by the old release (Dense, BatchNorm with
// trained moving statistics, ReLU, Dense, Softmax) loads and predicts
// what the old release predicted.
func TestBatchNormLoadsV1File(t *testing.T) {
	m, _, err := LoadFile(filepath.Join("testdata", "v1_batchnorm.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	bn, ok := m.Graph().Nodes()[2].Op.(*BatchNorm)
	if !ok || bn.Momentum != 0.9 || bn.Epsilon != 1e-3 || bn.MovingMean().Value.Data[0] == 0 {
		t.Fatalf("node 2 is %#v", m.Graph().Nodes()[2].Op)
	}
	x := tensor.New(6, 4)
	for i := range x.Data {
		x.Data[i] = float32(i%7)*0.5 - 1.2
	}
	y, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	// Printed by the old release after saving the file.
	want := []float32{0.37318352, 0.21854559, 0.40827084, 0.3278978, 0.33403936, 0.33806288,
		0.24730697, 0.30559003, 0.447103, 0.043204818, 0.8459066, 0.11088851,
		0.20314519, 0.3122278, 0.48462704, 0.2339181, 0.3703166, 0.39576533}
	relClose(t, "v1 predictions", y.Data, want, 1e-5)
}

// A batch norm with a fused activation: the gradient checks of
// TestBatchNormGrad with smooth activations (a perturbation of one input
// moves the statistics, so every output, and some would cross a ReLU's
// kink; the kinked ones are compared with the separate ops in
// TestBatchNormFusedMatchesSeparate).
func TestBatchNormFusedActGrad(t *testing.T) {
	for _, kind := range []string{"sigmoid", "tanh"} {
		bn := func() *BatchNorm {
			b := NewBatchNorm(0, 0)
			b.Act = Act{Kind: kind}
			return b
		}
		for _, training := range []bool{true, false} {
			o := gradOpts{Training: training, Seed: 11}
			gradCheckOp(t, bnWithStats{BatchNorm: bn()}, [][]int{{3, 7, 5}}, o)
			gradCheckOp(t, bnWithStats{BatchNorm: bn()}, [][]int{{2, 3, 3, 13}}, o)
			frozen := bn()
			frozen.Frozen = true
			gradCheckOp(t, bnWithStats{BatchNorm: frozen}, [][]int{{2, 3, 3, 5}}, o)
			frozen = bn()
			frozen.Frozen = true
			gradCheckOp(t, bnWithStats{BatchNorm: frozen, frozenGamma: true}, [][]int{{2, 3, 5}}, o)
		}
	}
}

// The fused activation gives the bits of the batch norm followed by the
// activation, forward and backward, in training, at inference and frozen
// (with gamma frozen too), on shapes whose channels do not fill the AVX2
// blocks and that span several chunks.
func TestBatchNormFusedMatchesSeparate(t *testing.T) {
	acts := []Act{{Kind: "relu"}, {Kind: "clip", Min: 0, Max: 0.5}, {Kind: "leaky_relu", Alpha: 0.1}, {Kind: "sigmoid"}, {Kind: "tanh"}}
	modes := []struct {
		name                 string
		train, frozen, gamma bool
	}{{"training", true, false, false}, {"inference", false, false, false}, {"frozen", true, true, false}, {"frozen gamma", true, true, true}}
	for _, shape := range [][]int{{3, 7, 5, 13}, {4, 33, 33, 16}} {
		for _, act := range acts {
			for _, m := range modes {
				t.Run(fmt.Sprintf("%v/%s/%s", shape, act, m.name), func(t *testing.T) {
					run := func(fuse bool) (y, dx *tensor.Tensor, grads [][]float32) {
						bn := NewBatchNorm(0.9, 0)
						bn.Frozen = m.frozen
						if fuse {
							bn.Act = act
						}
						op := bnWithStats{BatchNorm: bn, frozenGamma: m.gamma}
						if err := op.Build([][]int{shape}, NewRNG(1)); err != nil {
							t.Fatal(err)
						}
						rng := NewRNG(2)
						x, dy := tensor.New(shape...), tensor.New(shape...)
						for i := range x.Data {
							x.Data[i] = float32(rng.NormFloat64())
							dy.Data[i] = float32(rng.NormFloat64())
						}
						call := &Call{Train: m.train}
						y = tensor.New(shape...)
						if err := op.Forward(call, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
							t.Fatal(err)
						}
						g := dy
						if !fuse {
							act.Apply(y.Data)
							g = tensor.New(shape...)
							act.GradFromOutput(g.Data, dy.Data, y.Data)
						}
						dx = tensor.New(shape...)
						ZeroGrads(op.Params())
						if err := op.Backward(call, []*tensor.Tensor{x}, []*tensor.Tensor{y}, []*tensor.Tensor{g}, []*tensor.Tensor{dx}); err != nil {
							t.Fatal(err)
						}
						for _, p := range op.Params() {
							if p.Grad != nil {
								grads = append(grads, p.Grad.Data)
							}
						}
						return y, dx, grads
					}
					y1, dx1, g1 := run(false)
					y2, dx2, g2 := run(true)
					same := func(what string, a, b []float32) {
						for i := range a {
							if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
								t.Fatalf("%s[%d]: fused %v, separate %v", what, i, b[i], a[i])
							}
						}
					}
					same("y", y1.Data, y2.Data)
					same("dx", dx1.Data, dx2.Data)
					if len(g1) != len(g2) {
						t.Fatalf("%d and %d param gradients", len(g1), len(g2))
					}
					for i := range g1 {
						same("param gradient", g1[i], g2[i])
					}
				})
			}
		}
	}
}

// FuseActivations moves an activation after a batch norm into it for
// training; Optimize still folds the batch norm into the convolution
// before it and fuses the activation there.
func TestBatchNormActFusion(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 6, 5, 3)
	c := NewConv2D(4, 3, 1, Same)
	h := g.Apply(NewReLU(), g.Apply(NewBatchNorm(0, 0), g.Apply(c, x)))
	g.Output(g.Apply(NewTanh(), g.Apply(NewBatchNorm(0, 0), g.Apply(NewDense(3), g.Apply(NewFlatten(), h)))))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	fused, err := FuseActivations(g)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range fused.Nodes() {
		kinds = append(kinds, n.Op.Kind())
		if b, ok := n.Op.(*BatchNorm); ok && b.Act.Kind != "relu" && b.Act.Kind != "tanh" {
			t.Errorf("batch norm %q fused %q", n.Name, b.Act)
		}
		if _, ok := n.Op.(ActOp); ok {
			t.Errorf("activation %q left unfused", n.Name)
		}
	}
	x0 := convRand(NewRNG(3), 2, 6, 5, 3)
	dy := convRand(NewRNG(4), 2, 3)
	checkFusedExact(t, g, fused, x0, dy, fmt.Sprintf(" (graph %v)", kinds))
}

// A batch norm with a fused residual (and activation): gradient checks on
// both inputs, with smooth activations (see TestBatchNormFusedActGrad).
func TestBatchNormResidualGrad(t *testing.T) {
	for _, kind := range []string{"", "sigmoid"} {
		bn := func(frozen bool) *BatchNorm {
			b := NewBatchNorm(0, 0)
			b.Act, b.Residual, b.Frozen = Act{Kind: kind}, true, frozen
			return b
		}
		for _, training := range []bool{true, false} {
			o := gradOpts{Training: training, Seed: 12}
			gradCheckOp(t, bnWithStats{BatchNorm: bn(false)}, [][]int{{3, 7, 5}, {3, 7, 5}}, o)
			gradCheckOp(t, bnWithStats{BatchNorm: bn(false)}, [][]int{{2, 3, 3, 13}, {2, 3, 3, 13}}, o)
			gradCheckOp(t, bnWithStats{BatchNorm: bn(true)}, [][]int{{2, 3, 3, 5}, {2, 3, 3, 5}}, o)
			gradCheckOp(t, bnWithStats{BatchNorm: bn(true), frozenGamma: true}, [][]int{{2, 3, 5}, {2, 3, 5}}, o)
		}
	}
}

// The fused residual gives the bits of the batch norm followed by an Add
// and the activation, forward and backward (both inputs' gradients), in
// every mode, on shapes whose channels do not fill the AVX2 blocks and
// that span several chunks; and the residual's gradient alone.
func TestBatchNormResidualMatchesSeparate(t *testing.T) {
	acts := []Act{{}, {Kind: "relu"}, {Kind: "tanh"}}
	modes := []struct {
		name                 string
		train, frozen, gamma bool
	}{{"training", true, false, false}, {"inference", false, false, false}, {"frozen", true, true, false}, {"frozen gamma", true, true, true}}
	for _, shape := range [][]int{{3, 7, 5, 13}, {4, 33, 33, 16}} {
		for _, act := range acts {
			for _, m := range modes {
				t.Run(fmt.Sprintf("%v/%s/%s", shape, act, m.name), func(t *testing.T) {
					rng := NewRNG(2)
					x, r, dy := tensor.New(shape...), tensor.New(shape...), tensor.New(shape...)
					for i := range x.Data {
						x.Data[i] = float32(rng.NormFloat64())
						r.Data[i] = float32(rng.NormFloat64())
						dy.Data[i] = float32(rng.NormFloat64())
					}
					// run returns y, dx, dr and the param gradients; only
					// dr is asked for when onlyRes.
					run := func(fuse, onlyRes bool) (y, dx, dr *tensor.Tensor, grads [][]float32) {
						bn := NewBatchNorm(0.9, 0)
						bn.Frozen = m.frozen
						if fuse {
							bn.Act, bn.Residual = act, true
						}
						op := bnWithStats{BatchNorm: bn, frozenGamma: m.gamma}
						if err := op.Build([][]int{shape}, NewRNG(1)); err != nil {
							t.Fatal(err)
						}
						call := &Call{Train: m.train}
						y = tensor.New(shape...)
						in := []*tensor.Tensor{x}
						if fuse {
							in = append(in, r)
						}
						if err := op.Forward(call, in, []*tensor.Tensor{y}); err != nil {
							t.Fatal(err)
						}
						g := dy
						if !fuse {
							for i, v := range r.Data {
								y.Data[i] += v
							}
							if act.Kind != "" {
								act.Apply(y.Data)
								g = tensor.New(shape...)
								act.GradFromOutput(g.Data, dy.Data, y.Data)
							}
							dr = g.Clone()
						} else {
							dr = tensor.New(shape...)
						}
						dx = tensor.New(shape...)
						din := []*tensor.Tensor{dx}
						if onlyRes {
							din[0] = nil
							for _, p := range op.Params() {
								p.Grad = nil
							}
						}
						if fuse {
							din = append(din, dr)
						}
						ZeroGrads(op.Params())
						if err := op.Backward(call, in, []*tensor.Tensor{y}, []*tensor.Tensor{g}, din); err != nil {
							t.Fatal(err)
						}
						for _, p := range op.Params() {
							if p.Grad != nil {
								grads = append(grads, p.Grad.Data)
							}
						}
						return y, dx, dr, grads
					}
					same := func(what string, a, b []float32) {
						for i := range a {
							if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
								t.Fatalf("%s[%d]: fused %v, separate %v", what, i, b[i], a[i])
							}
						}
					}
					y1, dx1, dr1, g1 := run(false, false)
					y2, dx2, dr2, g2 := run(true, false)
					same("y", y1.Data, y2.Data)
					same("dx", dx1.Data, dx2.Data)
					same("d residual", dr1.Data, dr2.Data)
					if len(g1) != len(g2) {
						t.Fatalf("%d and %d param gradients", len(g1), len(g2))
					}
					for i := range g1 {
						same("param gradient", g1[i], g2[i])
					}
					_, _, dr3, _ := run(true, true)
					same("d residual alone", dr1.Data, dr3.Data)
				})
			}
		}
	}
}

// FuseActivations fuses a ResNet basic block's bn -> add -> relu, identity
// and projection shortcuts alike, into one batch norm; outputs and
// gradients are those of the graph as built.
func TestBatchNormResidualFusion(t *testing.T) {
	g := NewGraph()
	x := g.Input("x", 6, 5, 8)
	convBN := func(v *Value, f, k, s int) *Value {
		return g.Apply(NewBatchNorm(0, 0), g.Apply(NewConv2D(f, k, s, Same), v))
	}
	block := func(v *Value, f, s int) *Value {
		h := convBN(g.Apply(NewReLU(), convBN(v, f, 3, s)), f, 3, 1)
		short := v
		if s != 1 || v.Shape()[3] != f {
			short = convBN(v, f, 1, s)
		}
		return g.Apply(NewReLU(), g.Add(h, short))
	}
	h := block(block(x, 8, 1), 12, 2)
	g.Output(g.Apply(NewDense(3), g.Apply(NewGlobalAveragePool(), h)))
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	fused, err := FuseActivations(g)
	if err != nil {
		t.Fatal(err)
	}
	residual := 0
	for _, n := range fused.Nodes() {
		switch op := n.Op.(type) {
		case *Add, *ReLU:
			t.Errorf("%s %q left unfused", op.Kind(), n.Name)
		case *BatchNorm:
			if op.Residual {
				residual++
				if op.Act.Kind != "relu" {
					t.Errorf("batch norm %q: residual with activation %q", n.Name, op.Act)
				}
			}
		}
	}
	if residual != 2 {
		t.Errorf("%d batch norms took a residual, want 2", residual)
	}
	x0 := convRand(NewRNG(3), 2, 6, 5, 8)
	dy := convRand(NewRNG(4), 2, 3)
	checkFusedExact(t, g, fused, x0, dy, "")
}

// checkFusedExact checks that fused computes exactly what g computes
// (output, input gradient, every parameter gradient) and that at
// inference every batch norm of g folds into the layer before it;
// context is added to the latter's error.
func checkFusedExact(t *testing.T, g, fused *Graph, x, dy *tensor.Tensor, context string) {
	t.Helper()
	y1, dx1, g1 := runGrads(t, g, x, dy)
	y2, dx2, g2 := runGrads(t, fused, x, dy)
	convClose(t, "y", y2.Data, y1.Data, 0)
	convClose(t, "dx", dx2.Data, dx1.Data, 0)
	for p, v := range g1 {
		convClose(t, p.Name, g2[p], v, 0)
	}
	opt, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range opt.Nodes() {
		if _, ok := n.Op.(*BatchNorm); ok {
			t.Errorf("Optimize left batch norm %q%s", n.Name, context)
		}
	}
}

// A file written when the default momentum was Keras' 0.99 stores it, and
// loads (and trains on) with 0.99, not today's default.
func TestBatchNormKeepsStoredMomentum(t *testing.T) {
	m := NewSequential(NewDense(3), NewBatchNorm(0.99, 0))
	if err := m.Build([]int{4}, 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.safetensors")
	if err := SaveFile(path, m, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bn := got.Graph().Nodes()[2].Op.(*BatchNorm); bn.Momentum != 0.99 {
		t.Errorf("loaded momentum %v, want the stored 0.99", bn.Momentum)
	}
}
