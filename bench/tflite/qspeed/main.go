// Command qspeed times a quantized TFLite classifier in dlcv's integer
// interpreter for bench/tflite/ort.sh, printing the JSON line that
// bench/onnx/ort_speed.js prints for ONNX Runtime: the load, the first
// run and every timed run's wall and process CPU time (all threads) in
// ms, batch 1, the photo preprocessed once as classification does.
// Threads: GOMAXPROCS.
//
//	go run ./bench/tflite/qspeed MODEL.tflite PHOTO REPS
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/dlcv-go/dlcv/imgproc"
	"github.com/dlcv-go/dlcv/tflite"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: qspeed MODEL.tflite PHOTO REPS")
		os.Exit(2)
	}
	reps, err := strconv.Atoi(os.Args[3])
	if err != nil || reps < 1 {
		fail(fmt.Errorf("REPS %q: want a positive count", os.Args[3]))
	}
	img, err := imgproc.Load(os.Args[2])
	if err != nil {
		fail(err)
	}
	t0 := time.Now()
	m, err := tflite.Load(os.Args[1])
	if err != nil {
		fail(err)
	}
	load := ms(time.Since(t0))
	x, err := m.Preprocess(img)
	if err != nil {
		fail(err)
	}
	t0 = time.Now()
	if _, err := m.Run(x); err != nil {
		fail(err)
	}
	first := ms(time.Since(t0))
	runs, cpu := make([]float64, reps), make([]float64, reps)
	for i := range runs {
		t0, c0 := time.Now(), cpuTime()
		if _, err := m.Run(x); err != nil {
			fail(err)
		}
		runs[i], cpu[i] = ms(time.Since(t0)), ms(cpuTime()-c0)
	}
	b, _ := json.Marshal(map[string]any{"create": load, "first": first, "runs": runs, "cpu": cpu})
	fmt.Println(string(b))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "qspeed:", err)
	os.Exit(1)
}
