//go:build !unix

package testutil

import "time"

// ProcessCPUTime is 0 where the process's CPU time is not known.
func ProcessCPUTime() time.Duration { return 0 }
