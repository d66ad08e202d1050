package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func benchGemm(b *testing.B, transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := newGemmCase(rng, transA, transB, m, n, k, 0, 1, 1)
	c := g.c0
	b.ReportAllocs()
	var cpu0 time.Duration
	for b.Loop() {
		if cpu0 == 0 {
			// b.Loop has reset the timer; start the CPU clock with it.
			cpu0 = processCPUTime()
		}
		Sgemm(transA, transB, m, n, k, 1, g.a, g.lda, g.b, g.ldb, 0, c, g.ldc)
	}
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// On a shared machine wall time counts other processes' time slices;
	// with one thread, process CPU time does not.
	if cpu := processCPUTime() - cpu0; Threads() == 1 && cpu0 > 0 && cpu > 0 {
		b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/s-cpu")
	}
}

// BenchmarkSgemm measures square products on one thread and on all
// Threads(), and the LeNet shapes likewise, with the default kernel.
func BenchmarkSgemm(b *testing.B) {
	all := Threads()
	for _, size := range []int{512, 1024} {
		for _, th := range []int{1, all} {
			b.Run(fmt.Sprintf("%d/t%d", size, th), func(b *testing.B) {
				prev := SetThreads(th)
				defer SetThreads(prev)
				benchGemm(b, false, false, size, size, size)
			})
		}
	}
	for _, s := range lenetShapes {
		for _, th := range []int{1, all} {
			b.Run(fmt.Sprintf("lenet_%s/%dx%dx%d/t%d", s.name, s.m, s.n, s.k, th), func(b *testing.B) {
				prev := SetThreads(th)
				defer SetThreads(prev)
				benchGemm(b, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

// BenchmarkSgemmKernels compares the micro-kernels on one thread.
func BenchmarkSgemmKernels(b *testing.B) {
	for _, name := range AvailableKernels() {
		for _, size := range []int{64, 512} {
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				restore, err := SetKernel(name)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				prev := SetThreads(1)
				defer SetThreads(prev)
				benchGemm(b, false, false, size, size, size)
			})
		}
	}
}
