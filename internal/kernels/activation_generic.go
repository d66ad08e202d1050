//go:build !amd64 || purego

package kernels

func sigmoidAsm(dst, x []float32) int                     { return 0 }
func siluAsm(dst, x []float32) int                        { return 0 }
func siluGradAsm(dx, dy, x []float32) int                 { return 0 }
func geluAsm(dst, x []float32) int                        { return 0 }
func geluGradAsm(dx, dy, x []float32) int                 { return 0 }
func geluTanhAsm(dst, x []float32) int                    { return 0 }
func geluTanhGradAsm(dx, dy, x []float32) int             { return 0 }
func hardSwishAsm(dst, x []float32) int                   { return 0 }
func hardSwishGradAsm(dx, dy, x []float32) int            { return 0 }
func clipAsm(dst, x []float32, lo, hi float32) int        { return 0 }
func clipGradAsm(dx, dy, y []float32, lo, hi float32) int { return 0 }
