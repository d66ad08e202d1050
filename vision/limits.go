package vision

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// Limits bounds what one client can make the server do. Zero fields take
// the defaults shown.
type Limits struct {
	// MaxBodyBytes bounds the request body (10 MiB); larger ones get 413.
	// An image file read through imageUri has the same bound.
	MaxBodyBytes int64
	// MaxPixels bounds width*height of each image (25 megapixels),
	// checked from the header before decoding.
	MaxPixels int64
	// MaxImages bounds the images in one request (16, as Cloud Vision).
	MaxImages int
	// Concurrency is the number of requests worked on at once
	// (GOMAXPROCS); each holds at most one body in memory.
	Concurrency int
	// Queue is how many more requests may wait for a slot (4 x
	// Concurrency); beyond that the server answers 503 at once.
	Queue int
	// QueueTimeout bounds the wait for a slot (10 s), then 503.
	QueueTimeout time.Duration

	// Server timeouts (http.Server): ReadHeaderTimeout (10 s),
	// ReadTimeout for the whole request (60 s), WriteTimeout (120 s),
	// IdleTimeout for keep-alive connections (120 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests (30 s).
	ShutdownTimeout time.Duration
}

// Default limits.
const (
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxPixels    = 25_000_000
	DefaultMaxImages    = 16
)

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxBodyBytes < 0 || l.MaxPixels < 0 || l.MaxImages < 0 || l.Concurrency < 0 || l.Queue < 0 {
		return l, errors.New("vision: limits must not be negative")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxPixels == 0 {
		l.MaxPixels = DefaultMaxPixels
	}
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
type limiter struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
	timeout time.Duration
}

var errBusy = errors.New("busy")

func newLimiter(concurrency, queue int, timeout time.Duration) *limiter {
	return &limiter{slots: make(chan struct{}, concurrency), queue: int64(queue), timeout: timeout}
}

// acquire takes a slot, waiting in the queue if there is room; it returns
// errBusy when the queue is full or the wait times out, or ctx's error.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return errBusy
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }

func (l *limiter) inUse() int { return len(l.slots) }
