package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// lnRandomAffine is a LayerNorm whose Build draws gamma and beta, so that
// gradient checks see them.
type lnRandomAffine struct{ *LayerNorm }

func (l lnRandomAffine) Build(in [][]int, rng *rand.Rand) error {
	if err := l.LayerNorm.Build(in, rng); err != nil {
		return err
	}
	for _, p := range l.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(rng.NormFloat64())
		}
	}
	return nil
}

func TestLayerNormGrad(t *testing.T) {
	for i, c := range []struct {
		axes  int
		shape []int
	}{
		{1, []int{4, 7}},
		{1, []int{2, 3, 5}},
		{2, []int{3, 1, 5}},
		{3, []int{2, 3, 4, 5}},
		{1, []int{3, 1}}, // one feature: x-hat is 0
		{1, []int{300, 3}},
	} {
		ln := NewLayerNorm(1e-5)
		ln.Axes = c.axes
		gradCheckOp(t, lnRandomAffine{ln}, [][]int{c.shape}, gradOpts{Seed: uint64(i), Eps: 1e-3, Tol: 1e-2})
	}
}

func TestLayerNormValues(t *testing.T) {
	// Every row has mean 0 and variance 1 with gamma 1 and beta 0, however
	// large its offset.
	ln := NewLayerNorm(1e-6)
	x := tensor.New(3, 50)
	rng := NewRNG(4)
	for i := range x.Data {
		x.Data[i] = float32(float64(i/50)*1e3 + rng.NormFloat64()*2)
	}
	y := evalOp(t, ln, &Call{}, x)[0]
	for r := range 3 {
		var s, s2 float64
		for _, v := range y.Data[r*50 : (r+1)*50] {
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		if m, v := s/50, s2/50-(s/50)*(s/50); math.Abs(m) > 1e-4 || math.Abs(v-1) > 1e-3 {
			t.Errorf("row %d: mean %v variance %v, want 0 and 1", r, m, v)
		}
	}
}

func TestLayerNormErrorsAndJSON(t *testing.T) {
	if ln := NewLayerNorm(0); ln.Epsilon != 1e-3 || ln.axes() != 1 {
		t.Errorf("defaults: %+v", ln)
	}
	shapeErr(t, &LayerNorm{Epsilon: -1}, [][]int{{2, 3}}, "epsilon -1")
	shapeErr(t, &LayerNorm{Epsilon: 1e-5, Axes: -1}, [][]int{{2, 3}}, "axes -1")
	shapeErr(t, &LayerNorm{Epsilon: 1e-5, Axes: 2}, [][]int{{2, 3}}, "(2, 3)", "fewer than 2 axes")
	shapeErr(t, NewLayerNorm(0), [][]int{{2, 3}, {2, 3}}, "1 input")
	ln := NewLayerNorm(0)
	if err := ln.Build([][]int{{-1, 4, 6}}, nil); err != nil {
		t.Fatal(err)
	}
	shapeErr(t, ln, [][]int{{2, 4, 5}}, "(2, 4, 5)", "built for", "(6,)")
	if err := NewLayerNorm(0).Build([][]int{{-1, -1}}, nil); err == nil || !strings.Contains(err.Error(), "(?, ?)") {
		t.Errorf("unknown axes at build: %v", err)
	}
	err := ln.Backward(&Call{}, []*tensor.Tensor{tensor.New(2, 4, 6)}, nil, []*tensor.Tensor{tensor.New(2, 4, 6)}, []*tensor.Tensor{tensor.New(2, 4, 6)})
	if err == nil || !strings.Contains(err.Error(), "before Forward") {
		t.Errorf("Backward before Forward: %v", err)
	}
	b, _ := json.Marshal(&LayerNorm{Epsilon: 1e-5, Axes: 3})
	if string(b) != `{"axes":3,"epsilon":0.00001}` {
		t.Errorf("JSON %s", b)
	}
	op, err := newOp("LayerNormalization", b)
	if err != nil || op.(*LayerNorm).Axes != 3 || op.(*LayerNorm).Epsilon != 1e-5 {
		t.Errorf("reloaded %v %v", op, err)
	}
	if b, _ := json.Marshal(NewLayerNorm(0)); string(b) != `{"epsilon":0.001}` {
		t.Errorf("default JSON %s", b)
	}
	if names := []string{ln.Params()[0].Name, ln.Params()[1].Name}; names[0] != "gamma" || names[1] != "beta" {
		t.Errorf("param names %v", names)
	}
}

// BenchmarkLayerNorm is Forward + Backward over (32, 64, 128): 64 tokens of
// 128 features per sample.
func BenchmarkLayerNorm(b *testing.B) { benchOp(b, NewLayerNorm(1e-5), true, 32, 64, 128) }

// BenchmarkLayerNormInference is Forward alone.
func BenchmarkLayerNormInference(b *testing.B) { benchOp(b, NewLayerNorm(1e-5), false, 32, 64, 128) }
