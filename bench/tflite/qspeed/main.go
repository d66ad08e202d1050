// Command qspeed times a quantized TFLite classifier in dlcv's integer
// interpreter for bench/tflite/ort.sh, printing the JSON line that
// bench/onnx/ort_speed.js prints for ONNX Runtime: the load (with the
// photo's preprocessing, once, as classification does), the first run
// and every timed run's wall and process CPU time (all threads) in ms, at
// batch 1. Threads: GOMAXPROCS.
//
//	go run ./bench/tflite/qspeed MODEL.tflite PHOTO REPS
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/dlcv-go/dlcv/imgproc"
	"github.com/dlcv-go/dlcv/internal/testutil"
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
	b, err := testutil.SpeedJSON(reps, func() (func() error, error) {
		m, err := tflite.Load(os.Args[1])
		if err != nil {
			return nil, err
		}
		x, err := m.Preprocess(img)
		if err != nil {
			return nil, err
		}
		return func() error { _, err := m.Run(x); return err }, nil
	})
	if err != nil {
		fail(err)
	}
	fmt.Println(string(b))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "qspeed:", err)
	os.Exit(1)
}
