//go:build !unix

package vision

import "os"

// openNoBlock: without O_NONBLOCK, the Stat before the open is the check.
const openNoBlock = os.O_RDONLY
