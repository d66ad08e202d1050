//go:build !amd64 || purego

package tflite

var useAVX2 = false

func mac3(acc, x0, x1, x2, w0, w1, w2 []float32) { mac3Go(acc, x0, x1, x2, w0, w1, w2) }

func requant(v, b, s []float32, lo, hi float32) { requantGo(v, b, s, lo, hi) }
