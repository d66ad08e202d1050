package testutil

import (
	"encoding/json"
	"time"
)

// SpeedJSON times a model for the bench scripts (bench/onnx/speed.sh,
// bench/tflite/ort.sh): load, then the run it returns once (warm-up) and
// reps times more. The JSON line has the fields of ONNX Runtime's side
// (bench/onnx/ort_speed.js): "create" (the load), "first", and "runs" and
// "cpu", each run's wall and process CPU time (all threads), in ms.
func SpeedJSON(reps int, load func() (run func() error, err error)) ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	t0 := time.Now()
	run, err := load()
	if err != nil {
		return nil, err
	}
	create := ms(time.Since(t0))
	t0 = time.Now()
	if err := run(); err != nil {
		return nil, err
	}
	first := ms(time.Since(t0))
	runs, cpu := make([]float64, reps), make([]float64, reps)
	for i := range runs {
		t0, c0 := time.Now(), ProcessCPUTime()
		if err := run(); err != nil {
			return nil, err
		}
		runs[i], cpu[i] = ms(time.Since(t0)), ms(ProcessCPUTime()-c0)
	}
	return json.Marshal(map[string]any{"create": create, "first": first, "runs": runs, "cpu": cpu})
}
