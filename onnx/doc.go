// Package onnx imports ONNX models (.onnx files, opsets 7 to 17) into
// dlcv's graph engine: Load reads the file, converts every node onto nn
// ops and returns an nn.Graph that infers, trains, saves and serves as
// any other.
//
// The protobuf is decoded with google.golang.org/protobuf/encoding/protowire
// field by field (proto.go), bounds-checked throughout: a truncated or
// corrupt file is an error naming the field. Initializers come from
// raw_data, the typed fields or external data files next to the model
// (which must stay inside its folder and have the declared length).
//
// Layout: ONNX computes NCHW, dlcv NHWC. The importer converts at import
// time: every value carries the permutation it is stored in, so
// convolutions, pools and batch norms see NHWC, their weights are re-laid
// once, element-wise ops work in any layout, and a Transpose only changes
// the recorded permutation. Ops whose semantics depend on the order of
// axes (Reshape, Flatten, Concat, Softmax, reductions, Gather, Slice,
// Pad, ...) map their axes, reshape in the stored layout where the axes
// they merge are stored in order, and otherwise get the value in ONNX
// order (one Transpose); a Flatten of an NHWC activation feeding a Gemm
// with constant weights permutes the weight rows instead. Image inputs
// are NHWC (IOInfo.Perm says how each input is stored; RunNCHW takes ONNX
// layouts); outputs are in the ONNX layout.
//
// Shape arithmetic (Shape -> Gather -> Concat -> Reshape) is evaluated at
// import: constants fold, and sizes known only at run time are tracked as
// symbols, so that the Reshape becomes a static nn.Reshape that copies
// the batch size (0) or infers one size (-1) and still takes any batch
// and image size. Where a shape value is used as data it stays a graph
// value (nn.Shape), which nn.FoldConstants folds once sizes are fixed.
//
// dlcv tensors are float32: integer and bool tensors are carried as
// float32 values (exact below 2^24), and Cast rounds or truncates as the
// target type would.
//
// Unsupported ops are all listed at once, with the nodes using them and
// the opset; every other conversion error names the node, its op and the
// opset.
package onnx
