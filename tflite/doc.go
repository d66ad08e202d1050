// Package tflite runs TensorFlow Lite image classifiers (such as the
// quantized MobileNets) in pure Go.
//
// The .tflite flatbuffer is read with small hand-written accessors over
// github.com/google/flatbuffers that bounds-check every field, so corrupt
// files give errors naming the field. Weights are dequantized to float32
// once at load; every operator computes in float32 and, for quantized
// models, rounds its output back onto the output tensor's (scale,
// zero_point) grid ("fake quantization"), which tracks TFLite's integer
// kernels to within a few quantization steps. Convolutions lower to NHWC
// im2col + kernels.Sgemm (1x1 convolutions are a plain GEMM); depthwise
// convolutions have their own channel-vectorised loop.
package tflite
