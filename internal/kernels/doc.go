// Package kernels holds dlcv's compute kernels: SGEMM (cache-blocked, packed,
// parallel, with amd64 AVX-512 and AVX2+FMA assembly micro-kernels chosen at
// run time and a portable Go fallback), im2col/col2im for NHWC convolutions
// and small vector routines. Everything above it (nn, imgproc, tflite) calls
// these functions; nothing here knows about layers.
package kernels
