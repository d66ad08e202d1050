package nn

import (
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/tensor"
)

// Op is one operation of a Graph: its configuration (exported fields with
// JSON tags, which model files store) and its weights (Params). An Op keeps
// no per-call state: what Forward saves for Backward, and buffers it reuses
// between calls, live in the Call the engine passes, so one Graph serves
// many Sessions (concurrent inference callers) with one copy of the weights.
//
// Shapes carry the batch axis first. A dimension of -1 is unknown until run
// time (the batch size; an image size a fully convolutional graph accepts
// at any value); ops propagate it.
type Op interface {
	// Kind is the type name Summary prints and model files store ("Conv2D").
	Kind() string
	// Shapes returns the output shapes for input shapes in, or an error
	// that names the shapes and the setting that do not fit. It is called
	// when the graph is built (with -1 for unknown dimensions) and when a
	// Session first sees concrete input shapes.
	Shapes(in [][]int) ([][]int, error)
	// Build creates the op's weights for input shapes in (as given to
	// Shapes at build time), drawing initial values from rng. Ops without
	// weights do nothing. A graph only calls it while Params is empty: an
	// op that already has weights is shared and keeps them. Shapes must
	// then refuse inputs the weights do not fit.
	Build(in [][]int, rng *rand.Rand) error
	// Params lists the weights and state (batch-norm statistics); nil if none.
	Params() []*Param
	// Forward computes out from in. Both have the shapes Shapes gave; out's
	// contents are undefined on entry (for an InPlace op out[0] may share
	// in[0]'s storage).
	Forward(c *Call, in, out []*tensor.Tensor) error
	// Backward takes dL/dout and writes dL/din[i] for every din[i] that is
	// not nil (overwriting it), and adds dL/dparam into the Grad of every
	// param that has one. in and out are Forward's tensors where the op
	// needs them (see Saver); the others are nil. A nil dout[i] is zero.
	Backward(c *Call, in, out, dout, din []*tensor.Tensor) error
}

// Saver is implemented by ops whose Backward reads only some of Forward's
// tensors, so the engine frees the others early. Ops without it get all of
// their inputs and outputs.
type Saver interface {
	// Saves reports whether Backward reads the inputs and the outputs.
	Saves() (inputs, outputs bool)
}

// InPlacer is implemented by element-wise ops whose Forward may write
// out[0] over in[0] (same shape) when nothing else needs in[0].
type InPlacer interface {
	InPlace() bool
}

// Aliaser is implemented by ops whose single output is their first input
// reshaped (Flatten, Reshape, Squeeze): the engine makes out[0] a view of
// in[0]'s data (and din[0] a view of dout[0]) instead of copying. Forward
// and Backward then have nothing to do.
type Aliaser interface {
	Alias() bool
}

// NoGrad is implemented by ops whose input i has no gradient (an integer
// index, a shape): the engine does not ask Backward for din[i].
type NoGrad interface {
	NoGrad(i int) bool
}

// Call is what the engine hands an op for one node in one Session.
type Call struct {
	// Train selects training behaviour: dropout active, batch norm using
	// and updating batch statistics.
	Train bool
	// State is the op's own storage in this Session: what Forward saves for
	// Backward and buffers it reuses. Nil at the first call; the op sets it.
	State any
	// RNG draws random numbers for ops that need them (Dropout). The model
	// seeds it per node (Graph.Reseed), so runs are reproducible.
	RNG *rand.Rand

	node *Node
	s    *Session
	// frozen is the graph's freeze generation for this run (frozen.go),
	// 0 when its weights may change.
	frozen uint64
}

// Name is the node's name, for error messages.
func (c *Call) Name() string {
	if c.node == nil {
		return ""
	}
	return c.node.Name
}

// Scratch returns n floats of temporary memory, valid until the op returns.
// All nodes of a Session share it, so it costs nothing between calls.
func (c *Call) Scratch(n int) []float32 {
	if c.s == nil {
		return make([]float32, n)
	}
	return c.s.scratch(n)
}

// sub prepares s for running another op inside this call's op (a fused
// op's parts, each with its own State) and returns it.
func (c *Call) sub(s *Call) *Call {
	s.Train, s.node, s.s, s.frozen = c.Train, c.node, c.s, c.frozen
	return s
}

// stateOf returns the op state in c, creating it with newState on the first
// call (a Call made outside a Session, as tests do, gets one each time it
// has none).
func stateOf[T any](c *Call) *T {
	if s, ok := c.State.(*T); ok {
		return s
	}
	s := new(T)
	c.State = s
	return s
}

// noParams gives the Build and Params of ops without weights.
type noParams struct{}

func (noParams) Build([][]int, *rand.Rand) error { return nil }
func (noParams) Params() []*Param                { return nil }
