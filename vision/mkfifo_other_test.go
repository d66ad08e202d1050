//go:build !unix

package vision

func mkfifo(string) {}
