//go:build unix

package tflite

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of this process: benchmarks
// report it beside wall time because it is far less sensitive to other
// load on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
