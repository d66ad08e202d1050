package nn

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// normFixtures mirrors testdata/torch_norm.json.gz, written by
// testdata/gen_torch_norm.py (already in dlcv's layouts).
type normFixtures struct {
	Torch     string `json:"torch"`
	BatchNorm []struct {
		bnFixture
		Name string `json:"name"`
	} `json:"batchnorm"`
	LayerNorm []struct {
		Name               string
		Shape              []int
		Axes               int
		Epsilon            float32
		X, Gamma, Beta, DY []float32
		Y, DX              []float32
		DGamma             []float32 `json:"dgamma"`
		DBeta              []float32 `json:"dbeta"`
	} `json:"layernorm"`
	ActShape    []int     `json:"act_shape"`
	ActX        []float32 `json:"act_x"`
	ActDY       []float32 `json:"act_dy"`
	Activations []struct {
		Name, Kind  string
		Alpha       float32
		Beta        float32
		Min, Max    float32
		Approximate string
		Shared      bool
		Alphas      []float32 `json:"-"`
		Y, DX       []float32
		DAlpha      []float32       `json:"dalpha"`
		RawAlpha    json.RawMessage `json:"alpha"`
	} `json:"activations"`
	Softmax []struct {
		Name  string
		Shape []int
		Axis  int
		X, DY []float32
		Y, DX []float32
	} `json:"softmax"`
	MatMul []mmFixture `json:"matmul"`
	Gemm   []mmFixture `json:"gemm"`
}

type mmFixture struct {
	Name           string
	TransA         bool `json:"trans_a"`
	TransB         bool `json:"trans_b"`
	Alpha, Beta    float32
	AShape         []int `json:"a_shape"`
	BShape         []int `json:"b_shape"`
	CShape         []int `json:"c_shape"`
	YShape         []int `json:"y_shape"`
	A, B, C, DY, Y []float32
	DA             []float32 `json:"da"`
	DB             []float32 `json:"db"`
	DC             []float32 `json:"dc"`
}

func loadNormFixtures(t *testing.T) *normFixtures {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "torch_norm.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var fx normFixtures
	if err := json.NewDecoder(zr).Decode(&fx); err != nil {
		t.Fatalf("torch_norm.json.gz: %v", err)
	}
	for i := range fx.Activations {
		a := &fx.Activations[i]
		// alpha is a number for the activations' settings and a list of
		// slopes for PReLU.
		if len(a.RawAlpha) > 0 && a.RawAlpha[0] == '[' {
			if err := json.Unmarshal(a.RawAlpha, &a.Alphas); err != nil {
				t.Fatal(err)
			}
		} else if len(a.RawAlpha) > 0 {
			if err := json.Unmarshal(a.RawAlpha, &a.Alpha); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &fx
}

// torchTol is the relative tolerance against PyTorch (float64 references
// of float32 inputs).
const torchTol = 1e-4

func TestBatchNormTorchCases(t *testing.T) {
	for _, fx := range loadNormFixtures(t).BatchNorm {
		for _, training := range []bool{true, false} {
			bn := NewBatchNorm(fx.Momentum, fx.Epsilon)
			x := fixtureTensor(t, fx.X, fx.Shape...)
			if err := bn.Build([][]int{fx.Shape}, nil); err != nil {
				t.Fatal(err)
			}
			copy(bn.Gamma().Value.Data, fx.Gamma)
			copy(bn.Beta().Value.Data, fx.Beta)
			copy(bn.MovingMean().Value.Data, fx.MovingMean0)
			copy(bn.MovingVariance().Value.Data, fx.MovingVar0)
			ref, what := fx.Eval, fx.Name+" eval "
			if training {
				ref, what = fx.Train, fx.Name+" train "
			}
			call := &Call{Train: training}
			y := evalOp(t, bn, call, x)
			relClose(t, what+"y", y[0].Data, ref.Y, torchTol)
			dx := evalOpGrad(t, bn, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, fx.DY, fx.Shape...)})
			relClose(t, what+"dx", dx[0].Data, ref.DX, torchTol)
			relClose(t, what+"dgamma", bn.Gamma().Grad.Data, ref.DGamma, torchTol)
			relClose(t, what+"dbeta", bn.Beta().Grad.Data, ref.DBeta, torchTol)
			if training {
				relClose(t, what+"moving_mean", bn.MovingMean().Value.Data, ref.MovingMean, torchTol)
				relClose(t, what+"moving_variance", bn.MovingVariance().Value.Data, ref.MovingVar, torchTol)
			}
		}
	}
}

func TestLayerNormTorch(t *testing.T) {
	for _, fx := range loadNormFixtures(t).LayerNorm {
		for _, training := range []bool{true, false} {
			ln := NewLayerNorm(fx.Epsilon)
			ln.Axes = fx.Axes
			x := fixtureTensor(t, fx.X, fx.Shape...)
			if err := ln.Build([][]int{fx.Shape}, nil); err != nil {
				t.Fatal(err)
			}
			copy(ln.Gamma().Value.Data, fx.Gamma)
			copy(ln.Beta().Value.Data, fx.Beta)
			call := &Call{Train: training}
			y := evalOp(t, ln, call, x)
			relClose(t, fx.Name+" y", y[0].Data, fx.Y, torchTol)
			dx := evalOpGrad(t, ln, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, fx.DY, fx.Shape...)})
			relClose(t, fx.Name+" dx", dx[0].Data, fx.DX, torchTol)
			relClose(t, fx.Name+" dgamma", ln.Gamma().Grad.Data, fx.DGamma, torchTol)
			relClose(t, fx.Name+" dbeta", ln.Beta().Grad.Data, fx.DBeta, torchTol)
		}
	}
}

func TestActivationsTorch(t *testing.T) {
	fx := loadNormFixtures(t)
	for _, c := range fx.Activations {
		t.Run(c.Name, func(t *testing.T) {
			var op Op
			switch c.Kind {
			case "relu":
				op = NewReLU()
			case "relu6":
				op = NewReLU6()
			case "clip":
				op = NewClip(c.Min, c.Max)
			case "leaky_relu":
				op = NewLeakyReLU(c.Alpha)
			case "elu":
				op = NewELU(c.Alpha)
			case "sigmoid":
				op = NewSigmoid()
			case "tanh":
				op = NewTanh()
			case "hard_sigmoid":
				op = &HardSigmoid{Alpha: c.Alpha, Beta: c.Beta}
			case "hard_swish":
				op = NewHardSwish()
			case "silu":
				op = NewSiLU()
			case "gelu":
				op = NewGELU(c.Approximate)
			case "prelu":
				p := NewPReLU(c.Shared)
				if err := p.Build([][]int{fx.ActShape}, nil); err != nil {
					t.Fatal(err)
				}
				copy(p.Alpha().Value.Data, c.Alphas)
				op = p
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			x := fixtureTensor(t, fx.ActX, fx.ActShape...)
			call := &Call{Train: true}
			y := evalOp(t, op, call, x)
			relClose(t, "y", y[0].Data, c.Y, torchTol)
			dx := evalOpGrad(t, op, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, fx.ActDY, fx.ActShape...)})
			relClose(t, "dx", dx[0].Data, c.DX, torchTol)
			if c.Kind == "prelu" {
				relClose(t, "dalpha", op.Params()[0].Grad.Data, c.DAlpha, torchTol)
			}
			// The fused form (what a convolution's epilogue applies) gives
			// the same values.
			if ao, ok := op.(ActOp); ok {
				a, _ := ao.FusedAct()
				v := append([]float32(nil), fx.ActX...)
				a.Apply(v)
				relClose(t, "fused "+a.String(), v, c.Y, torchTol)
			}
		})
	}
}

func TestSoftmaxTorch(t *testing.T) {
	for _, c := range loadNormFixtures(t).Softmax {
		s := &Softmax{Axis: c.Axis}
		x := fixtureTensor(t, c.X, c.Shape...)
		call := &Call{Train: true}
		y := evalOp(t, s, call, x)
		relClose(t, c.Name+" y", y[0].Data, c.Y, torchTol)
		dx := evalOpGrad(t, s, call, []*tensor.Tensor{x}, y, []*tensor.Tensor{fixtureTensor(t, c.DY, c.Shape...)})
		relClose(t, c.Name+" dx", dx[0].Data, c.DX, torchTol)
	}
}

func TestMatMulTorch(t *testing.T) {
	fx := loadNormFixtures(t)
	for _, c := range append(fx.MatMul, fx.Gemm...) {
		t.Run(c.Name, func(t *testing.T) {
			var op Op
			xs := []*tensor.Tensor{fixtureTensor(t, c.A, c.AShape...), fixtureTensor(t, c.B, c.BShape...)}
			if c.Alpha == 0 { // a MatMul case
				op = &MatMul{TransA: c.TransA, TransB: c.TransB}
			} else {
				op = &Gemm{Alpha: c.Alpha, Beta: c.Beta, TransA: c.TransA, TransB: c.TransB}
				if c.CShape != nil {
					xs = append(xs, fixtureTensor(t, c.C, c.CShape...))
				}
			}
			call := &Call{Train: true}
			y := evalOp(t, op, call, xs...)
			if !tensor.EqualShape(y[0].Shape, c.YShape) {
				t.Fatalf("output shape %v, PyTorch %v", y[0].Shape, c.YShape)
			}
			relClose(t, "y", y[0].Data, c.Y, torchTol)
			din := evalOpGrad(t, op, call, xs, y, []*tensor.Tensor{fixtureTensor(t, c.DY, c.YShape...)})
			relClose(t, "da", din[0].Data, c.DA, torchTol)
			relClose(t, "db", din[1].Data, c.DB, torchTol)
			if len(din) == 3 {
				relClose(t, "dc", din[2].Data, c.DC, torchTol)
			}
		})
	}
}
