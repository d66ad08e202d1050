package zoo

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
)

func cpuNow() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func TestTmpCPU(t *testing.T) {
	if os.Getenv("TMPCPU") == "" {
		t.Skip()
	}
	if os.Getenv("TMPTHREADS") == "" {
		kernels.SetThreads(1)
	}
	m, _ := New("lenet", []int{28, 28, 1}, 10, 1)
	x, y := lenetBatch(128)
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.01, 0, false)
	step := func() { m.TrainStep(x, y, loss); opt.Step(m.Params()) }
	step()
	var res []float64
	for r := 0; r < 5; r++ {
		c0 := cpuNow()
		for i := 0; i < 5; i++ {
			step()
		}
		res = append(res, (cpuNow()-c0)/5)
	}
	xi, _ := lenetBatch(256)
	m.Predict(xi)
	var inf []float64
	for r := 0; r < 5; r++ {
		c0 := cpuNow()
		for i := 0; i < 5; i++ {
			m.Predict(xi)
		}
		inf = append(inf, (cpuNow()-c0)/5)
	}
	fmt.Printf("CPU ms/train step: %.1f  CPU ms/infer 256: %.1f\n", minf(res), minf(inf))
}

func minf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}
