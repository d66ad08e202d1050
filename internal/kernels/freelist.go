package kernels

import "sync"

// freeList keeps values between calls for reuse. The pool's Tasks live on
// one (a Task handed to Parallel escapes, so a fresh one per call would
// allocate), and so do the GEMM's packing buffers. It is not a sync.Pool:
// the collector would drop the values, and with them the scratch they hold.
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// get returns a kept value, or a new zero one.
func (l *freeList[T]) get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		v := l.free[n-1]
		l.free = l.free[:n-1]
		return v
	}
	return new(T)
}

// put keeps v for a later get.
func (l *freeList[T]) put(v *T) {
	l.mu.Lock()
	l.free = append(l.free, v)
	l.mu.Unlock()
}
