// Package nn is dlcv's neural-network engine: one model representation, a
// directed acyclic graph of ops (Graph), that trains and infers.
//
// The parts, a file or two each:
//
//   - Op (op.go): one operation, its configuration and weights, with a
//     Forward and a Backward that read like the chain rule. Ops keep no
//     per-call state, so one graph serves many callers.
//   - Graph (graph.go): named nodes built the way Keras' functional API
//     reads (g.Input, g.Apply, g.Add, g.Output), sorted topologically by
//     Build, which infers every shape and creates the weights.
//   - Session (session.go): runs a graph. It plans which buffers each value
//     needs, frees an activation after its last reader (keeping in training
//     only what Backward reads), sums gradients where a value fans out, and
//     allocates nothing in steady state. Inference batches of large
//     networks whose ops treat images apart run image by image over the
//     cores (batchsplit.go). Backend is the seam for another
//     executor (an accelerator); CPU is the one there is.
//   - Model (model.go): what training, evaluation and saving use; Graph and
//     Sequential (a chain-shaped graph, sequential.go) implement it.
//     Predictor serves concurrent inference on one copy of the weights.
//   - Frozen weights (frozen.go): Graph.SetFrozen declares the weights
//     constant, and ops keep copies in their kernels' fastest forms (GEMM
//     panels, Winograd kernels), made once and shared by the sessions.
//   - Passes (passes.go): FuseActivations (training-safe), Optimize
//     (constant folding, decomposed activations, batch-norm folding,
//     residual and activation fusion into the convolution epilogue, then
//     ScaledPointwise in scalepw.go: a squeeze-excite gate folded into
//     the next 1x1 convolution's weights, and PointwiseDepthwise in
//     pwdw.go: a 1x1 expansion computed in strips that the depthwise
//     layer reading it takes from cache),
//     FoldConstants and FuseDecomposed (fuse_act.go: hard swish, SiLU,
//     GELU written as element-wise chains become one op; the importers
//     run it).
//   - The model file (save.go): architecture JSON and weights in
//     safetensors; RegisterOp makes a user's op loadable.
//   - The ops: convolutions (conv2d*.go, depthwise*.go, convtranspose.go),
//     Dense and MatMul/Gemm, element-wise arithmetic with broadcasting
//     (binary.go), activations (activation*.go, act.go for the fused
//     epilogue), normalisation (batchnorm.go, layernorm.go), pooling and
//     reductions (pool.go, reduce.go), shape ops (shape_*.go), Dropout,
//     Softmax and Constant; losses (losses.go) and initialisers (init.go).
//
// Tensors are NHWC (batch, height, width, channels) for images and
// (batch, features) for vectors; shapes carry the batch axis first, -1
// where a size is known only at run time. Results returned by a Session or
// a Model are buffers it owns, valid until its next call; copy them
// (Tensor.Clone) to keep them longer.
package nn
