//go:build !amd64 || purego

package kernels

func maxIntoAsm(dst, src []float32) int { return 0 }

func maxPoolPixelsAsm(dst, src []float32, n, c, sx, kh, kw, rowx int) bool { return false }

func maxPoolGradStepAsm(dx, g, x, y []float32) int { return 0 }
