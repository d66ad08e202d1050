// Package kernels holds every compute kernel of dlcv and its one
// parallel-for; nn, imgproc, tflite, detect and data call them, and
// nothing here knows about layers or file formats.
//
//   - parallel.go: Parallel (ParallelLimit, ParallelFunc), a persistent
//     worker pool shared by every caller that hands out ranges in turn,
//     nesting-safe, allocation-free with a Task, sized by
//     Threads/SetThreads (one process-wide count).
//   - gemm*.go: SGEMM (cache-blocked, packed, parallel over the pool;
//     AVX-512 and AVX2+FMA micro-kernels chosen at run time, Go
//     fallback), SgemmSerial for callers that split work themselves.
//   - winograd*.go: Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions:
//     the input, output, output-gradient and kernel transforms, and the
//     16 per-position products in one call per plane (SgemmPlanes: C =
//     A B; SgemmPlanesTN: C += A^T B for the weight gradient), AVX2 with
//     Go twins.
//   - im2col.go: ConvGeom (stride, dilation, padding) and
//     Im2col/Im2colRows/Col2im for NHWC convolutions.
//   - conv1c*.go: direct convolution of one-channel inputs (LeNet's first
//     layer, AVX-512).
//   - depthwise.go, muladd*.go: DepthwiseConvRows (NHWC, any kernel,
//     stride, dilation, depth multiplier) on the MulAdd/MulAdd3 tap loops.
//   - requant*.go, fixedpoint.go: quantized epilogues: Requantize (fp32,
//     as XNNPACK), RoundEven, and TFLite's fixed-point Multiplier,
//     SaturatingRoundingDoublingHighMul, RoundingDivideByPOT.
//   - axpyn*.go: AxpyN, the multi-tap row pass of 2-D image filters;
//     filter3x3*.go: FilterRow3x3, one output row of a 3x3 filter with
//     all nine weights in registers (AVX2+FMA), zero taps left out.
//   - resize.go: nearest and bilinear NHWC resizes with ONNX's coordinate
//     and rounding modes, and their adjoints, on a ResizePlan that keeps
//     its tables between calls; resample.go: PIL-exact 8-bit bilinear
//     resampling (ResizeBilinearU8).
//   - vec*.go, elementwise*.go: Axpy, Scal, Dot, AddBias, SumRows, ReLU,
//     Add, 2x2 max-pool; clip*.go: Clip (ReLU6 and other clipped
//     activations, the convolutions' epilogue).
//   - maxinto*.go: MaxInto (a pooling window's running maximum) and
//     MaxPoolGradStep (its backward, one window position at a time).
//   - transpose*.go: Transpose of a matrix with strides, in 8x8 AVX2
//     tiles (NCHW <-> NHWC per image).
//
// Every assembly routine (amd64, selected at run time from
// golang.org/x/sys/cpu) has a Go twin; the purego build tag forces the Go
// paths everywhere, and the tests check every path against a float64 (or
// exact integer) reference on awkward sizes.
package kernels
