//go:build unix

package annotate

import (
	"syscall"
	"time"
)

// processCPUTime is the CPU time the process has used (all threads), so
// the benchmarks can report a cost that does not count time the machine
// gave to other processes.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
