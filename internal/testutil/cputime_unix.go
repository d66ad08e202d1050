//go:build unix

package testutil

import (
	"syscall"
	"time"
)

// ProcessCPUTime is the CPU time the process has used (all threads), so
// that benchmarks can report a cost that does not count the time the
// machine gave to other processes (0 where it is not known).
func ProcessCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
