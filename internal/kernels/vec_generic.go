//go:build !amd64 || purego

package kernels

func axpyVec(alpha float32, x, y []float32) int { return 0 }
func dotVec(x, y []float32) (float32, int)      { return 0, 0 }
func scalVec(alpha float32, x []float32) int    { return 0 }
