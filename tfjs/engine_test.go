package tfjs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// Imported models are ordinary nn graphs: they train, optimise, save and
// load.

func tinyModel(t *testing.T, name string) (*Model, *tinyCase) {
	t.Helper()
	tf := loadTiny(t)
	for i := range tf.Cases {
		if c := &tf.Cases[i]; c.Name == name {
			m, err := Parse(name, c.Model, shardsOf(c.Shards))
			if err != nil {
				t.Fatal(err)
			}
			return m, c
		}
	}
	t.Fatalf("no tiny case %q", name)
	return nil, nil
}

// A layers model trains: the loss of a fixed batch falls under SGD.
func TestLayersModelTrains(t *testing.T) {
	m, c := tinyModel(t, "sequential_cnn")
	x := c.Inputs[0].tensor(t)
	target := tensor.New(2, 3)
	target.Data[0], target.Data[5] = 1, 1
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.05, 0.9, false)
	var first, last float64
	for step := range 30 {
		l, err := m.Graph.TrainStep(x, target, loss)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(m.Graph.Params()); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = l
		}
		last = l
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < first*0.5) {
		t.Errorf("loss %.4f -> %.4f after 30 steps, want it halved", first, last)
	}
}

// Keras' trainable: false freezes a layer's weights, and its batch norm
// runs on the moving statistics (the NSFW model was fine-tuned from block
// 11 on; the layers before are frozen).
func TestLayersFrozen(t *testing.T) {
	path := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mj struct {
		ModelTopology struct {
			ModelConfig struct {
				Config struct {
					Layers []struct {
						Name   string `json:"name"`
						Config struct {
							Trainable *bool `json:"trainable"`
						} `json:"config"`
					} `json:"layers"`
				} `json:"config"`
			} `json:"model_config"`
		} `json:"modelTopology"`
	}
	if err := json.Unmarshal(b, &mj); err != nil {
		t.Fatal(err)
	}
	frozen := 0
	for _, l := range mj.ModelTopology.ModelConfig.Config.Layers {
		n := m.Graph.NodeByName(l.Name)
		if n == nil || l.Config.Trainable == nil {
			continue
		}
		train := *l.Config.Trainable
		for _, p := range n.Op.Params() {
			isParam := p.Name != "moving_mean" && p.Name != "moving_variance"
			if isParam && p.Trainable != train {
				t.Errorf("layer %q (trainable %v): param %s has Trainable %v", l.Name, train, p.Name, p.Trainable)
			}
			if !p.Trainable {
				frozen += p.Value.Len()
			}
		}
		if bn, ok := n.Op.(*nn.BatchNorm); ok && bn.Frozen == train {
			t.Errorf("batch norm %q (trainable %v) has Frozen %v", l.Name, train, bn.Frozen)
		}
	}
	t.Logf("%d frozen values (weights of frozen layers, batch-norm statistics)", frozen)
}

// Optimize (batch norms folded, activations fused) computes the same, and
// a model file round trip too.
func TestOptimizeAndSave(t *testing.T) {
	for _, name := range []string{"sequential_cnn", "functional", "depthwise", "centernet_decode", "strided_slice"} {
		t.Run(name, func(t *testing.T) {
			m, c := tinyModel(t, name)
			var names []string
			for _, o := range c.Outputs {
				names = append(names, o.Name)
			}
			ref := runModel(t, m, c.Inputs, names)
			refs := make([]*tensor.Tensor, len(ref))
			for i, r := range ref {
				refs[i] = r.Clone()
			}
			opt, err := nn.Optimize(m.Graph)
			if err != nil {
				t.Fatal(err)
			}
			xs := inputsOf(t, m, c.Inputs)
			ys, err := opt.NewSession().Run(false, xs...)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, "Optimize", m, names, ys, refs)
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := nn.SaveFile(path, m.Graph, nil); err != nil {
				t.Fatal(err)
			}
			back, _, err := nn.LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ys, err = back.Graph().NewSession().Run(false, xs...)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, "saved and loaded", m, names, ys, refs)
		})
	}
}

func inputsOf(t *testing.T, m *Model, inputs []fixtureTensor) []*tensor.Tensor {
	byName := map[string]*tensor.Tensor{}
	for _, in := range inputs {
		byName[in.Name] = in.tensor(t)
	}
	xs := make([]*tensor.Tensor, len(m.Inputs))
	for i, n := range m.Inputs {
		xs[i] = byName[n]
	}
	return xs
}

// checkSame compares the graph outputs ys (in m.Outputs order) with the
// reference values of names.
func checkSame(t *testing.T, what string, m *Model, names []string, ys, refs []*tensor.Tensor) {
	t.Helper()
	for i, n := range names {
		k := -1
		for j, o := range m.Outputs {
			if o == n {
				k = j
			}
		}
		if k < 0 {
			continue
		}
		if e := relErr(ys[k].Data, refs[i].Data); e > 1e-5 {
			t.Errorf("%s: output %s differs by %.3g", what, n, e)
		}
	}
}
