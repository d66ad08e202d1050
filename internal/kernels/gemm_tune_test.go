package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func tuneShape(transA, transB bool, m, n, k int) float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	g := newGemmCase(rng, transA, transB, m, n, k, 0, 1, 0)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Hour
	flops := 2 * float64(m*n*k)
	reps := max(1, int(4e9/flops))
	for r := 0; r < 5; r++ {
		t := threadCPU()
		for i := 0; i < reps; i++ {
			Sgemm(transA, transB, m, n, k, 1, g.a, g.lda, g.b, g.ldb, 0, g.c0, g.ldc)
		}
		best = min(best, (threadCPU()-t)/time.Duration(reps))
	}
	return flops / best.Seconds() / 1e9
}

func TestTune(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	prev := SetThreads(1)
	defer SetThreads(prev)
	shapes := append([]struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{{"sq512", false, false, 512, 512, 512}, {"sq1024", false, false, 1024, 1024, 1024}, {"m256", false, false, 256, 1024, 1024}}, lenetShapes...)
	for _, s := range shapes {
		line := fmt.Sprintf("%-10s", s.name)
		for r := 0; r < 2; r++ {
			line += fmt.Sprintf(" %6.1f", tuneShape(s.transA, s.transB, s.m, s.n, s.k))
		}
		t.Log(line)
	}
}
