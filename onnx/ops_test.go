package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/tensor"
)

// TestOpsMatchORT runs the tiny models of testdata/ops (exported from
// PyTorch by gen_ops.py, one or a few ops each) and compares every output
// with ONNX Runtime's (gen_ops_ref.js): max |dlcv - ORT| <= 1e-4 * max
// |ORT|. Models exported with dynamic axes are also run on a batch of
// one, which must give the first sample's results.
func TestOpsMatchORT(t *testing.T) {
	dirs, err := filepath.Glob("testdata/ops/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no op fixtures (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := Load(filepath.Join(dir, "model.onnx"), nil)
			if err != nil {
				t.Fatal(err)
			}
			var ins []*tensor.Tensor
			for i := range m.Inputs {
				x, err := npy.ReadFile(filepath.Join(dir, fmt.Sprintf("input_%d.npy", i)))
				if err != nil {
					t.Fatal(err)
				}
				ins = append(ins, x)
			}
			outs, err := m.RunNCHW(ins...)
			if err != nil {
				t.Fatal(err)
			}
			for k, got := range outs {
				want, err := npy.ReadFile(filepath.Join(dir, fmt.Sprintf("ort_output_%d.npy", k)))
				if err != nil {
					t.Fatal(err)
				}
				if r := relDiff(got, want); !(r <= 1e-4) {
					t.Errorf("output %d (%s): max |dlcv - ORT| / max |ORT| = %.3g (shapes %v, %v)", k, m.Outputs[k].Name, r, got.Shape, want.Shape)
				}
			}
			// A dynamic batch: the first sample alone.
			if len(ins) != 1 || m.Inputs[0].Shape[0] != -1 || ins[0].Shape[0] < 2 {
				return
			}
			one := &tensor.Tensor{Shape: append([]int{1}, ins[0].Shape[1:]...), Data: ins[0].Data[:len(ins[0].Data)/ins[0].Shape[0]]}
			outs1, err := m.RunNCHW(one)
			if err != nil {
				t.Fatalf("batch of one: %v", err)
			}
			for k, got := range outs1 {
				full := outs[k]
				if full.Shape[0] != ins[0].Shape[0] {
					continue
				}
				n := len(full.Data) / full.Shape[0]
				first := &tensor.Tensor{Shape: append([]int{1}, full.Shape[1:]...), Data: full.Data[:n]}
				if r := relDiff(got, first); !(r <= 1e-5) {
					t.Errorf("batch of one, output %d: differs from the first sample of the batch by %.3g", k, r)
				}
			}
			// The whole batch again, after the smaller one in RunNCHW's
			// reused input buffers: the same bits as the first run.
			outs2, err := m.RunNCHW(ins...)
			if err != nil {
				t.Fatalf("batch again: %v", err)
			}
			for k, got := range outs2 {
				if r := relDiff(got, outs[k]); r != 0 {
					t.Errorf("batch again, output %d: differs from the first run by %.3g", k, r)
				}
			}
		})
	}
}

// relDiff is max |got - want| / max |want| (0 for equal zero tensors, +Inf
// for different shapes).
func relDiff(got, want *tensor.Tensor) float64 {
	if !tensor.EqualShape(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	var d, m float64
	for i, w := range want.Data {
		g := got.Data[i]
		if math.IsNaN(float64(g)) != math.IsNaN(float64(w)) {
			return math.Inf(1)
		}
		if g == w || math.IsNaN(float64(w)) {
			continue
		}
		d = math.Max(d, math.Abs(float64(g-w)))
		m = math.Max(m, math.Abs(float64(w)))
	}
	if d == 0 {
		return 0
	}
	return d / math.Max(m, 1e-30)
}

var _ = os.Stat

// TestRunNCHWConcurrent runs one model from several goroutines: RunNCHW
// serialises the calls, and its reused input buffers must not let one
// call's input into another's results.
func TestRunNCHWConcurrent(t *testing.T) {
	dir := filepath.Join("testdata", "ops", "conv_depthwise_bn_relu6")
	m, err := Load(filepath.Join(dir, "model.onnx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := npy.ReadFile(filepath.Join(dir, "input_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// Two inputs, x and x scaled, each with its own expected outputs.
	x2 := x.Clone()
	for i := range x2.Data {
		x2.Data[i] *= -0.5
	}
	ins := []*tensor.Tensor{x, x2}
	want := make([][]*tensor.Tensor, len(ins))
	for i, in := range ins {
		if want[i], err = m.RunNCHW(in); err != nil {
			t.Fatal(err)
		}
	}
	const workers, runs = 4, 20
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for r := range runs {
				k := (w + r) % len(ins)
				got, err := m.RunNCHW(ins[k])
				if err == nil {
					for j := range got {
						if d := relDiff(got[j], want[k][j]); d != 0 {
							err = fmt.Errorf("worker %d run %d: output %d differs from the serial run by %.3g", w, r, j, d)
							break
						}
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
