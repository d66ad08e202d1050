//go:build !amd64 || purego

package kernels

// Without the assembly, the dispatching branches compile away.
const useMulAddAVX2 = false

func mulAddAVX2(acc, x, w *float32, n int) { panic("kernels: no assembly") }

func mulAdd3AVX2(acc, x0, x1, x2, w0, w1, w2 *float32, n int) { panic("kernels: no assembly") }

func requantizeAVX2(v, b, s *float32, n int, lo, hi float32) { panic("kernels: no assembly") }
