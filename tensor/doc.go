// Package tensor holds dlcv's Tensor: a shape and a contiguous []float32 in
// row-major order. There is no hidden state: no device, no autograd tape, no
// strides. Image batches are NHWC (batch, height, width, channels), chosen
// because im2col on NHWC writes GEMM rows contiguously and the GEMM output
// of a convolution is already NHWC (see docs/architecture.md).
package tensor
