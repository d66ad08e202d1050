package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countTask struct {
	seen []atomic.Int32
}

func (c *countTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		c.seen[i].Add(1)
	}
}

func (c *countTask) check(t *testing.T, what string) {
	t.Helper()
	for i := range c.seen {
		if v := c.seen[i].Load(); v != 1 {
			t.Fatalf("%s: index %d run %d times", what, i, v)
		}
	}
}

func TestParallelCoversRangeOnce(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	for _, n := range []int{0, 1, 2, 5, 64, 1000} {
		for _, grain := range []int{0, 1, 4, 100} {
			ct := &countTask{seen: make([]atomic.Int32, n)}
			Parallel(n, grain, ct)
			ct.check(t, "Parallel")
		}
	}
}

func TestParallelAllocatesNothing(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	ct := &countTask{seen: make([]atomic.Int32, 100)}
	Parallel(100, 1, ct)
	if a := testing.AllocsPerRun(50, func() { Parallel(100, 1, ct) }); a != 0 {
		t.Errorf("Parallel allocates %v times per call", a)
	}
}

// peakTask records the most ranges running at once; each range sleeps so
// that every available thread gets to take one.
type peakTask struct {
	running, peak atomic.Int32
	ranges        atomic.Int32
	inner         Task // run inside each range, when set
	innerN        int
}

func (p *peakTask) Run(lo, hi int) {
	p.ranges.Add(1)
	r := p.running.Add(1)
	for {
		old := p.peak.Load()
		if r <= old || p.peak.CompareAndSwap(old, r) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	if p.inner != nil {
		Parallel(p.innerN, 1, p.inner)
	}
	p.running.Add(-1)
}

// Up to rangesPerThread ranges per thread, but at most Threads()
// goroutines at once (and at most the limit of ParallelLimit).
func TestParallelRespectsThreads(t *testing.T) {
	for _, th := range []int{1, 2, 5} {
		for _, limit := range []int{0, 1, 2, 3, 9} {
			prev := SetThreads(th)
			pt := &peakTask{}
			ParallelLimit(64, 1, limit, pt)
			SetThreads(prev)
			g := th
			if limit > 0 {
				g = min(th, limit)
			}
			want := min(rangesPerThread*g, 64)
			if g == 1 {
				want = 1 // inline, one range
			}
			if r := int(pt.ranges.Load()); r != want {
				t.Errorf("Threads %d limit %d: %d ranges, want %d", th, limit, r, want)
			}
			if p := int(pt.peak.Load()); p > g {
				t.Errorf("Threads %d limit %d: %d ranges ran at once", th, limit, p)
			}
		}
	}
}

// stallTask stalls in range 0 (always the caller's) and counts the other
// ranges finished meanwhile.
type stallTask struct {
	done, doneDuringStall atomic.Int32
}

func (s *stallTask) Run(lo, hi int) {
	if lo == 0 {
		time.Sleep(300 * time.Millisecond)
		s.doneDuringStall.Store(s.done.Load())
		return
	}
	time.Sleep(time.Millisecond)
	s.done.Add(1)
}

// A goroutine that is slowed does fewer ranges: while the caller stalls,
// the worker takes every other range.
func TestParallelBalancesSlowThread(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	s := &stallTask{}
	Parallel(1000, 1, s)
	if got, want := int(s.doneDuringStall.Load()), 2*rangesPerThread-1; got != want {
		t.Errorf("%d ranges done while the caller stalled, want all %d others", got, want)
	}
}

// Nested calls, and calls from many goroutines at once, complete and
// cover their ranges: a caller never waits for a busy worker.
func TestParallelNestedAndConcurrent(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 5 {
					inner := &countTask{seen: make([]atomic.Int32, 50)}
					outer := &peakTask{inner: inner, innerN: 50}
					Parallel(3, 1, outer)
					if outer.ranges.Load() != 3 {
						t.Errorf("outer ran %d ranges, want 3", outer.ranges.Load())
					}
					for i := range inner.seen {
						if v := inner.seen[i].Load(); v != 3 { // once per outer range
							t.Errorf("inner index %d run %d times, want 3", i, v)
							return
						}
					}
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("nested Parallel calls deadlocked")
	}
}

func TestParallelFunc(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	ct := &countTask{seen: make([]atomic.Int32, 333)}
	ParallelFunc(333, 10, ct.Run)
	ct.check(t, "ParallelFunc")
}

type nopTask struct{}

func (nopTask) Run(lo, hi int) {}

// BenchmarkParallelOverhead is the cost of one call that wakes a worker
// for no work: back-to-back, as between the layers of a network.
func BenchmarkParallelOverhead(b *testing.B) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	b.ReportAllocs()
	for b.Loop() {
		Parallel(2, 1, nopTask{})
	}
}
