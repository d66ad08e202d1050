package nn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
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
			if _, err := bn.Build(fx.Shape[1:], nil); err != nil {
				t.Fatal(err)
			}
			p := bn.Params()
			copy(p[0].Value.Data, fx.Gamma)
			copy(p[1].Value.Data, fx.Beta)
			copy(p[2].Value.Data, fx.MovingMean0)
			copy(p[3].Value.Data, fx.MovingVar0)
			ref := fx.Eval
			if training {
				ref = fx.Train
			}
			y, err := bn.Forward(fixtureTensor(t, fx.X, fx.Shape...), training)
			if err != nil {
				t.Fatal(err)
			}
			what := name
			if training {
				what += " train "
			} else {
				what += " eval "
			}
			relClose(t, what+"y", y.Data, ref.Y, 1e-4)
			dx, err := bn.Backward(fixtureTensor(t, fx.DY, fx.Shape...))
			if err != nil {
				t.Fatal(err)
			}
			relClose(t, what+"dx", dx.Data, ref.DX, 1e-4)
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

func TestBatchNormGrad(t *testing.T) {
	for _, training := range []bool{true, false} {
		gradCheck(t, NewBatchNorm(0, 0), []int{3, 2, 2, 3}, gradOpts{Training: training, Eps: 1e-2, Tol: 2e-2})
		gradCheck(t, NewBatchNorm(0.9, 1e-5), []int{6, 4}, gradOpts{Training: training, Eps: 1e-2, Tol: 2e-2, Seed: 3})
	}
}

func TestBatchNormDefaultsAndErrors(t *testing.T) {
	bn := NewBatchNorm(0, 0)
	if bn.Momentum != 0.99 || bn.Epsilon != 1e-3 {
		t.Fatalf("defaults %v %v, want Keras' 0.99 1e-3", bn.Momentum, bn.Epsilon)
	}
	if _, err := bn.Forward(tensor.New(2, 3), true); err == nil {
		t.Error("Forward before Build did not fail")
	}
	if _, err := bn.Build([]int{4, 4, 3}, nil); err != nil {
		t.Fatal(err)
	}
	p := bn.Params()
	if len(p) != 4 || !p[0].Trainable || !p[1].Trainable || p[2].Trainable || p[3].Trainable || p[2].Grad != nil {
		t.Fatalf("params %v: want trainable gamma, beta and state moving_mean, moving_variance", p)
	}
	if p[0].Value.Data[0] != 1 || p[1].Value.Data[0] != 0 || p[2].Value.Data[0] != 0 || p[3].Value.Data[0] != 1 {
		t.Error("initial gamma, beta, moving stats are not 1, 0, 0, 1")
	}
	if _, err := bn.Forward(tensor.New(2, 4, 4, 5), true); err == nil {
		t.Error("wrong channel count accepted")
	}
	if _, err := NewBatchNorm(1.5, 0).Build([]int{3}, nil); err == nil {
		t.Error("momentum 1.5 accepted")
	}
	if _, err := NewBatchNorm(0, -1).Build([]int{3}, nil); err == nil {
		t.Error("negative epsilon accepted")
	}
}

// Inference after many training steps on a fixed distribution normalises
// with the learnt moving statistics.
func TestBatchNormMovingStats(t *testing.T) {
	bn := NewBatchNorm(0.9, 1e-3)
	if _, err := bn.Build([]int{2}, nil); err != nil {
		t.Fatal(err)
	}
	rng := NewRNG(5)
	x := tensor.New(64, 2)
	for range 200 {
		for i := range 64 {
			x.Data[2*i] = float32(3 + 2*rng.NormFloat64())
			x.Data[2*i+1] = float32(-1 + 0.5*rng.NormFloat64())
		}
		if _, err := bn.Forward(x, true); err != nil {
			t.Fatal(err)
		}
	}
	mm, mv := bn.Params()[2].Value.Data, bn.Params()[3].Value.Data
	if math.Abs(float64(mm[0])-3) > 0.3 || math.Abs(float64(mm[1])+1) > 0.1 ||
		math.Abs(float64(mv[0])-4) > 0.8 || math.Abs(float64(mv[1])-0.25) > 0.05 {
		t.Fatalf("moving mean %v variance %v, want about (3, -1) and (4, 0.25)", mm, mv)
	}
}

func TestBatchNormNoAllocs(t *testing.T) {
	bn := NewBatchNorm(0, 0)
	x := randTensor(NewRNG(1), 8, 5, 5, 6)
	if _, err := bn.Build(x.Shape[1:], nil); err != nil {
		t.Fatal(err)
	}
	for _, training := range []bool{true, false} {
		allocs := testing.AllocsPerRun(5, func() {
			y, _ := bn.Forward(x, training)
			bn.Backward(y)
		})
		if allocs != 0 {
			t.Errorf("training=%v: %v allocations per step, want 0", training, allocs)
		}
	}
}

// BenchmarkBatchNorm is one training step (Forward + Backward) on a
// (32, 16, 16, 32) NHWC batch; bench/training compares it with PyTorch.
func BenchmarkBatchNorm(b *testing.B) {
	bn := NewBatchNorm(0, 0)
	x := randTensor(NewRNG(1), 32, 16, 16, 32)
	if _, err := bn.Build(x.Shape[1:], nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(x.Data)))
	for b.Loop() {
		y, _ := bn.Forward(x, true)
		bn.Backward(y)
	}
}
