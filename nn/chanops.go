package nn

import "github.com/dlcv-go/dlcv/internal/kernels"

// Per-channel passes shared by BatchNorm and PReLU: the data is rows of c
// channels (the last axis), split into chunks of whole rows that
// kernels.Parallel hands to the cores, each chunk computed by the
// kernels.Chan* kernels. Reductions write one partial sum per chunk and
// channel, which the caller adds in chunk order, so results do not depend
// on the number of threads.

// chanChunkVals is about how many values one chunk holds: large enough to
// amortise the per-chunk work, small enough to balance the cores.
const chanChunkVals = 1 << 14

// chanMode selects what chanTask computes.
type chanMode uint8

const (
	// chanStats: part = sum(x-ref), sum((x-ref)^2) per channel.
	chanStats chanMode = iota
	// chanAffine: y = act((x-mean)*a + b + res), res where not nil.
	chanAffine
	// chanScale: y = dy*a.
	chanScale
	// chanGradSums: part = sum(dy), sum(dy*(x-mean)) (0 when x is nil);
	// and y = dy*a when y is not nil. With yact, dy is first replaced by
	// g = dy*act'(yact), which is written to g.
	chanGradSums
	// chanGradInput: y = a*dy + b*(x-mean) + cc.
	chanGradInput
	// chanPReLU: y = x where x > 0, a*x elsewhere.
	chanPReLU
	// chanPReLUGrad: part = sum(dy*x) where x <= 0 (the first sum); and
	// y = dy where x > 0, a*dy elsewhere, when y is not nil.
	chanPReLUGrad
)

// chanTask is one per-channel pass over rows of c values.
type chanTask struct {
	mode           chanMode
	c, rows        int
	rowsPer        int // rows per chunk
	x, y, dy       []float32
	res            []float32 // chanAffine: added before act, when not nil
	mean, a, b, cc []float32 // per channel
	ref            []float64 // per channel (chanStats)
	part           []float64 // per chunk: 2*c sums
	act            Act       // chanAffine, chanGradSums (with yact)
	yact, g        []float32 // chanGradSums: the activation's output, g
}

// setup fixes the chunking for n values of c channels and returns the
// number of chunks.
func (t *chanTask) setup(n, c int) int {
	t.c, t.rows = c, n/c
	t.rowsPer = max(1, chanChunkVals/c)
	return (t.rows + t.rowsPer - 1) / t.rowsPer
}

// grain is the smallest number of chunks worth a core (see ewGrain).
func (t *chanTask) grain() int { return max(1, ewGrain/(t.rowsPer*t.c)) }

// Run processes chunks [lo, hi).
func (t *chanTask) Run(lo, hi int) {
	c := t.c
	for k := lo; k < hi; k++ {
		r0 := k * t.rowsPer
		r1 := min(r0+t.rowsPer, t.rows)
		lo, hi := r0*c, r1*c
		switch t.mode {
		case chanStats:
			s1, s2 := t.sums(k)
			kernels.ChanMoments(s1, s2, t.x[lo:hi], t.ref[:c])
		case chanAffine:
			kernels.ChanAffine(t.y[lo:hi], t.x[lo:hi], t.mean[:c], t.a[:c], t.b[:c])
			if t.res != nil {
				kernels.Add(t.y[lo:hi], t.res[lo:hi])
			}
			if t.act.Kind != "" { // while the chunk is in cache
				t.act.Apply(t.y[lo:hi])
			}
		case chanScale:
			kernels.ChanScale(t.y[lo:hi], t.dy[lo:hi], t.a[:c])
		case chanGradSums:
			s1, s2 := t.sums(k)
			dy := t.dy[lo:hi]
			if t.yact != nil {
				t.act.GradFromOutput(t.g[lo:hi], dy, t.yact[lo:hi])
				dy = t.g[lo:hi]
			}
			if t.x == nil { // only sum(dy) wanted
				for r := 0; r < len(dy); r += c {
					for j, v := range dy[r : r+c][:len(s1)] {
						s1[j] += float64(v)
					}
				}
			} else {
				kernels.ChanGradSums(s1, s2, dy, t.x[lo:hi], t.mean[:c])
			}
			if t.y != nil { // the chunk is in cache
				kernels.ChanScale(t.y[lo:hi], dy, t.a[:c])
			}
		case chanGradInput:
			kernels.ChanGradInput(t.y[lo:hi], t.dy[lo:hi], t.x[lo:hi], t.mean[:c], t.a[:c], t.b[:c], t.cc[:c])
		case chanPReLU:
			kernels.ChanPReLU(t.y[lo:hi], t.x[lo:hi], t.a[:c])
		case chanPReLUGrad:
			s1, _ := t.sums(k)
			var dx []float32
			if t.y != nil {
				dx = t.y[lo:hi]
			}
			kernels.ChanPReLUGrad(s1, dx, t.dy[lo:hi], t.x[lo:hi], t.a[:c])
		}
	}
}

// sums returns chunk k's two cleared partial sums.
func (t *chanTask) sums(k int) (s1, s2 []float64) {
	p := t.part[2*k*t.c : 2*(k+1)*t.c]
	clear(p)
	return p[:t.c], p[t.c:]
}

// total adds the partial sums of chunks chunks in order into acc (2*c
// values: the first sums, then the second).
func (t *chanTask) total(chunks int, acc []float64) {
	clear(acc)
	for k := range chunks {
		p := t.part[2*k*t.c : 2*(k+1)*t.c]
		for j, v := range p {
			acc[j] += v
		}
	}
}

// chanRunner runs chanTasks over the cores, keeping the reduction buffers
// between calls (an op's per-session state holds one).
type chanRunner struct {
	task chanTask
	part []float64 // per chunk: two sums per channel
	acc  []float64 // the two per-channel sums of the last reduction
}

// pass runs r.task (set up by the caller, apart from the chunking) on n
// values of c channels; for a reduction it returns the two per-channel
// sums, added over the chunks in order. The sums stay valid until the
// next pass.
func (r *chanRunner) pass(n, c int, reduce bool) (s1, s2 []float64) {
	t := &r.task
	chunks := t.setup(n, c)
	if reduce {
		if need := chunks * 2 * c; len(r.part) < need {
			r.part = make([]float64, need)
		}
		if len(r.acc) != 2*c {
			r.acc = make([]float64, 2*c)
		}
		t.part = r.part
	}
	kernels.Parallel(chunks, t.grain(), t)
	*t = chanTask{} // drop the references to the tensors
	if !reduce {
		return nil, nil
	}
	t.c, t.part = c, r.part
	t.total(chunks, r.acc)
	t.part = nil
	return r.acc[:c], r.acc[c:]
}
