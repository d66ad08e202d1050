package tflite

import (
	"time"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// processCPUTime is the process's CPU time (all threads; 0 where unknown)
// for the benchmarks' cpu-ms/op.
func processCPUTime() time.Duration { return testutil.ProcessCPUTime() }
