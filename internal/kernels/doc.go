// Package kernels holds dlcv's compute kernels: SGEMM (cache-blocked, packed,
// parallel, with amd64 AVX-512 and AVX2+FMA assembly micro-kernels chosen at
// run time and a portable Go fallback), im2col/col2im for NHWC convolutions,
// a direct convolution for single-channel inputs (LeNet's first layer),
// vector routines (Axpy, Scal, Dot, AddBias, SumRows), element-wise and
// 2x2 max-pool kernels, and the persistent worker pool (Parallel) that
// spreads work over the cores without allocating. Every assembly path has a
// Go twin (forced with the purego build tag) and tests that compare them.
// Everything above it (nn, imgproc, tflite) calls these functions; nothing
// here knows about layers.
package kernels
