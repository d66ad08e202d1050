package zoo

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// lenetBatch returns a random batch of n 28x28x1 images with one-hot
// targets over 10 classes.
func lenetBatch(n int) (x, y *tensor.Tensor) {
	rng := nn.NewRNG(7)
	x = tensor.New(n, 28, 28, 1)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	y = tensor.New(n, 10)
	for i := 0; i < n; i++ {
		y.Data[i*10+rng.IntN(10)] = 1
	}
	return x, y
}

// BenchmarkLeNetTrainStep times one SGD training step of LeNet on a batch
// of 128 (forward, loss, backward, update), the workload of
// bench/lenet/run.sh.
func BenchmarkLeNetTrainStep(b *testing.B) {
	const batch = 128
	m, err := New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	x, y := lenetBatch(batch)
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.01, 0, false)
	step := func() {
		if _, err := m.TrainStep(x, y, loss); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(m.Params()); err != nil {
			b.Fatal(err)
		}
	}
	step() // size the buffers
	settle(step)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		step()
	}
	reportRates(b, batch, cpu0)
}

// settle collects the set-up's garbage, then runs step until five calls
// in a row allocate nothing (at most 40 calls), so that the timed steps
// see the steady state. Until then the allocations are the Go runtime's
// own: the sudogs (records of blocked goroutines) that the worker pool's
// waits take are cached per P, and with the caller and the workers waking
// on different Ps one P's cache drains while the other's fills, so new
// ones are allocated until the caches balance (about 12 ResNet-20 steps
// at 2 threads; none after, over 38 more). The steps themselves allocate
// nothing: TestTrainStepParallelAllocatesNothing.
func settle(step func()) {
	runtime.GC()
	var m runtime.MemStats
	for zero, n := 0, 0; zero < 5 && n < 40; n++ {
		runtime.ReadMemStats(&m)
		before := m.Mallocs
		step()
		runtime.ReadMemStats(&m)
		if zero++; m.Mallocs != before {
			zero = 0
		}
	}
}

// reportRates reports images/s (wall time) and, where the process CPU
// time is known, cpu-ms/op: the CPU time of one op summed over threads,
// which machine load inflates far less than wall time.
func reportRates(b *testing.B, batch int, cpu0 time.Duration) {
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	if cpu := processCPUTime(); cpu > 0 {
		b.ReportMetric(float64(cpu-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkLeNetInfer times LeNet's forward pass (softmax included) on a
// batch of 256.
func BenchmarkLeNetInfer(b *testing.B) {
	const batch = 256
	m, err := New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	x, _ := lenetBatch(batch)
	infer := func() {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	infer()
	settle(infer)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, batch, cpu0)
}

// benchTrainStep times one SGD (momentum 0.9) training step of a zoo
// architecture on random 32x32x3 images, the workload of
// bench/resnet/run.sh.
func benchTrainStep(b *testing.B, arch string, batch int) {
	benchTrainStepProfile(b, arch, batch, nil)
}

// benchTrainStepProfile is benchTrainStep, recording the time per node
// into prof when it is not nil.
func benchTrainStepProfile(b *testing.B, arch string, batch int, prof *nn.Profile) {
	m, err := New(arch, []int{32, 32, 3}, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := nn.NewRNG(7)
	x := tensor.New(batch, 32, 32, 3)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	y := tensor.New(batch, 10)
	for i := range batch {
		y.Data[i*10+rng.IntN(10)] = 1
	}
	loss := nn.NewCategoricalCrossEntropy()
	opt := optim.NewSGD(0.01, 0.9, false)
	step := func() {
		if _, err := m.TrainStep(x, y, loss); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(m.Params()); err != nil {
			b.Fatal(err)
		}
	}
	for range 3 { // size the buffers (the pool settles in a step or two)
		step()
	}
	settle(step)
	if prof != nil {
		if err := m.Graph().SetProfile(prof); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		step()
	}
	reportRates(b, batch, cpu0)
}

// BenchmarkResNet20TrainStep: ResNet-20 at batch 128.
func BenchmarkResNet20TrainStep(b *testing.B) { benchTrainStep(b, "resnet20", 128) }

// BenchmarkResNet20TrainProfile is BenchmarkResNet20TrainStep with the
// session profiler on; it logs the time per op kind and the slowest nodes
// per step (run with -test.v, and GOMAXPROCS=1 for single-thread times).
func BenchmarkResNet20TrainProfile(b *testing.B) {
	prof := &nn.Profile{}
	benchTrainStepProfile(b, "resnet20", 128, prof)
	var sb strings.Builder
	if err := prof.Write(&sb, 12); err != nil {
		b.Fatal(err)
	}
	b.Log("\n" + sb.String())
}

// BenchmarkMiniVGGNetTrainStep: MiniVGGNet at batch 64.
func BenchmarkMiniVGGNetTrainStep(b *testing.B) { benchTrainStep(b, "minivggnet", 64) }

// BenchmarkLeNetTrainProfile logs the time per op kind of a LeNet
// training step at batch 128.
func BenchmarkLeNetTrainProfile(b *testing.B) {
	prof := &nn.Profile{}
	benchTrainStepProfile(b, "lenet", 128, prof)
	var sb strings.Builder
	if err := prof.Write(&sb, 12); err != nil {
		b.Fatal(err)
	}
	b.Log("\n" + sb.String())
}
