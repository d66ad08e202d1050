package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is work over an index range [lo, hi) (images of a batch, rows of a
// matrix) whose parts can run concurrently. Layers implement it on a
// struct they own, so handing it to Parallel allocates nothing (a closure
// would escape to the heap on every call).
type Task interface {
	Run(lo, hi int)
}

var numThreads atomic.Int32

func init() { numThreads.Store(int32(runtime.GOMAXPROCS(0))) }

// Threads returns how many goroutines, the caller included, one Parallel
// call (and so one Sgemm, convolution or filter) may use. It is one
// process-wide count so that packages sharing the machine (a CLI, a
// service answering several requests) do not oversubscribe it.
func Threads() int { return int(numThreads.Load()) }

// SetThreads sets the count Threads returns; n < 1 means
// runtime.GOMAXPROCS(0). It returns the previous value.
func SetThreads(n int) int {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	return int(numThreads.Swap(int32(n)))
}

// Parallel runs t over [0, n) split into contiguous ranges of at least
// grain indices, on at most Threads() goroutines, and returns when every
// range is done. Work smaller than 2*grain runs inline: waking a worker
// costs a few microseconds, so grain should be about 20us of work.
//
// There are up to rangesPerThread ranges per goroutine, taken in turn by
// the caller and by idle workers of one persistent pool, so a core that
// is slowed (other processes, other calls) simply does fewer of them.
// Calls may nest (t.Run may call Parallel or Sgemm) and may come from
// many goroutines at once: nobody waits for a worker that is busy, and
// the workers never outnumber Threads()-1. Ranges may run in any order
// and concurrently, so per-range scratch must be indexed by range (lo),
// not by goroutine.
func Parallel(n, grain int, t Task) { ParallelLimit(n, grain, 0, t) }

// ParallelLimit is Parallel on at most limit goroutines (limit < 1, or
// above Threads(), means Threads()), for callers with a thread option of
// their own.
func ParallelLimit(n, grain, limit int, t Task) {
	if n <= 0 {
		return
	}
	threads := Threads()
	if limit > 0 {
		threads = min(threads, limit)
	}
	parts := min(rangesPerThread*threads, n/max(grain, 1))
	if threads <= 1 || parts <= 1 {
		t.Run(0, n)
		return
	}
	g := pool.start(t, n, parts, min(threads, parts))
	for p := 0; p >= 0; p = pool.claim(g) {
		t.Run(g.bounds(p))
	}
	pool.finish(g)
}

// rangesPerThread is how many ranges Parallel makes per goroutine at
// most: enough that a goroutine slowed to half speed delays the call by
// an eighth of its work at worst, few enough that claiming them (a
// mutex each) costs nothing next to a grain.
const rangesPerThread = 4

// ParallelFunc is Parallel for a function. The closure escapes, so each
// call allocates it: hot paths should give Parallel a Task.
func ParallelFunc(n, grain int, f func(lo, hi int)) {
	Parallel(n, grain, funcTask(f))
}

type funcTask func(lo, hi int)

func (f funcTask) Run(lo, hi int) { f(lo, hi) }

// group is one Parallel call: parts are claimed in order, by the caller
// and by workers, under pool.mu.
type group struct {
	t        Task
	n, parts int
	next     int           // next unclaimed part
	maxHelp  int           // at most this many workers at once
	waiting  bool          // the caller waits on done for helpers to reach 0
	done     chan struct{} // capacity 1
	// helpers is the number of parts being run by workers: changed
	// under pool.mu, polled without it by the caller waiting for them.
	helpers atomic.Int32
}

func (g *group) bounds(p int) (lo, hi int) { return p * g.n / g.parts, (p + 1) * g.n / g.parts }

// workPool is shared by all Parallel calls. Workers run parts of the
// oldest open group; a worker that finishes a part looks for more before
// sleeping, so a new call never misses a worker that is just finishing.
type workPool struct {
	mu      sync.Mutex
	wake    sync.Cond // signalled when parts become available
	open    []*group  // groups with unclaimed parts, oldest first
	free    []*group  // finished groups, reused so calls allocate nothing
	workers int
	idle    int           // workers waiting on wake
	gen     atomic.Uint64 // groups opened so far, polled by spinning workers
}

// spinFor is how long an idle worker, and a caller waiting for its
// helpers, poll before they sleep. A model's layers follow one another
// within microseconds, but waking a sleeping thread costs a futex call
// and, on a virtual machine, waking the idle virtual CPU: tens of
// microseconds, more than many a layer's whole part. The pollers yield
// (runtime.Gosched) between polls, so goroutines that have work run
// first.
const spinFor = 200 * time.Microsecond

// spin polls done until it reports true or spinFor has passed, and
// returns done's last answer.
func spin(done func() bool) bool {
	var t0 time.Time
	for i := 0; ; i++ {
		if done() {
			return true
		}
		if i&63 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > spinFor {
				return false
			}
		}
		runtime.Gosched()
	}
}

var pool = func() *workPool {
	p := new(workPool)
	p.wake.L = &p.mu
	return p
}()

// start opens a group whose part 0 the caller has claimed; up to
// threads-1 workers may help.
func (p *workPool) start(t Task, n, parts, threads int) *group {
	p.mu.Lock()
	for ; p.workers < threads-1; p.workers++ {
		go p.work()
	}
	var g *group
	if k := len(p.free); k > 0 {
		g, p.free = p.free[k-1], p.free[:k-1]
	} else {
		g = &group{done: make(chan struct{}, 1)}
	}
	g.t, g.n, g.parts, g.next, g.maxHelp = t, n, parts, 1, threads-1
	g.helpers.Store(0)
	p.open = append(p.open, g)
	p.gen.Add(1)
	woken := min(threads-1, p.idle)
	for i := woken; i > 0; i-- {
		p.wake.Signal()
	}
	p.mu.Unlock()
	if woken > 0 {
		// A woken worker waits in this P's runnext slot, which other Ps
		// steal only after a sleep that timer slack stretches to ~50us or
		// more. Yielding runs it here at once; the caller resumes on the
		// P its wake-up started.
		runtime.Gosched()
	}
	return g
}

// claim returns the next part of g for its caller, or -1 when none is left.
func (p *workPool) claim(g *group) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g.next >= g.parts {
		return -1
	}
	return p.take(g)
}

// take claims the next part of g (p.mu held); the last one closes g.
func (p *workPool) take(g *group) int {
	i := g.next
	if g.next++; g.next == g.parts {
		for j, o := range p.open {
			if o == g {
				p.open = append(p.open[:j], p.open[j+1:]...)
				break
			}
		}
	}
	return i
}

// finish waits for the parts that workers still run and recycles g.
func (p *workPool) finish(g *group) {
	if g.helpers.Load() > 0 {
		spin(func() bool { return g.helpers.Load() == 0 })
	}
	p.mu.Lock()
	if g.helpers.Load() > 0 {
		g.waiting = true
		p.mu.Unlock()
		<-g.done
		p.mu.Lock()
	}
	g.t = nil
	p.free = append(p.free, g)
	p.mu.Unlock()
}

func (p *workPool) work() {
	p.mu.Lock()
	for {
		g := p.helpable()
		if g == nil {
			// Poll for a new group a while before sleeping; a group
			// opened after the last poll is seen under the lock, and
			// one opened after that finds this worker idle and wakes it.
			gen := p.gen.Load()
			p.mu.Unlock()
			spin(func() bool { return p.gen.Load() != gen })
			p.mu.Lock()
			if p.gen.Load() != gen {
				continue
			}
			p.idle++
			p.wake.Wait()
			p.idle--
			continue
		}
		part := p.take(g)
		g.helpers.Add(1)
		p.mu.Unlock()
		g.t.Run(g.bounds(part))
		p.mu.Lock()
		if g.helpers.Add(-1) == 0 && g.waiting {
			g.waiting = false
			g.done <- struct{}{}
		}
	}
}

// helpable returns the oldest open group that may take another worker
// (p.mu held), or nil.
func (p *workPool) helpable() *group {
	for _, g := range p.open {
		if int(g.helpers.Load()) < g.maxHelp {
			return g
		}
	}
	return nil
}
