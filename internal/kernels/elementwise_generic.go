//go:build !amd64 || purego

package kernels

func reluAsm(dst, src []float32) int                      { return 0 }
func reluGradAsm(dx, dy, y []float32) int                 { return 0 }
func addReluAsm(dst, b []float32) int                     { return 0 }
func addClipAsm(dst, b []float32, lo, hi float32) int     { return 0 }
func addAsm(dst, src []float32) int                       { return 0 }
func mulIfEqualAsm(dst, src, a, b []float32) int          { return 0 }
func maxPool2x2Asm(dst, r0, r1 []float32, ow, c int) bool { return false }
func maxPool2x2GradAsm(dx0, dx1, r0, r1, y, dy []float32, ow, c int, reluMask bool) bool {
	return false
}
