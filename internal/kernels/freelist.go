package kernels

import "sync"

// FreeList keeps values between calls for reuse. The pool's Tasks live on
// one (a Task handed to Parallel escapes, so a fresh one per call would
// allocate), and so do the GEMM's packing buffers and a session's
// single-image sessions (nn's batch splitting). It is not a sync.Pool:
// the collector would drop the values, and with them the scratch they
// hold. The zero FreeList is ready; New, if set, makes the values Get
// finds none of (else new(T)).
type FreeList[T any] struct {
	New  func() *T
	mu   sync.Mutex
	free []*T
}

// Get returns a kept value, or a new one.
func (l *FreeList[T]) Get() *T {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		v := l.free[n-1]
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return v
	}
	l.mu.Unlock()
	if l.New != nil {
		return l.New()
	}
	return new(T)
}

// Put keeps v for a later Get.
func (l *FreeList[T]) Put(v *T) {
	l.mu.Lock()
	l.free = append(l.free, v)
	l.mu.Unlock()
}
