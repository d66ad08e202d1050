package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tflite"
	"github.com/dlcv-go/dlcv/train"
)

// Transfer learning by feature extraction (the practitioner's way to good
// accuracy on a small dataset): a pretrained ImageNet backbone, cut at its
// pooled features and frozen, turns every image into a feature vector
// once; a new head (dropout, dense, softmax) is trained on those vectors;
// the saved model is backbone and head in one graph, which predicts from
// images like any other model file.

// Backbone is a pretrained network cut at its features.
type Backbone struct {
	Name  string    // registry name or file
	Graph *nn.Graph // images (N, H, W, C) with values in [0, 1] -> features
	Input []int     // H, W, C
}

// LoadBackbone resolves spec, a registered model name ("mobilenet-v2",
// see 'dlcv models') or a model file (.tflite, or a dlcv .safetensors
// model), and cuts it at output: a node or tensor name, "" for the
// registered model's pooled features.
func LoadBackbone(spec, output string) (*Backbone, error) {
	path := spec
	if output == "" {
		if m, err := pretrained.Lookup(spec); err == nil {
			output = m.Features
		}
	}
	if !strings.ContainsAny(spec, `/\`) && !strings.Contains(spec, ".") {
		p, _, err := pretrained.Resolve(spec)
		if err != nil {
			return nil, fmt.Errorf("backbone: %w", err)
		}
		path = p
	}
	b := &Backbone{Name: spec}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tflite":
		if output == "" {
			output = knownFeatures(path)
		}
		if output == "" {
			return nil, fmt.Errorf("backbone %s: name the features node with --backbone-output (e.g. the global pool)", path)
		}
		g, err := tflite.LoadGraph(path, tflite.GraphOptions{Outputs: []string{output}, PixelMax: 1})
		if err != nil {
			return nil, fmt.Errorf("backbone: %w", err)
		}
		b.Graph = g
	case ".safetensors":
		m, _, err := nn.LoadFile(path)
		if err != nil {
			return nil, fmt.Errorf("backbone: %w", err)
		}
		if output == "" {
			return nil, fmt.Errorf("backbone %s: name the features node with --backbone-output (see 'dlcv summary %s')", path, path)
		}
		if b.Graph, err = cutGraph(m.Graph(), output); err != nil {
			return nil, fmt.Errorf("backbone %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("backbone %s: want a registered model name, a .tflite file or a dlcv .safetensors model", spec)
	}
	in := b.Graph.InputShape()
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || (in[2] != 1 && in[2] != 3) {
		return nil, fmt.Errorf("backbone %s takes %v, want an image (height, width, 1 or 3 channels) of known size", spec, in)
	}
	b.Input = in
	return b, nil
}

// knownFeatures is the pooled-features node of the Coral models of the
// registry, found by file name when the model is given as a path.
func knownFeatures(path string) string {
	base := filepath.Base(path)
	for _, m := range pretrained.Models {
		if m.File.Name == base {
			return m.Features
		}
	}
	return ""
}

// cutGraph returns the part of g that computes value out (a node name or
// "node:i"): the same ops (and weights), only the nodes it needs.
func cutGraph(g *nn.Graph, out string) (*nn.Graph, error) {
	name, _, _ := strings.Cut(out, ":")
	target := g.NodeByName(name)
	if target == nil {
		var names []string
		for _, n := range g.Nodes() {
			names = append(names, n.Name)
		}
		return nil, fmt.Errorf("no node %q (nodes: %s)", name, strings.Join(names, ", "))
	}
	need := map[*nn.Node]bool{}
	var mark func(n *nn.Node)
	mark = func(n *nn.Node) {
		if need[n] {
			return
		}
		need[n] = true
		for _, v := range n.Inputs {
			mark(v.Node())
		}
	}
	mark(target)
	c := nn.NewGraph()
	if err := copyNodes(c, g, need, ""); err != nil {
		return nil, err
	}
	c.OutputRefs(out)
	return c, c.Build(0)
}

// copyNodes adds the nodes of g that keep accepts (all when nil) to dst,
// with their ops and weights, names prefixed; inputs become inputs.
func copyNodes(dst, g *nn.Graph, keep map[*nn.Node]bool, prefix string) error {
	for _, n := range g.Nodes() {
		if keep != nil && !keep[n] {
			continue
		}
		if in, ok := n.Op.(*nn.InputOp); ok {
			dst.InputBatch(prefix+n.Name, in.Shape...)
			continue
		}
		refs := make([]string, len(n.Inputs))
		for i, v := range n.Inputs {
			refs[i] = prefix + v.Name()
		}
		if _, err := dst.AddNode(prefix+n.Name, n.Op, refs...); err != nil {
			return err
		}
	}
	return dst.Err()
}

// features runs the backbone over d in batches and returns the features
// as a dataset of (N, 1, 1, D) vectors with d's labels.
func (b *Backbone) features(d *data.Dataset, what string, log io.Writer) (*data.Dataset, error) {
	s := b.Graph.NewSession()
	batches, err := data.NewBatcher(d, 32, data.BatchOptions{})
	if err != nil {
		return nil, err
	}
	var out []float32
	dim, done, next := 0, 0, 0
	t0 := time.Now()
	for batch := range batches.Epoch() {
		ys, err := s.Run(false, batch.X)
		if err != nil {
			return nil, fmt.Errorf("backbone %s: %w", b.Name, err)
		}
		y := ys[0]
		if dim == 0 {
			dim = len(y.Data) / y.Shape[0]
			out = make([]float32, 0, d.Len()*dim)
		}
		out = append(out, y.Data...)
		if done += len(batch.Y); done >= next || done == d.Len() {
			fmt.Fprintf(log, "[INFO] %s features: %d/%d images (%.0f img/s)\n", what, done, d.Len(), float64(done)/time.Since(t0).Seconds())
			next = done + max(d.Len()/5, 1)
		}
	}
	x, err := tensor.FromSlice(out, d.Len(), 1, 1, dim)
	if err != nil {
		return nil, err
	}
	return &data.Dataset{X: x, Y: d.Y, Classes: d.Classes}, nil
}

// trainTransfer is Train with a backbone: features once, then the head.
func trainTransfer(o TrainOptions) (*TrainResult, error) {
	bb, err := LoadBackbone(o.Backbone, o.BackboneOutput)
	if err != nil {
		return nil, err
	}
	opt, err := NewOptimizer(o.Optimizer, o.LR, o.Momentum, o.Nesterov, o.Decay)
	if err != nil {
		return nil, err
	}
	if o.Load.Preprocess.Width == 0 {
		o.Load.Preprocess.Height, o.Load.Preprocess.Width = bb.Input[0], bb.Input[1]
	}
	if o.Load.Preprocess.Channels == 0 {
		o.Load.Preprocess.Channels = bb.Input[2]
	}
	if p := o.Load.Preprocess; p.Height != bb.Input[0] || p.Width != bb.Input[1] || p.Channels != bb.Input[2] {
		return nil, fmt.Errorf("backbone %s takes %dx%dx%d images, not %dx%dx%d", bb.Name, bb.Input[1], bb.Input[0], bb.Input[2], p.Width, p.Height, p.Channels)
	}
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(o.Log, "[INFO] loading dataset %s at the backbone's %dx%d...\n", datasetName(o.Load.Dataset), bb.Input[1], bb.Input[0])
	ds, err := Load(o.Load, bb.Input)
	if err != nil {
		return nil, err
	}
	if len(ds.Skipped) > 0 {
		fmt.Fprintf(o.Log, "[WARN] skipped %d unreadable images, e.g. %s\n", len(ds.Skipped), ds.Skipped[0])
	}
	feats := &Loaded{Preprocess: ds.Preprocess}
	if feats.Train, err = bb.features(ds.Train, "training", o.Log); err != nil {
		return nil, err
	}
	if ds.Val != nil {
		if feats.Val, err = bb.features(ds.Val, "validation", o.Log); err != nil {
			return nil, err
		}
	}
	if feats.Test, err = bb.features(ds.Test, "test", o.Log); err != nil {
		return nil, err
	}
	ds = nil
	debug.FreeOSMemory() // the images: only the features are needed now
	classes := len(feats.Train.Classes)
	layers := []nn.Layer{nn.NewFlatten()}
	if o.HeadDropout > 0 {
		layers = append(layers, nn.NewDropout(o.HeadDropout))
	}
	head := nn.NewSequential(append(layers, nn.NewDense(classes), nn.NewSoftmax())...)
	if err := head.Build(feats.Train.SampleShape(), o.Load.Seed); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "[INFO] training the head (%d features -> %d classes) for %d epochs, batch %d, %s lr %g\n",
		feats.Train.SampleShape()[2], classes, o.Epochs, o.BatchSize, opt.Name(), o.LR)
	h, err := train.Fit(head, feats.Train, feats.Val, train.Config{Epochs: o.Epochs, BatchSize: o.BatchSize,
		Seed: o.Load.Seed, Optimizer: opt, Progress: o.Progress})
	if err != nil {
		return &TrainResult{History: h}, err
	}
	full, err := stackHead(bb.Graph, head)
	if err != nil {
		return nil, err
	}
	info, _ := json.Marshal(trainingInfo{Dataset: datasetName(o.Load.Dataset), TestSplit: o.Load.TestSplit, ValSplit: o.Load.ValSplit,
		Seed: o.Load.Seed, Limit: o.Load.Limit, Epochs: o.Epochs, BatchSize: o.BatchSize, Optimizer: opt.Name(), LR: o.LR,
		Backbone: bb.Name, BackboneOutput: bb.Graph.Outputs()[0].Name()})
	res := &TrainResult{History: h, Model: &classifier.Model{Net: full, Classes: feats.Train.Classes,
		Preprocess: feats.Preprocess, Arch: "transfer:" + bb.Name, Training: info}}
	// The report scores the head on the test features: the same function
	// as the saved model on the test images, without a second pass of the
	// backbone.
	headRes := &TrainResult{Model: &classifier.Model{Net: head, Classes: feats.Test.Classes}}
	if err := headRes.report(TrainOptions{Digits: o.Digits, Log: o.Log}, feats.Test); err != nil {
		return res, err
	}
	res.Eval, res.Report, res.ReportText = headRes.Eval, headRes.Report, headRes.ReportText
	if o.Out != "" {
		if err := res.write(o.Out, feats.Test); err != nil {
			return res, err
		}
	}
	return res, nil
}

// stackHead joins the backbone and the trained head into one graph that
// takes images; the backbone's weights are frozen (no gradient), so the
// model trains only its head unless they are unfrozen for fine-tuning.
func stackHead(backbone *nn.Graph, head *nn.Sequential) (*nn.Graph, error) {
	g := nn.NewGraph()
	if err := copyNodes(g, backbone, nil, ""); err != nil {
		return nil, err
	}
	for _, p := range backbone.Params() {
		p.Trainable, p.Grad = false, nil
	}
	prev := backbone.Outputs()[0].Name()
	for _, n := range head.LayerNodes() {
		name := "head_" + n.Name
		if _, err := g.AddNode(name, n.Op, prev); err != nil {
			return nil, err
		}
		prev = name
	}
	g.OutputRefs(prev)
	if err := g.Build(0); err != nil {
		return nil, fmt.Errorf("backbone and head: %w", err)
	}
	return g, nil
}
