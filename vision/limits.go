package vision

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Limits bounds what one client can make the server do. Zero fields take
// the defaults shown.
type Limits struct {
	// MaxBodyBytes bounds the request body (10 MiB); larger ones get 400.
	// An image file read through imageUri has the same bound.
	MaxBodyBytes int64
	// MaxPixels bounds width*height of each image (25 megapixels),
	// checked from the header before decoding.
	MaxPixels int64
	// MaxImageBytes bounds the memory one image's pixels take decoded
	// (128 MiB): width x height x channels x bytes a channel, read from
	// the header before decoding. Images are decoded to 8 bits a channel,
	// so a 16-bit PNG costs what an 8-bit one does.
	MaxImageBytes int64
	// MaxImages bounds the images in one request (16, as Cloud Vision).
	MaxImages int
	// MaxMemory is the memory ceiling of the server (1 GiB): requests are
	// admitted while the bytes they are estimated to hold (bodies, images
	// decoded, the models' working buffers), plus what the server held
	// when it started, stay under 3/4 of it, the rest being the garbage
	// collector's headroom. Past it, requests get 429 with Retry-After.
	// 'dlcv serve' also sets Go's memory limit to it.
	MaxMemory int64
	// Concurrency is the number of requests decoding and annotating at
	// once (GOMAXPROCS).
	Concurrency int
	// Queue is how many more requests may wait for a slot (4 x
	// Concurrency); beyond that the server answers 503 at once.
	Queue int
	// QueueTimeout bounds the wait for a slot (10 s), then 503.
	QueueTimeout time.Duration

	// BodyTimeout bounds the time to receive a request body (60 s), and
	// MinBodyRate (16 KiB/s) is the slowest it may arrive at on average
	// after the first BodyGrace (5 s). Bodies are read before a work
	// slot is taken, so slow clients hold a connection, never a slot.
	BodyTimeout time.Duration
	MinBodyRate int64
	BodyGrace   time.Duration
	// RequestTimeout bounds the work on one request once its body is in
	// (60 s): past it, the work stops and the answer is 504.
	RequestTimeout time.Duration

	// Server timeouts (http.Server): ReadHeaderTimeout (10 s),
	// ReadTimeout for other endpoints' requests (60 s), WriteTimeout
	// (120 s), IdleTimeout for keep-alive connections (120 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests (30 s).
	ShutdownTimeout time.Duration
}

// Default limits.
const (
	DefaultMaxBodyBytes  = 10 << 20
	DefaultMaxPixels     = 25_000_000
	DefaultMaxImageBytes = 128 << 20
	DefaultMaxImages     = 16
	DefaultMaxMemory     = 1 << 30
	DefaultMinBodyRate   = 16 << 10
)

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxBodyBytes < 0 || l.MaxPixels < 0 || l.MaxImageBytes < 0 || l.MaxImages < 0 || l.MaxMemory < 0 ||
		l.Concurrency < 0 || l.Queue < 0 || l.MinBodyRate < 0 {
		return l, errors.New("vision: limits must not be negative")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def64(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	def64(&l.MaxPixels, DefaultMaxPixels)
	def64(&l.MaxImageBytes, DefaultMaxImageBytes)
	def64(&l.MaxMemory, DefaultMaxMemory)
	def64(&l.MinBodyRate, DefaultMinBodyRate)
	if l.MaxImages == 0 {
		l.MaxImages = DefaultMaxImages
	}
	if l.Concurrency == 0 {
		l.Concurrency = runtime.GOMAXPROCS(0)
	}
	if l.Queue == 0 {
		l.Queue = 4 * l.Concurrency
	}
	def(&l.QueueTimeout, 10*time.Second)
	def(&l.BodyTimeout, 60*time.Second)
	def(&l.BodyGrace, 5*time.Second)
	def(&l.RequestTimeout, 60*time.Second)
	def(&l.ReadHeaderTimeout, 10*time.Second)
	def(&l.ReadTimeout, 60*time.Second)
	def(&l.WriteTimeout, 120*time.Second)
	def(&l.IdleTimeout, 120*time.Second)
	def(&l.ShutdownTimeout, 30*time.Second)
	return l, nil
}

// limiter admits Concurrency requests at a time and lets at most queue
// more wait; the rest are refused at once (load shedding keeps latency
// and memory bounded instead of letting a backlog grow).
//
// admitted counts the requests working or waiting and is what the queue
// limit applies to: it rises when a request is admitted and falls only
// when that request releases its slot, so a waiter that has been handed a
// slot but not yet run still counts once, never twice or zero times.
type limiter struct {
	slots              chan struct{}
	concurrency, queue int
	admitted           atomic.Int64 // working + waiting
	waiting            atomic.Int64 // for the metrics and messages
	timeout            time.Duration
}

// errBusy is the limiter's refusal; busyError says how busy.
type errBusy struct {
	working, waiting int64
	timedOut         time.Duration
}

func (e *errBusy) Error() string { return "busy" }

func newLimiter(concurrency, queue int, timeout time.Duration) *limiter {
	return &limiter{slots: make(chan struct{}, concurrency), concurrency: concurrency, queue: queue, timeout: timeout}
}

// full reports whether a request arriving now would be refused: a check
// before its body is read, to refuse it without reading it.
func (l *limiter) full() bool {
	return l.admitted.Load() >= int64(l.concurrency+l.queue)
}

// acquire takes a slot, waiting in the queue if there is room; it returns
// an *errBusy when the queue is full or the wait times out, or ctx's
// error. After a nil error, the caller must call release.
func (l *limiter) acquire(ctx context.Context) error {
	for {
		n := l.admitted.Load()
		if n >= int64(l.concurrency+l.queue) {
			return l.busy(0)
		}
		if l.admitted.CompareAndSwap(n, n+1) {
			break
		}
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		l.admitted.Add(-1)
		return l.busy(l.timeout)
	case <-ctx.Done():
		l.admitted.Add(-1)
		return ctx.Err()
	}
}

func (l *limiter) busy(timedOut time.Duration) error {
	return &errBusy{working: int64(len(l.slots)), waiting: l.waiting.Load(), timedOut: timedOut}
}

func (l *limiter) release() {
	<-l.slots
	l.admitted.Add(-1)
}

func (l *limiter) inUse() int { return len(l.slots) }

// busyError is the 503 answer for an *errBusy, with the counts at the
// moment of refusal and the flags that set the limits.
func (s *Server) busyError(e *errBusy) error {
	if e.timedOut > 0 {
		return unavailablef(1, "the server is busy: no work slot came free within %v (%d requests working, %d waiting; --concurrency %d, --queue %d); retry later",
			e.timedOut, e.working, e.waiting, s.limits.Concurrency, s.limits.Queue)
	}
	return unavailablef(1, "the server is busy: %d requests working and %d waiting, the most it takes (--concurrency %d, --queue %d); retry later",
		e.working, e.waiting, s.limits.Concurrency, s.limits.Queue)
}

// budget is the memory the requests in flight may hold, in bytes.
type budget struct {
	capacity int64
	used     atomic.Int64
	peak     atomic.Int64
}

// reserve takes n bytes, or reports false when they are not free.
func (b *budget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.capacity {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			for p := b.peak.Load(); u+n > p && !b.peak.CompareAndSwap(p, u+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

func (b *budget) release(n int64) { b.used.Add(-n) }

// reservation is one request's share of the budget; it grows as the
// request reads its body and prices its images, and is released at once
// when the request ends.
type reservation struct {
	s    *Server
	held int64
}

// grow reserves n more bytes, or returns the 429 answer.
func (r *reservation) grow(n int64) error {
	if r == nil || n <= 0 {
		return nil
	}
	b := r.s.mem
	if n > b.capacity {
		return invalidf("the request needs %s of memory, more than the %s this server gives all requests in flight (--max-memory %s)", mib(r.held+n), mib(b.capacity), mib(r.s.limits.MaxMemory))
	}
	if !b.reserve(n) {
		r.s.metrics.count(r.s.metrics.rejected, "memory")
		return exhaustedf(1, "the server's memory for requests in flight is taken (%s of %s in use, this request needs %s more; --max-memory %s); retry later",
			mib(b.used.Load()), mib(b.capacity), mib(n), mib(r.s.limits.MaxMemory))
	}
	r.held += n
	return nil
}

// shrinkTo gives back what is held beyond n bytes.
func (r *reservation) shrinkTo(n int64) {
	if r != nil && r.held > n {
		r.s.mem.release(r.held - n)
		r.held = n
	}
}

func (r *reservation) release() { r.shrinkTo(0) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
