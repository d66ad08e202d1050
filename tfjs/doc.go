// Package tfjs imports TensorFlow.js models (model.json and its binary
// weight shards) into nn graphs that run, train, save and serve like any
// dlcv model.
//
// Both of TF.js's formats load: graph models (a TensorFlow GraphDef as
// tensorflowjs_converter writes it from a SavedModel or frozen graph) and
// layers models (Keras' model JSON, from tf.keras/Keras 2 or TF.js's
// model.save). Weights may be float32, int32 or bool, or quantized as
// tensorflowjs_converter's --quantize_uint8, --quantize_uint16 and
// --quantize_float16 write them; they are dequantized on load exactly as
// TF.js does (q*scale + min in float64, rounded to float32).
//
// Each TF op or Keras layer maps onto nn ops (the table is in
// docs/import-tfjs.md): convolutions, dense layers and batch norms get
// their weights as params, so an imported model trains and Optimize folds
// it; Consts read by other ops become nn.Constant nodes. Nodes keep the
// file's names; where one TF node or layer becomes two nn nodes (a
// convolution and an activation without an epilogue), the second is named
// "<name>/<suffix>" and Model.Value maps the file's name to the value
// that carries it. TF is NHWC like dlcv, and conv filters (KH, KW, Cin, F)
// and depthwise filters (KH, KW, C, M) are already nn's layouts, so
// nothing is transposed.
//
// dlcv tensors are float32 only: int32 and bool values (shapes, indices,
// classes, masks) are carried as float32, exact for integers below 2^24
// in magnitude. Static arguments (shapes, axes, paddings, slice bounds,
// sizes) must be Consts: graphs whose shapes are computed at run time are
// refused with an error naming the node.
//
// Importing is parsing: every count, shape and offset of the file is
// bounds-checked, errors name the file and the node, layer or weight at
// fault, and the ops a model needs that dlcv lacks are listed all at once
// with their nodes and the GraphDef producer version.
package tfjs
