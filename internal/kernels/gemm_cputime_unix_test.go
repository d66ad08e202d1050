//go:build unix

package kernels

import (
	"syscall"
	"time"
)

// processCPUTime is the CPU time used by the process, so a single-threaded
// benchmark can report a rate that does not count time the machine gave to
// other processes.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
