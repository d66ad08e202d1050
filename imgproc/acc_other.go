//go:build !amd64 || purego

package imgproc

const useAVX2 = false

func accNAVX2(o *float32, srcs **float32, ws *float32, ntaps, n int, set bool) {
	panic("imgproc: no assembly kernel on this platform")
}
