//go:build unix

package vision

import "syscall"

func mkfifo(path string) { syscall.Mkfifo(path, 0o644) }
