//go:build amd64 && !purego

package imgproc

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly row kernel (AVX2 + FMA, 8 floats a step).
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func accNAVX2(o *float32, srcs **float32, ws *float32, ntaps, n int, set bool)
