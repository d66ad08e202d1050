//go:build !purego

package kernels

//go:noescape
func prefetchLines(p *float32, lines int)

func prefetch(v []float32) { prefetchLines(&v[0], (len(v)+15)/16) }
