package nn

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Session runs a built Graph: the per-call state (activations, what
// Backward needs, op buffers) apart from the weights, which the graph's ops
// hold. Sessions of one graph are independent, so each goroutine serving
// inference takes its own (Graph.NewSession, cheap) and all share one copy
// of the weights. A Session itself is not safe for concurrent use.
//
// Memory: activations live in buffers from a pool. A buffer goes back to the
// pool after the last node that reads it has run; in training, values that
// some node's Backward reads are kept until that Backward has run, and the
// others are freed as in inference. Element-wise ops write over their input
// when nothing else reads it, and reshaping ops return views. After the
// first calls with a given input shape, a call allocates nothing.
type Session struct {
	g       *Graph
	backend Backend
	calls   []Call // by node index in topological order
	plans   []*plan
	cur     *plan // plan of the last Run, for Backward
	pool    bufPool
	vbuf    []*buffer // per value: the buffer holding it in the current run
	gbuf    []*buffer // per value: the buffer holding its gradient
	gvals   []*tensor.Tensor
	scr     []float32
	scrOff  int
	ran     bool // a Run's values are live
	// inputGrad asks Backward for the gradients of the graph inputs.
	inputGrad bool
	prof      *Profile
	frozen    uint64 // the graph's freeze generation in this run
	// Batch splitting (batchsplit.go): off, the storage, and (in a
	// single-image session) the views of the image it runs.
	noSplit bool
	splits  splitState
	one     []*tensor.Tensor
}

// maxPlans is how many input-shape plans a session keeps (training
// alternates the training batch, a last short batch and the evaluation
// batch).
const maxPlans = 4

// NewSession returns an executor of the built graph on the CPU backend.
func (g *Graph) NewSession() *Session {
	s := &Session{g: g, backend: CPU, calls: make([]Call, len(g.order))}
	s.splits.free.New = s.newSub
	for i, n := range g.order {
		s.calls[i] = Call{node: n, s: s}
	}
	s.vbuf = make([]*buffer, len(g.values))
	s.gbuf = make([]*buffer, len(g.values))
	s.gvals = make([]*tensor.Tensor, len(g.values))
	for i := range s.gvals {
		s.gvals[i] = &tensor.Tensor{}
	}
	s.Reseed(g.seed)
	return s
}

// SetBackend selects the backend that runs the ops (CPU by default).
func (s *Session) SetBackend(b Backend) {
	s.backend = b
	s.splits.free = kernels.FreeList[Session]{New: s.newSub} // batch splitting's sessions take it too
}

// SetInputGrad makes Backward compute the gradients of the graph inputs
// (off by default: training does not need them).
func (s *Session) SetInputGrad(on bool) {
	if s.inputGrad != on {
		s.inputGrad = on
		s.plans = nil
		s.cur = nil
	}
}

// Reseed seeds the random generator of every node (Dropout's masks) from
// seed and the node's name, so that a run is reproducible and one node's
// stream does not depend on the others.
func (s *Session) Reseed(seed uint64) {
	for i := range s.calls {
		h := fnv.New64a()
		h.Write([]byte(s.calls[i].node.Name))
		s.calls[i].RNG = NewRNG(mix64(seed ^ h.Sum64()))
	}
}

// mix64 is splitmix64's finaliser: nearby seeds give unrelated streams.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// scratch hands out temporary memory for the running op (Call.Scratch).
func (s *Session) scratch(n int) []float32 {
	if s.scrOff+n > len(s.scr) {
		// Slices handed out earlier in this op call stay valid: they keep
		// the old array.
		s.scr = make([]float32, max(2*len(s.scr), s.scrOff+n))
		s.scrOff = 0
	}
	b := s.scr[s.scrOff : s.scrOff+n : s.scrOff+n]
	s.scrOff += n
	return b
}

// Run computes the graph's outputs for the inputs, in training or
// inference mode. The results are owned by the session and stay valid
// until its next Run.
func (s *Session) Run(training bool, inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	return s.run(training, inputs, s.g.outputs)
}

// RunValues computes the values want (any values of the graph, such as a
// hidden layer's activations) instead of the graph's outputs.
func (s *Session) RunValues(training bool, inputs []*tensor.Tensor, want []*Value) ([]*tensor.Tensor, error) {
	for i, v := range want {
		if v == nil || v.node == nil || v.node.g != s.g {
			return nil, fmt.Errorf("session: requested value %d is not a value of this graph", i)
		}
	}
	return s.run(training, inputs, want)
}

// step is one node of a plan.
type step struct {
	node           *Node
	call           *Call
	in, out        []*tensor.Tensor // headers into plan.vals
	inIDs, outIDs  []int
	alias, inPlace bool
	konst          *buffer // a Constant's value, handed out without copying
	backward       bool    // Backward runs: some input needs a gradient, or the op has trainable params
	saveIn         bool
	saveOut        bool
	needDIn        []bool
	bin, bout      []*tensor.Tensor // Backward's in and out (nil where not saved)
	dout, din      []*tensor.Tensor
	tmp            []*buffer // per input: a gradient to add into an existing one
}

// plan is how a Session runs one request: the nodes to run, every value's
// concrete shape, and how many times each value is read.
type plan struct {
	training bool
	inShapes [][]int
	want     []*Value
	steps    []*step
	vals     []*tensor.Tensor // per value id; nil for values this plan does not compute
	uses     []int            // per value: forward reads (+1 if requested)
	saved    []int            // per value: Backward reads (training)
	outs     []*tensor.Tensor
	ins      []*buffer // external buffers of the inputs
	inGrads  []*tensor.Tensor
	// split: whether the request splits by image (batchsplit.go), 0 not
	// yet known, 1 yes, -1 no; splitOuts then hold its results.
	split     int8
	splitOuts []*tensor.Tensor
}

func (p *plan) matches(training bool, inputs []*tensor.Tensor, want []*Value) bool {
	if p.training != training || len(p.want) != len(want) || len(p.inShapes) != len(inputs) {
		return false
	}
	for i, v := range want {
		if p.want[i] != v {
			return false
		}
	}
	for i, x := range inputs {
		if !tensor.EqualShape(p.inShapes[i], x.Shape) {
			return false
		}
	}
	return true
}

// planFor returns the cached plan for the request, or makes one.
func (s *Session) planFor(training bool, inputs []*tensor.Tensor, want []*Value) (*plan, error) {
	for i, p := range s.plans {
		if p.matches(training, inputs, want) {
			if i > 0 { // most recently used first
				copy(s.plans[1:i+1], s.plans[:i])
				s.plans[0] = p
			}
			return p, nil
		}
	}
	p, err := s.makePlan(training, inputs, want)
	if err != nil {
		return nil, err
	}
	if len(s.plans) == maxPlans {
		s.plans = s.plans[:maxPlans-1]
	}
	s.plans = slices.Insert(s.plans, 0, p)
	return p, nil
}

func (s *Session) makePlan(training bool, inputs []*tensor.Tensor, want []*Value) (*plan, error) {
	g := s.g
	if !g.built {
		return nil, fmt.Errorf("session: the graph is not built")
	}
	if len(inputs) != len(g.inputs) {
		return nil, fmt.Errorf("session: %d inputs given, the graph takes %d (%s)", len(inputs), len(g.inputs), valueList(g.inputs))
	}
	nv := len(g.values)
	p := &plan{training: training, want: slices.Clone(want), vals: make([]*tensor.Tensor, nv),
		uses: make([]int, nv), saved: make([]int, nv)}
	for i, x := range inputs {
		v := g.inputs[i]
		if x == nil {
			return nil, fmt.Errorf("session: input %d (%s) is nil", i, v.Name())
		}
		if !shapeFits(x.Shape, v.shape) {
			return nil, fmt.Errorf("session: input %q has shape %s, the graph takes %s", v.Name(), tensor.ShapeString(x.Shape), batchText(v.shape))
		}
		if len(x.Data) != tensor.Numel(x.Shape) {
			return nil, fmt.Errorf("session: input %q: %d values for shape %s", v.Name(), len(x.Data), tensor.ShapeString(x.Shape))
		}
		p.inShapes = append(p.inShapes, slices.Clone(x.Shape))
		p.vals[v.id] = &tensor.Tensor{Shape: slices.Clone(x.Shape)}
		p.ins = append(p.ins, &buffer{external: true})
	}
	// The nodes the requested values depend on.
	needed := make([]bool, len(g.order))
	var mark func(n *Node)
	mark = func(n *Node) {
		if needed[n.index] {
			return
		}
		needed[n.index] = true
		for _, v := range n.Inputs {
			mark(v.node)
		}
	}
	for _, v := range want {
		mark(v.node)
	}
	// Concrete shapes, in order.
	grad := make([]bool, nv) // a gradient flows into the value
	for _, n := range g.order {
		if !needed[n.index] {
			continue
		}
		if _, isInput := n.Op.(*InputOp); isInput {
			grad[n.Outputs[0].id] = training && s.inputGrad
			continue
		}
		st := &step{node: n, call: &s.calls[n.index]}
		shapes := make([][]int, len(n.Inputs))
		for i, v := range n.Inputs {
			st.in = append(st.in, p.vals[v.id])
			st.inIDs = append(st.inIDs, v.id)
			shapes[i] = p.vals[v.id].Shape
		}
		outs, err := n.Op.Shapes(shapes)
		if err != nil {
			return nil, nodeError(n, shapes, err)
		}
		if len(outs) != len(n.Outputs) {
			return nil, nodeError(n, shapes, fmt.Errorf("gives %d outputs at run time, %d when built", len(outs), len(n.Outputs)))
		}
		for i, o := range outs {
			for _, d := range o {
				if d < 0 {
					return nil, nodeError(n, shapes, fmt.Errorf("output %d has unknown shape %s at run time", i, shapeText(o)))
				}
			}
			v := n.Outputs[i]
			t := &tensor.Tensor{Shape: slices.Clone(o)}
			p.vals[v.id] = t
			st.out = append(st.out, t)
			st.outIDs = append(st.outIDs, v.id)
		}
		if k, ok := n.Op.(*Constant); ok {
			st.konst = &buffer{data: k.Value.Value.Data, external: true}
		}
		if a, ok := n.Op.(Aliaser); ok && a.Alias() && len(st.in) > 0 && len(st.out) == 1 {
			if tensor.Numel(st.out[0].Shape) != tensor.Numel(st.in[0].Shape) {
				return nil, nodeError(n, shapes, fmt.Errorf("a view of %d values cannot have shape %s", tensor.Numel(st.in[0].Shape), tensor.ShapeString(st.out[0].Shape)))
			}
			st.alias = true
		}
		if ip, ok := n.Op.(InPlacer); ok && ip.InPlace() && len(st.in) > 0 && len(st.out) > 0 && tensor.EqualShape(st.in[0].Shape, st.out[0].Shape) {
			st.inPlace = true
		}
		for _, v := range n.Inputs {
			p.uses[v.id]++
		}
		if training {
			ng, _ := n.Op.(NoGrad)
			st.needDIn = make([]bool, len(n.Inputs))
			trainable := false
			for _, prm := range n.Op.Params() {
				trainable = trainable || (prm.Trainable && prm.Grad != nil)
			}
			flows := trainable
			for i, v := range n.Inputs {
				st.needDIn[i] = grad[v.id] && (ng == nil || !ng.NoGrad(i))
				flows = flows || st.needDIn[i]
			}
			st.backward = flows
			for _, v := range n.Outputs {
				grad[v.id] = flows
			}
			if flows && !st.alias {
				st.saveIn, st.saveOut = true, true
				if sv, ok := n.Op.(Saver); ok {
					st.saveIn, st.saveOut = sv.Saves()
				}
			}
		}
		p.steps = append(p.steps, st)
	}
	for _, v := range want {
		p.uses[v.id]++
		p.outs = append(p.outs, p.vals[v.id])
	}
	for _, st := range p.steps {
		if !st.backward {
			continue
		}
		if st.saveIn {
			for _, id := range st.inIDs {
				p.saved[id]++
			}
		}
		if st.saveOut {
			for _, id := range st.outIDs {
				p.saved[id]++
			}
		}
		st.bin = make([]*tensor.Tensor, len(st.in))
		st.bout = make([]*tensor.Tensor, len(st.out))
		st.dout = make([]*tensor.Tensor, len(st.out))
		st.din = make([]*tensor.Tensor, len(st.in))
		st.tmp = make([]*buffer, len(st.in))
		for i := range st.din {
			if st.needDIn[i] {
				st.din[i] = &tensor.Tensor{}
			}
		}
	}
	p.inGrads = make([]*tensor.Tensor, len(g.inputs))
	return p, nil
}

// shapeFits reports whether a concrete shape matches a declared one (-1
// matches any size).
func shapeFits(have, want []int) bool {
	if len(have) != len(want) {
		return false
	}
	for i, d := range want {
		if d != -1 && have[i] != d {
			return false
		}
	}
	return true
}

func valueList(vs []*Value) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Name() + " " + shapeText(v.shape)
	}
	return fmt.Sprint(names)
}

// releaseAll returns every buffer of the previous run to the pool.
func (s *Session) releaseAll() {
	for i, b := range s.vbuf {
		if b != nil && b.refs > 0 {
			b.refs = 1
			s.unref(b)
		}
		s.vbuf[i] = nil
	}
	for i, b := range s.gbuf {
		if b != nil && b.refs > 0 {
			b.refs = 1
			s.unref(b)
		}
		s.gbuf[i] = nil
	}
	s.ran = false
}

// unref drops one reference to b, returning it to the pool at zero.
func (s *Session) unref(b *buffer) {
	b.refs--
	if b.refs == 0 && !b.external {
		s.pool.put(b)
	}
}

func (s *Session) run(training bool, inputs []*tensor.Tensor, want []*Value) ([]*tensor.Tensor, error) {
	s.releaseAll()
	s.cur = nil
	s.frozen = s.g.frozen.Load()
	if training {
		s.frozen = 0 // training reads the weights as they are
		// An optimizer step is about to change the trained weights: their
		// frozen copies, shared with any graph, go.
		for _, p := range s.g.params {
			if p.Grad != nil {
				p.dropCopy()
			}
		}
	}
	p, err := s.planFor(training, inputs, want)
	if err != nil {
		return nil, err
	}
	if !training {
		if outs, ok, err := s.runSplit(p, inputs, want); ok {
			return outs, err
		}
	}
	for i, x := range inputs {
		v := s.g.inputs[i]
		b := p.ins[i]
		b.refs = p.uses[v.id] + p.saved[v.id]
		p.vals[v.id].Data = x.Data
		s.vbuf[v.id] = b
	}
	for _, st := range p.steps {
		var t0 time.Time
		if s.prof != nil {
			t0 = time.Now()
		}
		if err := s.forward(p, st); err != nil {
			s.releaseAll()
			return nil, fmt.Errorf("node %q (%s): %w", st.node.Name, st.node.Op.Kind(), err)
		}
		if s.prof != nil {
			s.prof.add(st.node, time.Since(t0), false)
		}
	}
	if s.prof != nil {
		s.prof.Runs++
	}
	s.cur = p
	s.ran = true
	return p.outs, nil
}

func (s *Session) forward(p *plan, st *step) error {
	if st.konst != nil {
		id := st.outIDs[0]
		st.konst.refs = p.uses[id] + p.saved[id]
		st.out[0].Data = st.konst.data
		s.vbuf[id] = st.konst
		return nil
	}
	for i, t := range st.out {
		id := st.outIDs[i]
		n := tensor.Numel(t.Shape)
		var b *buffer
		switch {
		case i == 0 && st.alias:
			b = s.vbuf[st.inIDs[0]]
			t.Data = st.in[0].Data[:n]
		case i == 0 && st.inPlace && s.vbuf[st.inIDs[0]].refs == 1 && !s.vbuf[st.inIDs[0]].external:
			b = s.vbuf[st.inIDs[0]] // this step is the input's last reader
			t.Data = b.data[:n]
		default:
			b = s.pool.get(n)
			t.Data = b.data[:n]
		}
		// An output nothing reads still needs a buffer to be written to;
		// it is freed right after the step.
		b.refs += max(p.uses[id]+p.saved[id], 1)
		s.vbuf[id] = b
	}
	if !st.alias {
		s.scrOff = 0
		st.call.Train = p.training
		st.call.frozen = s.frozen
		if err := s.backend.Forward(st.node.Op, st.call, st.in, st.out); err != nil {
			return err
		}
	}
	for _, id := range st.inIDs {
		s.unref(s.vbuf[id])
	}
	for _, id := range st.outIDs {
		if p.uses[id]+p.saved[id] == 0 {
			s.unref(s.vbuf[id])
			s.vbuf[id] = nil
		}
	}
	return nil
}

// Backward takes dL/d(requested value) for each value of the last training
// Run and accumulates every trainable param's gradient. It returns the
// gradients of the graph inputs when SetInputGrad is on (nil otherwise).
// Returned tensors are owned by the session, valid until its next Run.
func (s *Session) Backward(douts ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	p := s.cur
	if p == nil || !s.ran {
		return nil, fmt.Errorf("session: Backward without a Run before it")
	}
	if !p.training {
		return nil, fmt.Errorf("session: Backward after an inference Run (call Run with training true)")
	}
	if len(douts) != len(p.want) {
		return nil, fmt.Errorf("session: %d gradients for %d outputs", len(douts), len(p.want))
	}
	for i, d := range douts {
		v := p.want[i]
		if d == nil {
			continue
		}
		if !tensor.EqualShape(d.Shape, p.vals[v.id].Shape) {
			return nil, fmt.Errorf("session: gradient %d has shape %s, output %q has %s", i, tensor.ShapeString(d.Shape), v.Name(), tensor.ShapeString(p.vals[v.id].Shape))
		}
		// Copied into a pooled buffer: the engine adds into gradients
		// where values fan out, and must not write over the caller's.
		s.addGrad(v.id, p.vals[v.id].Shape, d.Data)
	}
	s.cur = nil // Backward runs once per Run
	for k := len(p.steps) - 1; k >= 0; k-- {
		st := p.steps[k]
		if !st.backward {
			continue
		}
		var t0 time.Time
		if s.prof != nil {
			t0 = time.Now()
		}
		if err := s.backwardStep(p, st); err != nil {
			s.releaseAll()
			return nil, fmt.Errorf("node %q (%s) backward: %w", st.node.Name, st.node.Op.Kind(), err)
		}
		if s.prof != nil {
			s.prof.add(st.node, time.Since(t0), true)
		}
	}
	for i, v := range s.g.inputs {
		p.inGrads[i] = nil
		if b := s.gbuf[v.id]; b != nil {
			p.inGrads[i] = s.gvals[v.id]
		}
	}
	return p.inGrads, nil
}

// addGrad adds g (of the given shape) into value id's gradient, creating it.
func (s *Session) addGrad(id int, shape []int, g []float32) {
	gt := s.gvals[id]
	if s.gbuf[id] == nil {
		b := s.pool.get(len(g))
		b.refs = 1
		s.gbuf[id] = b
		gt.Shape = append(gt.Shape[:0], shape...)
		gt.Data = b.data[:len(g)]
		copy(gt.Data, g)
		return
	}
	kernels.Add(gt.Data, g)
}

func (s *Session) backwardStep(p *plan, st *step) error {
	any := false
	for j, id := range st.outIDs {
		st.dout[j] = nil
		if s.gbuf[id] != nil {
			st.dout[j] = s.gvals[id]
			any = true
		}
	}
	if any {
		if st.alias {
			s.aliasGrad(p, st)
		} else if err := s.runBackward(p, st); err != nil {
			return err
		}
	}
	// Release what this step held: its outputs' gradients and its saves.
	for _, id := range st.outIDs {
		if b := s.gbuf[id]; b != nil {
			s.unref(b)
			s.gbuf[id] = nil
		}
	}
	if st.saveIn {
		for _, id := range st.inIDs {
			s.unref(s.vbuf[id])
		}
	}
	if st.saveOut {
		for _, id := range st.outIDs {
			s.unref(s.vbuf[id])
		}
	}
	return nil
}

// aliasGrad passes a view op's gradient through: din is dout reshaped,
// sharing its buffer when nothing else has added to the input's gradient.
func (s *Session) aliasGrad(p *plan, st *step) {
	if !st.needDIn[0] {
		return
	}
	id, oid := st.inIDs[0], st.outIDs[0]
	shape := p.vals[id].Shape
	if s.gbuf[id] == nil {
		b := s.gbuf[oid]
		b.refs++
		s.gbuf[id] = b
		gt := s.gvals[id]
		gt.Shape = append(gt.Shape[:0], shape...)
		gt.Data = s.gvals[oid].Data
		return
	}
	kernels.Add(s.gvals[id].Data, s.gvals[oid].Data)
}

func (s *Session) runBackward(p *plan, st *step) error {
	for i, id := range st.inIDs {
		st.tmp[i] = nil
		if !st.needDIn[i] {
			continue
		}
		n := tensor.Numel(p.vals[id].Shape)
		d := st.din[i]
		d.Shape = append(d.Shape[:0], p.vals[id].Shape...)
		if s.gbuf[id] == nil {
			b := s.pool.get(n)
			b.refs = 1
			s.gbuf[id] = b
			gt := s.gvals[id]
			gt.Shape = append(gt.Shape[:0], d.Shape...)
			gt.Data = b.data[:n]
			d.Data = gt.Data
		} else {
			// The value fans out and another reader's gradient is there
			// already: this one goes to a temporary, added after.
			b := s.pool.get(n)
			b.refs = 1
			st.tmp[i] = b
			d.Data = b.data[:n]
		}
	}
	for i := range st.in {
		st.bin[i] = nil
		if st.saveIn {
			st.bin[i] = st.in[i]
		}
	}
	for j := range st.out {
		st.bout[j] = nil
		if st.saveOut {
			st.bout[j] = st.out[j]
		}
	}
	s.scrOff = 0
	if err := s.backend.Backward(st.node.Op, st.call, st.bin, st.bout, st.dout, st.din); err != nil {
		return err
	}
	for i, b := range st.tmp {
		if b != nil {
			kernels.Add(s.gvals[st.inIDs[i]].Data, st.din[i].Data)
			s.unref(b)
			st.tmp[i] = nil
		}
	}
	return nil
}

// buffer is pooled storage for one value or gradient.
type buffer struct {
	data     []float32
	refs     int
	external bool // the caller's tensor: never pooled
}

// bufPool keeps free buffers ordered by capacity.
type bufPool struct {
	free []*buffer
}

// get returns the smallest free buffer that holds n floats, or a new one.
func (p *bufPool) get(n int) *buffer {
	i, _ := slices.BinarySearchFunc(p.free, n, func(b *buffer, n int) int { return cmpInt(cap(b.data), n) })
	if i < len(p.free) {
		b := p.free[i]
		p.free = slices.Delete(p.free, i, i+1)
		return b
	}
	return &buffer{data: make([]float32, n)}
}

func (p *bufPool) put(b *buffer) {
	i, _ := slices.BinarySearchFunc(p.free, cap(b.data), func(b *buffer, n int) int { return cmpInt(cap(b.data), n) })
	p.free = slices.Insert(p.free, i, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Backend runs ops: the seam where an accelerator backend (XLA/PJRT for
// GPUs and TPUs) would plug in, as ONNX Runtime's execution providers do.
// CPU, the ops' own Forward and Backward on internal/kernels, is the only
// one today.
type Backend interface {
	Name() string
	// Supports reports whether the backend can run op.
	Supports(op Op) bool
	Forward(op Op, c *Call, in, out []*tensor.Tensor) error
	Backward(op Op, c *Call, in, out, dout, din []*tensor.Tensor) error
}

// CPU is the backend of the ops' own kernels.
var CPU Backend = cpuBackend{}

type cpuBackend struct{}

func (cpuBackend) Name() string        { return "cpu" }
func (cpuBackend) Supports(op Op) bool { return true }
func (cpuBackend) Forward(op Op, c *Call, in, out []*tensor.Tensor) error {
	return op.Forward(c, in, out)
}
func (cpuBackend) Backward(op Op, c *Call, in, out, dout, din []*tensor.Tensor) error {
	return op.Backward(c, in, out, dout, din)
}
