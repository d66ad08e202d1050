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

// features runs the backbone over d in batches (resized by adapt when
// not nil) and returns the features as a dataset of (N, 1, 1, D) vectors
// with d's labels, or of the output's own shape when keepShape. A nil
// Graph is the identity: the adapted images themselves.
func (b *Backbone) features(d *data.Dataset, what string, keepShape bool, adapt *inputAdapter, log io.Writer) (*data.Dataset, error) {
	var s *nn.Session
	if b.Graph != nil {
		s = b.Graph.NewSession()
	}
	batches, err := data.NewBatcher(d, 32, data.BatchOptions{})
	if err != nil {
		return nil, err
	}
	var out []float32
	var sample []int
	dim, done, next := 0, 0, 0
	t0 := time.Now()
	for batch := range batches.Epoch() {
		y := batch.X
		if adapt != nil {
			if y, err = adapt.batch(y); err != nil {
				return nil, fmt.Errorf("backbone %s: %w", b.Name, err)
			}
		}
		if s != nil {
			ys, err := s.Run(false, y)
			if err != nil {
				return nil, fmt.Errorf("backbone %s: %w", b.Name, err)
			}
			y = ys[0]
		}
		if dim == 0 {
			dim = len(y.Data) / y.Shape[0]
			out = make([]float32, 0, d.Len()*dim)
			sample = []int{1, 1, dim}
			if keepShape {
				sample = y.Shape[1:]
			}
		}
		out = append(out, y.Data...)
		if done += len(batch.Y); done >= next || done == d.Len() {
			fmt.Fprintf(log, "[INFO] %s features: %d/%d images (%.0f img/s)\n", what, done, d.Len(), float64(done)/time.Since(t0).Seconds())
			next = done + max(d.Len()/5, 1)
		}
	}
	x, err := tensor.FromSlice(out, append([]int{d.Len()}, sample...)...)
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
	ds, adapt, err := loadAdapted(o.Load, bb.Input, "backbone "+bb.Name)
	if err != nil {
		return nil, err
	}
	if adapt != nil {
		how := ""
		if adapt.from[2] != adapt.to[2] {
			how = ", the channel replicated"
		}
		fmt.Fprintf(o.Log, "[INFO] %s images are %dx%dx%d: resized to %dx%dx%d per batch%s (%s)\n", datasetName(o.Load.Dataset),
			adapt.from[1], adapt.from[0], adapt.from[2], adapt.to[1], adapt.to[0], adapt.to[2], how, interpName(adapt.interp))
	}
	if len(ds.Skipped) > 0 {
		fmt.Fprintf(o.Log, "[WARN] skipped %d unreadable images, e.g. %s\n", len(ds.Skipped), ds.Skipped[0])
	}
	// With fine-tuning the backbone is split where the unfrozen part
	// begins: the images go through the frozen part once (cached
	// activations), the pooled features come from running the rest over
	// them, and fine-tuning trains the rest and the head on the cache.
	extract, pool := bb, (*Backbone)(nil)
	var ft *fineTuneSplit
	if o.FineTune > 0 {
		if ft, err = splitForFineTune(bb.Graph, o.FineTune); err != nil {
			return nil, fmt.Errorf("--fine-tune %d with backbone %s: %w", o.FineTune, bb.Name, err)
		}
		fmt.Fprintf(o.Log, "[INFO] fine-tuning will train the last %d of %d blocks (%s ... %s, %d weights); activations cached at %s\n",
			o.FineTune, ft.total, ft.blocks[0].Name, ft.blocks[len(ft.blocks)-1].Name, ft.weights, ft.cutName)
		extract, pool = &Backbone{Name: bb.Name, Graph: ft.prefix}, &Backbone{Name: bb.Name, Graph: ft.tail}
	}
	if ft != nil {
		if err := checkCache(ds, ft, adapt, MaxFineTuneCache, o.Log); err != nil {
			return nil, fmt.Errorf("--fine-tune %d with backbone %s: %w", o.FineTune, bb.Name, err)
		}
	}
	cached := &Loaded{Preprocess: ds.Preprocess}
	sets := []struct {
		what string
		in   *data.Dataset
		out  **data.Dataset
	}{{"training", ds.Train, &cached.Train}, {"validation", ds.Val, &cached.Val}, {"test", ds.Test, &cached.Test}}
	for _, set := range sets {
		if set.in == nil {
			continue
		}
		if ft != nil && ft.prefix == nil && adapt == nil { // fine-tuning every block: the images are the cache
			*set.out = set.in
			continue
		}
		if *set.out, err = extract.features(set.in, set.what, ft != nil, adapt, o.Log); err != nil {
			return nil, err
		}
	}
	ds = nil
	debug.FreeOSMemory() // the images: only the features are needed now
	feats := cached
	if pool != nil {
		feats = &Loaded{Preprocess: cached.Preprocess}
		for _, p := range []struct{ in, out **data.Dataset }{{&cached.Train, &feats.Train}, {&cached.Val, &feats.Val}, {&cached.Test, &feats.Test}} {
			if *p.in == nil {
				continue
			}
			if *p.out, err = pool.features(*p.in, "pooled", false, nil, io.Discard); err != nil {
				return nil, err
			}
		}
	}
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
	// The report scores the head on the test features: the same function
	// as the saved model on the test images, without a second pass of the
	// backbone.
	scored, scoreSet := nn.Model(head), feats.Test
	if ft != nil {
		tuned, hft, err := ft.fineTune(head, cached, o)
		h.Epochs = append(h.Epochs, hft.Epochs...)
		if err != nil {
			return &TrainResult{History: h}, err
		}
		scored, scoreSet = tuned, cached.Test
	}
	full, err := stackHead(bb.Graph, head)
	if err != nil {
		return nil, err
	}
	ti := trainingInfo{Dataset: recordedDataset(o.Load.Dataset), SkipBad: o.Load.SkipBad, TestSplit: o.Load.TestSplit, ValSplit: o.Load.ValSplit,
		Seed: o.Load.Seed, Limit: o.Load.Limit, Epochs: o.Epochs, BatchSize: o.BatchSize, Optimizer: opt.Name(), LR: o.LR,
		Backbone: bb.Name, BackboneOutput: bb.Graph.Outputs()[0].Name()}
	if ft != nil {
		ti.FineTune, ti.FineTuneEpochs, ti.FineTuneLR = o.FineTune, o.fineTuneEpochs(), o.fineTuneLR()
	}
	info, _ := json.Marshal(ti)
	// feats.Preprocess is the model's (an array dataset's is the adapter's
	// target), so that predict prepares image files as training did.
	res := &TrainResult{History: h, Model: &classifier.Model{Net: full, Classes: feats.Train.Classes,
		Preprocess: feats.Preprocess, Arch: "transfer:" + bb.Name, Training: info}}
	headRes := &TrainResult{Model: &classifier.Model{Net: scored, Classes: scoreSet.Classes}}
	if err := headRes.report(TrainOptions{Digits: o.Digits, Log: o.Log}, scoreSet); err != nil {
		return res, err
	}
	res.Eval, res.Report, res.ReportText = headRes.Eval, headRes.Report, headRes.ReportText
	if o.Out != "" {
		if err := res.write(o.Out, scoreSet); err != nil {
			return res, err
		}
	}
	return res, nil
}

// stackHead joins the backbone and the trained head into one graph that
// takes images (or whatever the backbone takes); the backbone's weights
// are frozen (no gradient), so the model trains only its head unless they
// are unfrozen for fine-tuning.
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

// Fine-tuning (Keras' transfer-learning guide, second step): after the
// head has been trained on frozen features, the last N blocks of the
// backbone (nn.Graph.Blocks: the weighted nodes grouped by name scope) are
// unfrozen and trained with the head at a lower learning rate (default
// 0.1x), batch-norm layers kept in inference mode (their moving
// statistics frozen; gamma and beta of the unfrozen blocks learn).

// DefaultFineTuneEpochs and DefaultFineTuneLRFactor apply when
// TrainOptions.FineTuneEpochs and FineTuneLR are zero.
const (
	DefaultFineTuneEpochs   = 10
	DefaultFineTuneLRFactor = 0.1
)

func (o *TrainOptions) fineTuneEpochs() int {
	if o.FineTuneEpochs > 0 {
		return o.FineTuneEpochs
	}
	return DefaultFineTuneEpochs
}

func (o *TrainOptions) fineTuneLR() float64 {
	if o.FineTuneLR > 0 {
		return o.FineTuneLR
	}
	return o.LR * DefaultFineTuneLRFactor
}

// fineTuneSplit is a backbone cut in two where fine-tuning starts.
type fineTuneSplit struct {
	blocks  []nn.Block // the blocks to unfreeze
	total   int        // blocks in the backbone
	weights int        // values in those blocks
	// prefix computes the cut value from the images (nil when the cut is
	// the input itself); tail computes the features from the cut value,
	// sharing the backbone's ops.
	prefix, tail *nn.Graph
	cutName      string
}

// splitForFineTune finds the last n blocks of g and the latest value
// before them that every path to the output goes through (a block of a
// residual network starts after the previous merge), and cuts g there.
func splitForFineTune(g *nn.Graph, n int) (*fineTuneSplit, error) {
	blocks := g.Blocks()
	if n > len(blocks) {
		return nil, fmt.Errorf("the backbone has %d blocks (weighted layers grouped by name scope), not %d", len(blocks), n)
	}
	order := g.Nodes()
	index := make(map[*nn.Node]int, len(order))
	for i, nd := range order {
		index[nd] = i
	}
	start := index[blocks[len(blocks)-n].Nodes[0]]
	// frontier: the values made before start and used from start on;
	// constants are copied into the tail instead.
	frontier := func(start int) []*nn.Value {
		seen := map[*nn.Value]bool{}
		var vs []*nn.Value
		for _, nd := range order[start:] {
			for _, v := range nd.Inputs {
				if _, k := v.Node().Op.(*nn.Constant); !k && index[v.Node()] < start && !seen[v] {
					seen[v] = true
					vs = append(vs, v)
				}
			}
		}
		return vs
	}
	fv := frontier(start)
	for len(fv) != 1 && start > 0 {
		start--
		fv = frontier(start)
	}
	if len(fv) != 1 {
		return nil, fmt.Errorf("no single value separates the last %d blocks from the rest of the graph", n)
	}
	cut := fv[0]
	s := &fineTuneSplit{blocks: blocks[len(blocks)-n:], total: len(blocks), cutName: cut.Name()}
	for _, b := range s.blocks {
		for _, nd := range b.Nodes {
			for _, p := range nd.Op.Params() {
				if p.Name != "moving_mean" && p.Name != "moving_variance" {
					s.weights += p.Value.Len()
				}
			}
		}
	}
	in := strings.ReplaceAll(cut.Name(), ":", "_")
	if _, isInput := cut.Node().Op.(*nn.InputOp); !isInput {
		var err error
		if s.prefix, err = cutGraph(g, cut.Name()); err != nil {
			return nil, err
		}
	}
	t := nn.NewGraph()
	t.InputBatch(in, cut.Shape()...)
	for i, nd := range order {
		_, isConst := nd.Op.(*nn.Constant)
		if i < start && !(isConst && usedFrom(nd, order[start:])) {
			continue
		}
		if _, isInput := nd.Op.(*nn.InputOp); isInput {
			continue
		}
		refs := make([]string, len(nd.Inputs))
		for j, v := range nd.Inputs {
			refs[j] = v.Name()
			if v == cut {
				refs[j] = in
			}
		}
		if _, err := t.AddNode(nd.Name, nd.Op, refs...); err != nil {
			return nil, err
		}
	}
	t.OutputRefs(g.Outputs()[0].Name())
	if err := t.Build(0); err != nil {
		return nil, fmt.Errorf("the backbone from %s on: %w", cut.Name(), err)
	}
	s.tail = t
	return s, nil
}

// usedFrom reports whether a node of later uses n's outputs.
func usedFrom(n *nn.Node, later []*nn.Node) bool {
	for _, l := range later {
		for _, v := range l.Inputs {
			if v.Node() == n {
				return true
			}
		}
	}
	return false
}

// fineTune unfreezes the split's blocks and trains them with the trained
// head on the cached activations; it returns the tail-and-head graph
// (which shares its ops with the backbone) and the fine-tuning epochs.
func (s *fineTuneSplit) fineTune(head *nn.Sequential, cached *Loaded, o TrainOptions) (*nn.Graph, *train.History, error) {
	net, err := stackHead(s.tail, head)
	if err != nil {
		return nil, &train.History{}, err
	}
	for _, b := range s.blocks {
		for _, nd := range b.Nodes {
			nn.Unfreeze(nd)
		}
	}
	bns := nn.FreezeBatchNormStats(net)
	if s.prefix != nil { // not trained, but saved with the rest: inference mode throughout
		bns += nn.FreezeBatchNormStats(s.prefix)
	}
	opt, err := NewOptimizer(o.Optimizer, o.fineTuneLR(), o.Momentum, o.Nesterov, o.Decay)
	if err != nil {
		return nil, &train.History{}, err
	}
	fmt.Fprintf(o.Log, "[INFO] fine-tuning the last %d blocks and the head for %d epochs, %s lr %g (%d batch norms in inference mode)\n",
		len(s.blocks), o.fineTuneEpochs(), opt.Name(), o.fineTuneLR(), bns)
	h, err := train.Fit(net, cached.Train, cached.Val, train.Config{Epochs: o.fineTuneEpochs(), BatchSize: o.BatchSize,
		Seed: o.Load.Seed + 1, Optimizer: opt, Progress: o.Progress})
	if h == nil {
		h = &train.History{}
	}
	for i := range h.Epochs {
		h.Epochs[i].Epoch += o.Epochs
	}
	for _, b := range s.blocks { // the saved model keeps the backbone frozen
		for _, nd := range b.Nodes {
			nn.Freeze(nd)
		}
	}
	return net, h, err
}

// MaxFineTuneCache bounds the activations fine-tuning keeps in memory
// (float32, every training, validation and test image): MNIST's 70,000
// digits at MobileNet v2's expanded_conv_14 (7x7x160, --fine-tune 3) are
// 2.2 GB and fit; the images themselves at 224x224x3 (42 GB) do not.
const MaxFineTuneCache = 4 << 30

// checkCache logs the size of the activations fine-tuning will cache and
// refuses a cache over limit bytes. With no frozen part and no resizing
// the images in memory are the cache: nothing is added.
func checkCache(ds *Loaded, ft *fineTuneSplit, adapt *inputAdapter, limit int64, log io.Writer) error {
	if ft.prefix == nil && adapt == nil {
		return nil
	}
	n := 0
	for _, d := range []*data.Dataset{ds.Train, ds.Val, ds.Test} {
		if d != nil {
			n += d.Len()
		}
	}
	shape := ft.tail.InputShape()
	bytes := int64(n) * int64(tensor.Numel(shape)) * 4
	if bytes > limit {
		return fmt.Errorf("caching %d images' activations at %s, %s float32 each, would take %.1f GB, over the %.3g GiB bound: fine-tune fewer blocks, or pass --limit",
			n, ft.cutName, tensor.ShapeString(shape), float64(bytes)/1e9, float64(limit)/(1<<30))
	}
	fmt.Fprintf(log, "[INFO] fine-tuning cache: %d images x %s float32 at %s = %.2f GB in memory\n", n, tensor.ShapeString(shape), ft.cutName, float64(bytes)/1e9)
	return nil
}

func interpName(s string) string {
	if s == "" {
		return data.Bilinear
	}
	return s
}
