package nn

import (
	"slices"
	"sync"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Batch splitting. An inference run of several images on a graph whose
// ops all treat the samples of a batch apart runs as one single-image
// pass per image, the images spread over the cores, instead of every op
// split over the cores: each pass's kernels find the other cores busy and
// run inline. An image's activations then stay in the caches from layer
// to layer, where a batch of 32 streams every tensor through memory
// (MobileNetV2's 56x56x144 depthwise layer at batch 32 moves 115 MB),
// and no op pays a hand-off per layer. Each image's result is the one a
// batch of one gives, whatever the thread count.
//
// A request splits when every op of its plan is batch-local (batchLocal),
// every value the plan computes has the batch as its first axis, at the
// full batch and at one image (which catches ops that move or fold the
// batch axis), and an image's convolutions and dense layers do at least
// splitMinFlops per node. The check is made once per plan.
//
// Measured at batch 32 on 2 threads (alternated runs, medians of 3):
// MobileNetV2 277 -> 223 ms, EfficientNet-B0 433 -> 379, ResNet-18 784
// -> 795 (even), MobileNetV3-small 77 -> 82 (worse: a single-image pass
// pays a few microseconds a node, and its nodes are small), LeNet at
// batch 256 5,500-6,000 -> 3,300-3,700 images/s (worse).

// splitMinFlops is the least work (FLOPs) per node of one image for a
// split: MobileNetV2 has 11 MFLOP a node, EfficientNet-B0 7, ResNet-18
// 150, MobileNetV3-small 1.6, LeNet 1. A variable so that tests can
// split small graphs.
var splitMinFlops = 4 << 20

// imageFlops estimates the FLOPs of step st of a single-image plan:
// those of its convolutions and dense layers.
func imageFlops(st *step) int {
	if len(st.out) == 0 || len(st.in) == 0 {
		return 0
	}
	return opFlops(st.node.Op, st.in[0].Shape, st.out[0].Shape)
}

// opFlops is imageFlops for op with input shape in and output shape out.
func opFlops(op Op, in, out []int) int {
	if len(in) == 0 {
		return 0
	}
	cin := in[len(in)-1]
	switch o := op.(type) {
	case *Conv2D:
		return 2 * tensor.Numel(out) * o.KernelH * o.KernelW * cin / o.groups()
	case *DepthwiseConv2D:
		return 2 * tensor.Numel(out) * o.KernelH * o.KernelW
	case *Dense:
		return 2 * tensor.Numel(out) * cin
	case *ScaledPointwise:
		return opFlops(o.Conv, in, out)
	case *PointwiseDepthwise:
		mid := append(slices.Clone(in[:len(in)-1]), o.Pointwise.Filters)
		return opFlops(o.Pointwise, in, mid) + opFlops(o.Depthwise, mid, out)
	}
	return 0
}

// batchLocal reports whether op computes sample i of its outputs from
// sample i of its inputs alone (inputs without a batch axis broadcast).
func batchLocal(op Op) bool {
	switch o := op.(type) {
	case *Conv2D, *DepthwiseConv2D, *PointwiseDepthwise, *ScaledPointwise, *ConvTranspose2D, *Dense, *BatchNorm,
		*MaxPool2D, *AveragePool2D, *GlobalAveragePool, *GlobalMaxPool, *PoolPeaks,
		*Add, *Sub, *Mul, *Div,
		*ReLU, *LeakyReLU, *ELU, *Sigmoid, *Tanh, *Clip, *ReLU6, *HardSigmoid,
		*HardSwish, *SiLU, *GELU, *PReLU,
		*Reshape, *Flatten, *Identity, *Dropout:
		return true
	case *Softmax:
		return o.Axis >= 0 // 0 is the last axis; a negative one might be the batch
	case *Concat:
		return o.Axis != 0
	}
	return false
}

// SetBatchSplit turns batch splitting (batchsplit.go) on (the default)
// or off for this session's inference runs. A profiled session
// (SetProfile) does not split, so that its profile has each node's time
// over the whole batch.
func (s *Session) SetBatchSplit(on bool) { s.noSplit = !on }

// splitState is a Session's batch-splitting storage.
type splitState struct {
	mu   sync.Mutex                // guards err
	free kernels.FreeList[Session] // single-image sessions of the graph, idle
	err  error                     // the first error of the running split
	task splitTask
	// inputs and want of the running split
	inputs []*tensor.Tensor
	want   []*Value
}

// splitPlan decides whether p's request splits (sub is a single-image
// session planning the same request on one) and records it in p.split.
func (s *Session) splitPlan(p *plan, sub *Session, one []*tensor.Tensor, want []*Value) {
	p.split = -1
	n := p.inShapes[0][0]
	sp, err := sub.planFor(false, one, want)
	if err != nil || len(sp.steps) != len(p.steps) {
		return
	}
	flops, nodes := 0, 0
	for i, st := range p.steps {
		if st.konst != nil {
			continue
		}
		flops += imageFlops(sp.steps[i])
		nodes++
		if st.node != sp.steps[i].node || !batchLocal(st.node.Op) {
			return
		}
		for _, id := range st.outIDs {
			if !batchScaled(p.vals[id].Shape, sp.vals[id].Shape, n) {
				return
			}
		}
	}
	for i, o := range p.outs {
		if !batchScaled(o.Shape, sp.outs[i].Shape, n) {
			return
		}
	}
	if flops >= splitMinFlops*nodes {
		p.split = 1
	}
}

// batchScaled reports whether shape full is single with the batch of one
// image grown to n.
func batchScaled(full, single []int, n int) bool {
	if len(full) == 0 || len(single) != len(full) || full[0] != n || single[0] != 1 {
		return false
	}
	return slices.Equal(full[1:], single[1:])
}

// runSplit runs the inference request of plan p image by image over the
// cores when it splits, and reports whether it did.
func (s *Session) runSplit(p *plan, inputs []*tensor.Tensor, want []*Value) ([]*tensor.Tensor, bool, error) {
	if s.noSplit || s.prof != nil || kernels.Threads() < 2 || p.split < 0 || len(inputs) == 0 || len(inputs[0].Shape) == 0 {
		return nil, false, nil
	}
	n := inputs[0].Shape[0]
	if n < 2 {
		return nil, false, nil
	}
	for _, x := range inputs {
		if len(x.Shape) == 0 || x.Shape[0] != n {
			return nil, false, nil
		}
	}
	sp := &s.splits
	if p.split == 0 {
		sub := sp.free.Get()
		sub.one = imageOf(inputs, 0, sub.one)
		s.splitPlan(p, sub, sub.one, want)
		sp.free.Put(sub)
		if p.split > 0 {
			if err := s.warmSplit(min(n, kernels.Threads()), inputs, want); err != nil {
				return nil, true, err
			}
		}
	}
	if p.split < 0 {
		return nil, false, nil
	}
	if p.splitOuts == nil {
		p.splitOuts = make([]*tensor.Tensor, len(p.outs))
		for i, o := range p.outs {
			p.splitOuts[i] = tensor.New(o.Shape...)
		}
	}
	// Copies of the slices: keeping the caller's would move its
	// variadic argument array to the heap at every Run.
	sp.inputs = append(sp.inputs[:0], inputs...)
	sp.want = append(sp.want[:0], want...)
	sp.task = splitTask{s: s, inputs: sp.inputs, want: sp.want, outs: p.splitOuts}
	sp.err = nil
	kernels.Parallel(n, 1, &sp.task)
	sp.task = splitTask{}
	clear(sp.inputs)
	if sp.err != nil {
		return nil, true, sp.err
	}
	return p.splitOuts, true, nil
}

// warmSplit readies k single-image sessions, one for each core a split
// can take, by running image 0 on each (their plans and buffers made),
// so that later split runs allocate nothing whichever cores take part
// (under load, a core that was slow to join the first runs could join a
// later one and need a session of its own).
func (s *Session) warmSplit(k int, inputs []*tensor.Tensor, want []*Value) error {
	sp := &s.splits
	subs := make([]*Session, k)
	for i := range subs {
		subs[i] = sp.free.Get()
	}
	defer func() {
		for _, sub := range subs {
			sp.free.Put(sub)
		}
	}()
	for _, sub := range subs {
		sub.one = imageOf(inputs, 0, sub.one)
		if _, err := sub.run(false, sub.one, want); err != nil {
			return err
		}
	}
	return nil
}

// imageOf returns views of image i of each input, reusing dst.
func imageOf(inputs []*tensor.Tensor, i int, dst []*tensor.Tensor) []*tensor.Tensor {
	if len(dst) != len(inputs) {
		dst = make([]*tensor.Tensor, len(inputs))
		for j := range dst {
			dst[j] = &tensor.Tensor{}
		}
	}
	for j, x := range inputs {
		per := len(x.Data) / x.Shape[0]
		dst[j].Shape = append(append(dst[j].Shape[:0], 1), x.Shape[1:]...)
		dst[j].Data = x.Data[i*per : (i+1)*per]
	}
	return dst
}

// newSub makes a single-image session for s's batch splitting (the
// free list's New, set by NewSession).
func (s *Session) newSub() *Session {
	sub := s.g.NewSession()
	sub.backend, sub.noSplit = s.backend, true
	return sub
}

// splitTask runs images [lo, hi) of a split request, one at a time, on a
// single-image session of its own.
type splitTask struct {
	s      *Session
	inputs []*tensor.Tensor
	want   []*Value
	outs   []*tensor.Tensor
}

func (t *splitTask) Run(lo, hi int) {
	sp := &t.s.splits
	sub := sp.free.Get()
	defer sp.free.Put(sub)
	for i := lo; i < hi; i++ {
		sub.one = imageOf(t.inputs, i, sub.one)
		ys, err := sub.run(false, sub.one, t.want)
		if err != nil {
			sp.mu.Lock()
			if sp.err == nil {
				sp.err = err
			}
			sp.mu.Unlock()
			return
		}
		for j, y := range ys {
			copy(t.outs[j].Data[i*len(y.Data):(i+1)*len(y.Data)], y.Data)
		}
	}
}
