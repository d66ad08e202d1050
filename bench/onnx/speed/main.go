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
	"fmt"
	"os"
	"strconv"

	"github.com/dlcv-go/dlcv/internal/testutil"
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
	b, err := testutil.SpeedJSON(reps, func() (func() error, error) {
		m, err := onnx.Load(os.Args[1], nil)
		if err != nil {
			return nil, err
		}
		return func() error { _, err := m.RunNCHW(x); return err }, nil
	})
	if err != nil {
		fail(err)
	}
	fmt.Println(string(b))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "speed:", err)
	os.Exit(1)
}
