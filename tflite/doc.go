// Package tflite runs TensorFlow Lite image classifiers (such as the
// quantized MobileNets) in pure Go.
//
// The .tflite flatbuffer is read with small hand-written accessors over
// github.com/google/flatbuffers that bounds-check every field, so corrupt
// files give errors naming the field. Float models compute in float32.
// Quantized models (uint8 per-tensor, int8 per-channel) give TFLite's
// integers. Where the CPU has int8 dot products (AVX-512 VNNI,
// kernels.HasQDot), convolutions, depthwise convolutions, ADD and the
// pools run on bytes with exact int32 sums (qconv.go, qdepthwise.go,
// qadd.go, qpool.go), and tensors between such operators stay bytes;
// elsewhere activations are centred integers q - zero_point in float32,
// whose products and sums are exact below 2^24, so the float GEMM yields
// the same int32 accumulators. Either way each operator then requantizes
// as XNNPACK does (see quant.go and epilogue.go), so both paths give the
// same outputs (TestIntegerPathMatchesFloat). Float convolutions lower
// to NHWC im2col + SGEMM (1x1 convolutions are a plain GEMM); depthwise
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
// stays the exact path for classification and for dlcv run on a
// quantized model. Model.RunProfile times each operator into an
// nn.Profile, as dlcv run --profile prints it.
package tflite
