package tflite

import flatbuffers "github.com/google/flatbuffers/go"

// TinyFloatClassifier is a float model for tests outside the package:
// input (1, 4, 4, 3) -> MEAN over H, W -> FULLY_CONNECTED (w, b) ->
// SOFTMAX, two classes.
func TinyFloatClassifier(w [2][3]float32, b [2]float32) []byte {
	return buildModel([]tTensor{
		{name: "in", shape: []int32{1, 4, 4, 3}},
		{name: "axes", shape: []int32{2}, typ: Int32, data: i32bytes([]int32{1, 2})},
		{name: "mean", shape: []int32{1, 1, 1, 3}},
		{name: "w", shape: []int32{2, 3}, data: f32bytes([]float32{w[0][0], w[0][1], w[0][2], w[1][0], w[1][1], w[1][2]})},
		{name: "b", shape: []int32{2}, data: f32bytes(b[:])},
		{name: "fc", shape: []int32{1, 2}},
		{name: "probs", shape: []int32{1, 2}},
	}, []tOp{
		{code: opMean, in: []int32{0, 1}, out: []int32{2}, opts: opts(1, func(b *flatbuffers.Builder) { b.PrependBoolSlot(0, true, false) })},
		{code: opFullyConn, in: []int32{2, 3, 4}, out: []int32{5}, opts: actOptions(actNone)},
		{code: opSoftmax, in: []int32{5}, out: []int32{6}, opts: opts(1, func(b *flatbuffers.Builder) { b.PrependFloat32Slot(0, 1, 0) })},
	}, []int32{0}, []int32{6})
}
