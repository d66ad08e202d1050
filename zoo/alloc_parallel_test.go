package zoo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// Training steps that split their work over two threads (the parallel
// convolution, batch-norm and GEMM paths, which a batch of 8 on one
// thread never takes) allocate nothing in steady state.
//
// The steady state takes some steps to reach, and the collector is off
// while it is counted: the Go runtime caches the sudogs (its records of
// blocked goroutines) that the worker pool's waits take per P, and with
// the caller and the workers waking on different Ps one cache drains
// while the other fills, so new ones are allocated until the caches
// balance (about 12 ResNet-20 steps at batch 128); a collection empties
// the shared cache and starts that again. Those allocations are the
// runtime's, not the engine's; the benchmarks warm up the same way
// (settle in bench_test.go) and report 0 allocs/op.
func TestTrainStepParallelAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("short: ResNet-20 steps at batch 32")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer kernels.SetThreads(kernels.SetThreads(2))
	for _, tc := range []struct {
		arch string
		in   []int
	}{{"resnet20", []int{32, 32, 3}}, {"lenet", []int{28, 28, 1}}} {
		t.Run(tc.arch, func(t *testing.T) {
			m, err := New(tc.arch, tc.in, 10, 1)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 32
			rng := nn.NewRNG(3)
			x := tensor.New(append([]int{batch}, tc.in...)...)
			for i := range x.Data {
				x.Data[i] = rng.Float32()
			}
			y := tensor.New(batch, 10)
			for i := range batch {
				y.Data[i*10+i%10] = 1
			}
			loss := nn.NewCategoricalCrossEntropy()
			opt := optim.NewSGD(0.01, 0.9, true)
			step := func() {
				if _, err := m.TrainStep(x, y, loss); err != nil {
					t.Fatal(err)
				}
				if err := opt.Step(m.Params()); err != nil {
					t.Fatal(err)
				}
			}
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			settle(step)
			if a := testing.AllocsPerRun(5, step); a != 0 {
				t.Errorf("%s training step at 2 threads allocates %v times", tc.arch, a)
			}
			infer := func() { m.Predict(x) }
			settle(infer)
			if a := testing.AllocsPerRun(5, infer); a != 0 {
				t.Errorf("%s Predict at 2 threads allocates %v times", tc.arch, a)
			}
		})
	}
}
