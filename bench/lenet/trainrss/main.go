//go:build linux

// Command trainrss trains a zoo architecture (default LeNet on 28x28x1,
// 10 classes) with SGD through train.Fit on random images and prints one
// JSON line with the training speed and the process's peak resident set
// size. bench/lenet/run.sh and bench/resnet/run.sh use it for the memory
// side of their benchmarks:
//
//	trainrss -arch resnet20 -size 32x32x3 -batch 128 -steps 20
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/train"
	"github.com/dlcv-go/dlcv/zoo"
)

func main() {
	steps := flag.Int("steps", 64, "training steps (batches)")
	batch := flag.Int("batch", 128, "batch size")
	images := flag.Int("images", 2048, "images in the random training set")
	threads := flag.Int("threads", 2, "cores to use")
	arch := flag.String("arch", "lenet", "zoo architecture")
	size := flag.String("size", "28x28x1", "input HxWxC")
	mom := flag.Float64("momentum", 0, "SGD momentum")
	flag.Parse()
	var in [3]int
	if _, err := fmt.Sscanf(*size, "%dx%dx%d", &in[0], &in[1], &in[2]); err != nil || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		fmt.Fprintf(os.Stderr, "trainrss: -size %q: want HxWxC, e.g. 32x32x3\n", *size)
		os.Exit(2)
	}
	if err := run(*arch, in[:], *steps, *batch, *images, *threads, *mom); err != nil {
		fmt.Fprintln(os.Stderr, "trainrss:", err)
		os.Exit(1)
	}
}

func run(arch string, in []int, steps, batch, images, threads int, momentum float64) error {
	if steps < 1 || batch < 1 || images < batch || threads < 1 {
		return fmt.Errorf("want steps >= 1, threads >= 1 and images >= batch >= 1; got steps %d, batch %d, images %d, threads %d",
			steps, batch, images, threads)
	}
	runtime.GOMAXPROCS(threads)
	kernels.SetThreads(threads)
	rng := nn.NewRNG(1)
	x := tensor.New(append([]int{images}, in...)...)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	set := &data.Dataset{X: x, Y: make([]int, images)}
	for i := range set.Y {
		set.Y[i] = rng.IntN(10)
	}
	for c := range 10 {
		set.Classes = append(set.Classes, fmt.Sprint(c))
	}
	m, err := zoo.New(arch, in, 10, 1)
	if err != nil {
		return err
	}
	perEpoch := images / batch
	if images%batch != 0 {
		perEpoch++
	}
	epochs := (steps + perEpoch - 1) / perEpoch
	t0 := time.Now()
	if _, err := train.Fit(m, set, nil, train.Config{Epochs: epochs, BatchSize: batch, Seed: 1,
		Optimizer: optim.NewSGD(0.01, momentum, false)}); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"arch": arch, "steps": epochs * perEpoch, "batch": batch, "threads": threads,
		"train_images_per_s": int(float64(epochs*images) / secs),
		"peak_rss_mb":        int(ru.Maxrss / 1024), // Linux reports KiB
	})
}
