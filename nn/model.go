package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/tensor"
)

// Model is what training, evaluation, prediction and saving work with: a
// network with one input and one output. Graph implements it, and so does
// Sequential (a chain-shaped Graph).
//
// The methods run on one Session the model owns, so a Model is not safe
// for concurrent use; for concurrent inference give each goroutine its own
// Graph().NewSession() (they share the weights), or use Predictor.
type Model interface {
	// InputShape and OutputShape are per-sample shapes, without the
	// batch axis: (28, 28, 1) and (10,) for LeNet.
	InputShape() []int
	OutputShape() []int
	// Forward runs a batch through the model in training or inference
	// mode. The result is owned by the model, valid until its next call.
	Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error)
	// Predict is Forward in inference mode.
	Predict(x *tensor.Tensor) (*tensor.Tensor, error)
	// Backward takes dL/dy for the last training Forward, adds every
	// param's gradient into its Grad and returns dL/dx (nil: the input's
	// gradient is not computed).
	Backward(dy *tensor.Tensor) (*tensor.Tensor, error)
	// TrainStep zeroes the gradients, runs Forward in training mode, the
	// loss and Backward, and returns the loss (see Graph.TrainStep).
	TrainStep(x, target *tensor.Tensor, loss Loss) (float64, error)
	// TrainOutput is the last TrainStep's output (logits where the final
	// softmax was fused into the loss): its argmax is the prediction.
	TrainOutput() *tensor.Tensor
	// Params lists the weights and state in node order.
	Params() []*Param
	// Reseed seeds the random streams of the model's nodes (dropout).
	Reseed(seed uint64)
	// Summary describes the model as Keras' model.summary() does.
	Summary() string
	// Graph is the graph behind the model, for saving, visualising and
	// optimising it.
	Graph() *Graph
}

// Graph returns g itself (Model).
func (g *Graph) Graph() *Graph { return g }

// session returns the session the Model methods run on: the graph with
// activations fused into the convolutions and dense layers before them
// (FuseActivations), sharing g's weights.
func (g *Graph) session() (*Session, error) {
	if !g.built {
		return nil, fmt.Errorf("graph: not built (call Build)")
	}
	if g.sess == nil {
		exec, err := FuseActivations(g)
		if err != nil {
			return nil, err
		}
		g.exec = exec
		g.sess = exec.NewSession()
		g.sess.Reseed(g.seed)
	}
	return g.sess, nil
}

// single checks that the model has one input and one output.
func (g *Graph) single() error {
	if len(g.inputs) != 1 || len(g.outputs) != 1 {
		return fmt.Errorf("graph: %d inputs and %d outputs; the Model methods need one of each (use a Session)", len(g.inputs), len(g.outputs))
	}
	return nil
}

// Forward runs x through the graph (Model).
func (g *Graph) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	s, err := g.session()
	if err != nil {
		return nil, err
	}
	if err := g.single(); err != nil {
		return nil, err
	}
	out, err := s.Run(training, x)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Predict is Forward in inference mode.
func (g *Graph) Predict(x *tensor.Tensor) (*tensor.Tensor, error) { return g.Forward(x, false) }

// Backward takes dL/dy for the last training Forward (Model). It returns a
// nil input gradient unless SetInputGrad turned it on.
func (g *Graph) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	s, err := g.session()
	if err != nil {
		return nil, err
	}
	grads, err := s.Backward(dy)
	if err != nil {
		return nil, err
	}
	return grads[0], nil
}

// SetInputGrad makes Backward return dL/dx (off by default).
func (g *Graph) SetInputGrad(on bool) error {
	s, err := g.session()
	if err != nil {
		return err
	}
	s.SetInputGrad(on)
	return nil
}

// SetProfile records the time of each node of the Model methods' runs
// into p (nil stops); see Profile.
func (g *Graph) SetProfile(p *Profile) error {
	s, err := g.session()
	if err != nil {
		return err
	}
	s.SetProfile(p)
	return nil
}

// Reseed seeds the random streams of every node (Model).
func (g *Graph) Reseed(seed uint64) {
	g.seed = seed
	if g.sess != nil {
		g.sess.Reseed(seed)
	}
}

// TrainStep computes the gradients of loss for one batch: it zeroes the
// gradients, runs Forward in training mode, evaluates the loss and runs
// Backward, returning the loss. Updating the weights is the optimizer's
// job. When the output node is a Softmax over the last axis and the loss a
// LogitsLoss, the softmax is fused into the loss (stable and cheaper).
func (g *Graph) TrainStep(x, target *tensor.Tensor, loss Loss) (float64, error) {
	s, err := g.session()
	if err != nil {
		return 0, err
	}
	if err := g.single(); err != nil {
		return 0, err
	}
	ZeroGrads(g.params)
	out := g.exec.outputs[0]
	ll, fuse := loss.(LogitsLoss)
	if sm, ok := out.node.Op.(*Softmax); !ok || !sm.lastAxis(len(out.shape)) {
		fuse = false
	}
	want := out
	if fuse {
		want = out.node.Inputs[0]
	}
	ys, err := s.RunValues(true, []*tensor.Tensor{x}, []*Value{want})
	if err != nil {
		return 0, err
	}
	y := ys[0]
	g.trainOut = y
	var l float64
	if fuse {
		l, err = ll.ForwardLogits(y, target)
	} else {
		l, err = loss.Forward(y, target)
	}
	if err != nil {
		return 0, fmt.Errorf("loss %s: %w", loss.Name(), err)
	}
	dy, err := loss.Backward()
	if err != nil {
		return 0, fmt.Errorf("loss %s backward: %w", loss.Name(), err)
	}
	if _, err := s.Backward(dy); err != nil {
		return 0, err
	}
	return l, nil
}

// TrainOutput is the output of the last TrainStep (Model).
func (g *Graph) TrainOutput() *tensor.Tensor { return g.trainOut }

// Predictor serves concurrent inference on one model: each call borrows a
// Session from a pool, so callers share the weights and the sessions'
// buffers are reused.
type Predictor struct {
	g    *Graph
	free chan *Session
}

// NewPredictor returns a predictor for the built graph that keeps at most
// maxIdle idle sessions (0 means 8). It freezes the graph (SetFrozen):
// after changing its weights, call g.SetFrozen(true) again.
func NewPredictor(g *Graph, maxIdle int) (*Predictor, error) {
	if !g.built {
		return nil, fmt.Errorf("predictor: the graph is not built")
	}
	if maxIdle <= 0 {
		maxIdle = 8
	}
	g.SetFrozen(true)
	return &Predictor{g: g, free: make(chan *Session, maxIdle)}, nil
}

// Do runs f with a session of its own; f must not keep the session or its
// results after it returns.
func (p *Predictor) Do(f func(s *Session) error) error {
	var s *Session
	select {
	case s = <-p.free:
	default:
		s = p.g.NewSession()
	}
	err := f(s)
	select {
	case p.free <- s:
	default:
	}
	return err
}

// Graph is the graph the predictor runs.
func (p *Predictor) Graph() *Graph { return p.g }
