// Package tflite runs TensorFlow Lite image classifiers (such as the
// quantized MobileNets) in pure Go.
//
// The .tflite flatbuffer is read with small hand-written accessors over
// github.com/google/flatbuffers that bounds-check every field, so corrupt
// files give errors naming the field. Float models compute in float32.
// Quantized models (uint8 per-tensor, int8 per-channel) are emulated
// exactly: activations are kept as centred integers q - zero_point in
// float32, whose products and sums are exact below 2^24, so the float GEMM
// yields TFLite's int32 accumulators; each operator then requantizes as
// TFLite does (see quant.go and epilogue.go). Convolutions lower to NHWC
// im2col + SGEMM (1x1 convolutions are a plain GEMM); depthwise
// convolutions run kernels.DepthwiseConvRows. Batches run image by image,
// in parallel.
//
// This package holds the file format and the graph; the arithmetic lives
// in internal/kernels: im2col (ConvGeom.Im2colRows), SGEMM, the depthwise
// row kernel, the requantization epilogue (Requantize) and TFLite's
// fixed-point multipliers, PIL's bilinear resampling behind
// ResizeBilinear, and the parallel-for (kernels.Parallel, sized by
// kernels.Threads).
//
// ToGraph (graph.go) converts a model into an nn.Graph instead: a float
// network on the shared engine, with quantized weights dequantized, for
// fine-tuning and feature extraction (GraphOptions.Outputs cuts it, e.g.
// at the global pool). It approximates the integer interpreter, which
// stays the exact path for classification.
package tflite
