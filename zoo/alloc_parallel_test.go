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
// The collector is off while they are counted: at every GC the Go
// runtime drops its cache of sudogs (its record of a blocked goroutine)
// and allocates them anew, one each time a worker or the caller next
// waits, so with GC on a step right after a collection shows a few
// allocations that are the runtime's, not the engine's (over 30 steps
// the benchmarks' allocs/op round to 0).
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
			step()
			step()
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			if a := testing.AllocsPerRun(5, step); a != 0 {
				t.Errorf("%s training step at 2 threads allocates %v times", tc.arch, a)
			}
			if a := testing.AllocsPerRun(5, func() { m.Predict(x) }); a != 0 {
				t.Errorf("%s Predict at 2 threads allocates %v times", tc.arch, a)
			}
		})
	}
}
