//go:build !amd64 || purego

package kernels

// prefetch loads one value per line: the loads miss in parallel, which is
// what the hint is for.
func prefetch(v []float32) {
	var s float32
	for i := 0; i < len(v); i += 16 {
		s += v[i]
	}
	prefetchSink = s
}

var prefetchSink float32
