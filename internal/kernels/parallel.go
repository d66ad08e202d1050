package kernels

import "sync"

// Task is work over an index range [lo, hi) (images of a batch, rows of a
// matrix) whose parts can run concurrently. Layers implement it on a
// struct they own, so handing it to Parallel allocates nothing (a closure
// would escape to the heap on every call).
type Task interface {
	Run(lo, hi int)
}

// Parallel runs t over [0, n) split into at most Threads() contiguous
// ranges of at least grain indices, on the calling goroutine and on
// persistent workers, and returns when every range is done. Work smaller
// than 2*grain runs inline: waking a worker costs a few microseconds, so
// grain should be about 20us of work. t.Run must not call Parallel (the
// workers would wait on each other); it may call Sgemm, whose pool is
// separate, or SgemmSerial.
func Parallel(n, grain int, t Task) {
	if n <= 0 {
		return
	}
	parts := min(Threads(), n/max(grain, 1))
	if parts <= 1 {
		t.Run(0, n)
		return
	}
	ensureParWorkers(parts - 1)
	g := getParGroup()
	g.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		parTasks <- parTask{t: t, lo: w * n / parts, hi: (w + 1) * n / parts, g: g}
	}
	t.Run(0, n/parts)
	g.wg.Wait()
	putParGroup(g)
}

type parGroup struct{ wg sync.WaitGroup }

type parTask struct {
	t      Task
	lo, hi int
	g      *parGroup
}

var (
	parMu     sync.Mutex
	parFree   []*parGroup // reused, so a steady stream of calls allocates nothing
	parActive int
	parTasks  = make(chan parTask)
)

func ensureParWorkers(n int) {
	parMu.Lock()
	for ; parActive < n; parActive++ {
		go func() {
			for pt := range parTasks {
				pt.t.Run(pt.lo, pt.hi)
				pt.g.wg.Done()
			}
		}()
	}
	parMu.Unlock()
}

func getParGroup() *parGroup {
	parMu.Lock()
	defer parMu.Unlock()
	if n := len(parFree); n > 0 {
		g := parFree[n-1]
		parFree = parFree[:n-1]
		return g
	}
	return new(parGroup)
}

func putParGroup(g *parGroup) {
	parMu.Lock()
	parFree = append(parFree, g)
	parMu.Unlock()
}
