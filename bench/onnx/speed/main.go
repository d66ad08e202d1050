// Command speed times one ONNX model in dlcv for bench/onnx/speed.sh, as
// bench/onnx/ort_speed.js times it in ONNX Runtime: the load (parse,
// conversion, graph passes), then one warm-up run and REPS timed runs on
// the input .npy (NCHW, as ONNX Runtime takes it; the transpose to dlcv's
// NHWC is part of each run). It prints one JSON line: the load time, the
// first run's and every timed run's wall and process CPU time (all
// threads) in ms. Threads: GOMAXPROCS.
//
//	go run ./bench/onnx/speed MODEL.onnx INPUT.npy REPS
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/onnx"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: speed MODEL.onnx INPUT.npy REPS")
		os.Exit(2)
	}
	reps, err := strconv.Atoi(os.Args[3])
	if err != nil || reps < 1 {
		fail(fmt.Errorf("REPS %q: want a positive count", os.Args[3]))
	}
	x, err := npy.ReadFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	t0 := time.Now()
	m, err := onnx.Load(os.Args[1], nil)
	if err != nil {
		fail(err)
	}
	load := ms(time.Since(t0))
	t0 = time.Now()
	if _, err := m.RunNCHW(x); err != nil {
		fail(err)
	}
	first := ms(time.Since(t0))
	runs, cpu := make([]float64, reps), make([]float64, reps)
	for i := range runs {
		t0, c0 := time.Now(), cpuTime()
		if _, err := m.RunNCHW(x); err != nil {
			fail(err)
		}
		runs[i], cpu[i] = ms(time.Since(t0)), ms(cpuTime()-c0)
	}
	b, _ := json.Marshal(map[string]any{"create": load, "first": first, "runs": runs, "cpu": cpu})
	fmt.Println(string(b))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is the process's user and system time so far (Linux; 0 where
// getrusage is missing).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "speed:", err)
	os.Exit(1)
}
