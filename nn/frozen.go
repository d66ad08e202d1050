package nn

import (
	"sync"
	"sync/atomic"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Frozen weights. A graph whose weights will not change (inference with
// a loaded model) can say so with SetFrozen; ops may then keep copies of
// their weights in the forms their kernels read fastest, made once at
// the first inference run and shared by every session of the graph, as
// ONNX Runtime prepares its weights at session creation: Conv2D keeps its
// kernel packed in the GEMM micro-kernel's column panels and, on the
// Winograd path, transformed.
//
// Each SetFrozen(true) opens a new generation (a number no other freeze
// of any graph has); a copy is valid for the generation it was made in
// only, so a graph refrozen after its weights changed never sees stale
// copies.

// freezeGens numbers the generations; 0 means not frozen.
var freezeGens atomic.Uint64

// SetFrozen declares the graph's weights constant (true) or not (false,
// the default). While frozen, a change to a Param's values is not seen
// by ops that keep copies: set the weights first, or call WeightsChanged
// (or SetFrozen(true) again) after changing them. A training run (of this graph or of any
// other sharing the Params) drops the copies of the weights it trains,
// which the optimizer step after it changes. Predictor freezes the graph
// it serves, and onnx.Imported.Run its graph.
func (g *Graph) SetFrozen(on bool) {
	if on {
		g.frozen.Store(freezeGens.Add(1))
		return
	}
	g.frozen.Store(0)
	for _, p := range g.params {
		p.dropCopy()
	}
}

// dropCopy frees p's derived copy.
func (p *Param) dropCopy() { p.frozenCopy(0, nil) }

// WeightsChanged tells frozen graphs that the values of params were
// changed by hand (copied in from a file or a checkpoint): their copies
// are made again at the next run.
func WeightsChanged(params []*Param) {
	for _, p := range params {
		p.dropCopy()
	}
}

// Frozen reports whether the graph's weights are declared constant.
func (g *Graph) Frozen() bool { return g.frozen.Load() != 0 }

// derived is a Param's copy in another form for one generation, kept
// with the Param so that the ops sharing it (a graph and its fused copy)
// share the copy too, and it goes when the weights go.
type derived struct {
	mu  sync.Mutex
	gen uint64
	of  []float32 // the values it was made from (a copied Param with new values is another)
	val any
}

// derivedInit guards the lazy creation of Params' derived copies.
var derivedInit sync.Mutex

// frozenCopy returns p's derived copy for generation gen, making it with
// build the first time (concurrent sessions wait for one build); with gen
// 0 it drops the copy and returns nil.
func (p *Param) frozenCopy(gen uint64, build func() any) any {
	derivedInit.Lock()
	d := p.derived
	if d == nil {
		if gen == 0 {
			derivedInit.Unlock()
			return nil
		}
		d = new(derived)
		p.derived = d
	}
	derivedInit.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen == 0 {
		d.gen, d.of, d.val = 0, nil, nil
		return nil
	}
	v := p.Value.Data
	if d.gen != gen || d.val == nil || len(d.of) != len(v) || (len(v) > 0 && &d.of[0] != &v[0]) {
		d.gen, d.of, d.val = gen, v, build()
	}
	return d.val
}

// convFrozen is a Conv2D kernel's copies in a frozen graph, each made the
// first time a path needs it.
type convFrozen struct {
	packOnce, winoOnce sync.Once
	packed             *kernels.PackedB // (KH*KW*Cin) x F in GEMM panels
	// wino is the Winograd-transformed kernel (winoWeights), its planes
	// packed in panels (kernels.PackPlanes) when winoPacked.
	wino       []float32
	winoPacked bool
}

// frozenConv returns the copies of kernel for generation gen, or nil
// when not frozen.
func frozenConv(gen uint64, kernel *Param) *convFrozen {
	if kernel == nil || gen == 0 {
		return nil
	}
	v := kernel.frozenCopy(gen, func() any { return new(convFrozen) })
	if v == nil {
		return nil
	}
	return v.(*convFrozen)
}

// packedKernel returns w ((KH*KW*Cin) x F) packed, or nil without f.
func (f *convFrozen) packedKernel(g *convGeo, w []float32) *kernels.PackedB {
	if f == nil {
		return nil
	}
	f.packOnce.Do(func() { f.packed = kernels.PackB(nil, g.ktot(), g.f, w, g.f) })
	return f.packed
}

// winoKernel returns w Winograd-transformed, and whether its planes are
// packed: where the plane products' kernel reads panels (1.6x faster on
// 512x512 planes, BenchmarkSgemmPlanesPacked).
func (f *convFrozen) winoKernel(g *convGeo, w []float32) ([]float32, bool) {
	f.winoOnce.Do(func() {
		u := g.winoWeights(nil, w)
		if !kernels.PlanesPackedSupported(g.f) {
			f.wino = u
			return
		}
		f.wino = make([]float32, kernels.PackPlanesLen(kernels.WinoPlanes, g.cin, g.f))
		kernels.PackPlanes(f.wino, kernels.WinoPlanes, g.cin, g.f, u, g.cin*g.f)
		f.winoPacked = true
	})
	return f.wino, f.winoPacked
}

// frozenDense returns a dense layer's kernel (in x units) packed for
// generation gen, or nil when not frozen, or for one row where the active
// SGEMM kernel has no one-row form (kernels.PackedOneRow: the product
// reads the kernel in place).
func frozenDense(gen uint64, kernel *Param, rows, in, units int) *kernels.PackedB {
	if gen == 0 || rows < 1 || (rows == 1 && !kernels.PackedOneRow()) || kernel == nil {
		return nil
	}
	v := kernel.frozenCopy(gen, func() any { return kernels.PackB(nil, in, units, kernel.Value.Data, units) })
	pb, _ := v.(*kernels.PackedB)
	return pb
}
