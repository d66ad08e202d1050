//go:build !amd64 || purego

package kernels

func chanMomentsAsm(s1, s2 []float64, x []float32, ref []float64) int { return 0 }
func chanGradSumsAsm(s1, s2 []float64, dy, x, mean []float32) int     { return 0 }
func chanAffineAsm(y, x, mean, a, b []float32) int                    { return 0 }
func chanScaleAsm(y, dy, a []float32) int                             { return 0 }
func chanGradInputAsm(dx, dy, x, mean, a, b, cc []float32) int        { return 0 }
func chanPReLUAsm(y, x, a []float32) int                              { return 0 }
func chanPReLUGradAsm(s []float64, dx, dy, x, a []float32) int        { return 0 }
