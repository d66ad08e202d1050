//go:build unix

package vision

import (
	"os"
	"syscall"
)

// openNoBlock opens a file for reading without waiting: a FIFO would
// otherwise block the open until a writer comes.
const openNoBlock = os.O_RDONLY | syscall.O_NONBLOCK
