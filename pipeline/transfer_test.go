package pipeline

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/nn"
)

// residualBackbone is a small backbone with TensorFlow-style scoped names:
// blocks bb/b1 (conv, batch norm) and bb/b2 (conv, batch norm, a residual
// add), then a global pool.
func residualBackbone(t *testing.T, path string) *nn.Graph {
	t.Helper()
	g := nn.NewGraph()
	g.Input("image", 16, 16, 3)
	g.AddNode("bb/b1/conv", nn.NewConv2D(6, 3, 1, nn.Same), "image")
	g.AddNode("bb/b1/bn", nn.NewBatchNorm(0, 0), "bb/b1/conv")
	g.AddNode("bb/b1/relu", nn.NewReLU(), "bb/b1/bn")
	g.AddNode("bb/b2/conv", nn.NewConv2D(6, 3, 1, nn.Same), "bb/b1/relu")
	g.AddNode("bb/b2/bn", nn.NewBatchNorm(0, 0), "bb/b2/conv")
	g.AddNode("bb/b2/add", nn.NewAdd(), "bb/b2/bn", "bb/b1/relu")
	g.AddNode("bb/pool", nn.NewGlobalAveragePool(), "bb/b2/add")
	g.AddNode("logits", nn.NewDense(4), "bb/pool")
	g.OutputRefs("logits")
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	// Moving statistics that differ from the initial 0 and 1, so that a
	// change would show.
	for _, n := range g.Nodes() {
		if b, ok := n.Op.(*nn.BatchNorm); ok {
			b.MovingMean().Value.Fill(0.05)
			b.MovingVariance().Value.Fill(0.5)
		}
	}
	if err := nn.SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	return g
}

// Fine-tuning the last block changes that block's weights (kernel, bias,
// gamma, beta) and nothing else of the backbone: not the first block, not
// any batch norm's moving statistics. The saved model predicts from images
// what the report scored.
func TestFineTuneLastBlocks(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "ds"), 40)
	bbPath := filepath.Join(dir, "backbone.safetensors")
	orig := residualBackbone(t, bbPath)
	out := filepath.Join(dir, "out")
	lo := LoadOptions{Dataset: filepath.Join(dir, "ds"), Seed: 3, ValSplit: 0.1}
	o := TrainOptions{Load: lo, Backbone: bbPath, BackboneOutput: "bb/pool", Epochs: 4, BatchSize: 8, Optimizer: "adam",
		FineTune: 1, FineTuneEpochs: 3, Out: out}
	res, err := Train(o)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.History.Epochs); n != 7 || res.History.Epochs[6].Epoch != 7 {
		t.Errorf("history has %d epochs, want 4 + 3 numbered 1..7", n)
	}
	if lr := res.History.Epochs[6].LearningRate; lr != 0.0001 {
		t.Errorf("fine-tuning lr %g, want 0.1 x adam's 0.001", lr)
	}
	m, err := classifier.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Net.Graph()
	for _, n := range orig.Nodes() {
		tuned := g.NodeByName(n.Name)
		if len(n.Op.Params()) == 0 || n.Name == "logits" {
			continue
		}
		if tuned == nil {
			t.Fatalf("node %s not in the saved model", n.Name)
		}
		for i, p := range n.Op.Params() {
			q := tuned.Op.Params()[i]
			changed := !slices.Equal(p.Value.Data, q.Value.Data)
			stat := p.Name == "moving_mean" || p.Name == "moving_variance"
			want := strings.HasPrefix(n.Name, "bb/b2/") && !stat
			if changed != want {
				t.Errorf("%s %s: changed %v, want %v", n.Name, p.Name, changed, want)
			}
			if q.Trainable {
				t.Errorf("%s %s is trainable in the saved model", n.Name, p.Name)
			}
		}
		if b, ok := tuned.Op.(*nn.BatchNorm); ok && !b.Frozen {
			t.Errorf("batch norm %s not kept in inference mode", n.Name)
		}
	}
	ev, err := Evaluate(filepath.Join(out, "model.safetensors"), EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ReportText != res.ReportText {
		t.Errorf("evaluate on images differs from the report on cached activations:\n%s\n%s", ev.ReportText, res.ReportText)
	}
	o.FineTune = 3
	if _, err := Train(o); err == nil || !strings.Contains(err.Error(), "has 2 blocks") {
		t.Errorf("--fine-tune 3 of 2 blocks: %v", err)
	}
	o.Backbone = ""
	if _, err := Train(o); err == nil || !strings.Contains(err.Error(), "--backbone") {
		t.Errorf("--fine-tune without a backbone: %v", err)
	}
}
