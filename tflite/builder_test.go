package tflite

import (
	"encoding/binary"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Tests build small .tflite files with the flatbuffers Builder, writing
// the same field slots the reader uses.

type tTensor struct {
	name  string
	shape []int32
	typ   TensorType
	data  []byte
	scale []float32
	zp    []int64
	qdim  int32
}

type tOp struct {
	code    int32
	in, out []int32
	optType byte
	opts    func(b *flatbuffers.Builder) flatbuffers.UOffsetT
}

func int32Vec(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func offVec(b *flatbuffers.Builder, v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependUOffsetT(v[i])
	}
	return b.EndVector(len(v))
}

func buildModel(tensors []tTensor, ops []tOp, inputs, outputs []int32) []byte {
	b := flatbuffers.NewBuilder(1024)
	// operator codes: one per distinct op, in order
	var codes []int32
	codeIdx := map[int32]uint32{}
	for _, o := range ops {
		if _, ok := codeIdx[o.code]; !ok {
			codeIdx[o.code] = uint32(len(codes))
			codes = append(codes, o.code)
		}
	}
	var codeOffs []flatbuffers.UOffsetT
	for _, c := range codes {
		b.StartObject(4)
		b.PrependInt8Slot(0, int8(min(c, 127)), 0)
		b.PrependInt32Slot(3, c, 0)
		codeOffs = append(codeOffs, b.EndObject())
	}
	// buffers: 0 empty, then one per constant tensor
	bufOffs := []flatbuffers.UOffsetT{}
	b.StartObject(1)
	bufOffs = append(bufOffs, b.EndObject())
	bufIdx := make([]uint32, len(tensors))
	for i, t := range tensors {
		if t.data == nil {
			continue
		}
		d := b.CreateByteVector(t.data)
		b.StartObject(1)
		b.PrependUOffsetTSlot(0, d, 0)
		bufIdx[i] = uint32(len(bufOffs))
		bufOffs = append(bufOffs, b.EndObject())
	}
	var tOffs []flatbuffers.UOffsetT
	for i, t := range tensors {
		var q flatbuffers.UOffsetT
		if t.scale != nil {
			b.StartVector(4, len(t.scale), 4)
			for j := len(t.scale) - 1; j >= 0; j-- {
				b.PrependFloat32(t.scale[j])
			}
			sv := b.EndVector(len(t.scale))
			b.StartVector(8, len(t.zp), 8)
			for j := len(t.zp) - 1; j >= 0; j-- {
				b.PrependInt64(t.zp[j])
			}
			zv := b.EndVector(len(t.zp))
			b.StartObject(7)
			b.PrependUOffsetTSlot(2, sv, 0)
			b.PrependUOffsetTSlot(3, zv, 0)
			b.PrependInt32Slot(6, t.qdim, 0)
			q = b.EndObject()
		}
		name := b.CreateString(t.name)
		shape := int32Vec(b, t.shape)
		b.StartObject(5)
		b.PrependUOffsetTSlot(0, shape, 0)
		b.PrependInt8Slot(1, int8(t.typ), 0)
		b.PrependUint32Slot(2, bufIdx[i], 0)
		b.PrependUOffsetTSlot(3, name, 0)
		if q != 0 {
			b.PrependUOffsetTSlot(4, q, 0)
		}
		tOffs = append(tOffs, b.EndObject())
	}
	var oOffs []flatbuffers.UOffsetT
	for _, o := range ops {
		var opt flatbuffers.UOffsetT
		if o.opts != nil {
			opt = o.opts(b)
		}
		in, out := int32Vec(b, o.in), int32Vec(b, o.out)
		b.StartObject(5)
		b.PrependUint32Slot(0, codeIdx[o.code], 0)
		b.PrependUOffsetTSlot(1, in, 0)
		b.PrependUOffsetTSlot(2, out, 0)
		if opt != 0 {
			b.PrependByteSlot(3, o.optType, 0)
			b.PrependUOffsetTSlot(4, opt, 0)
		}
		oOffs = append(oOffs, b.EndObject())
	}
	tv, ov := offVec(b, tOffs), offVec(b, oOffs)
	iv, outv := int32Vec(b, inputs), int32Vec(b, outputs)
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, tv, 0)
	b.PrependUOffsetTSlot(1, iv, 0)
	b.PrependUOffsetTSlot(2, outv, 0)
	b.PrependUOffsetTSlot(3, ov, 0)
	sg := b.EndObject()
	sgv := offVec(b, []flatbuffers.UOffsetT{sg})
	cv := offVec(b, codeOffs)
	bv := offVec(b, bufOffs)
	desc := b.CreateString("test model")
	b.StartObject(5)
	b.PrependUint32Slot(0, 3, 0)
	b.PrependUOffsetTSlot(1, cv, 0)
	b.PrependUOffsetTSlot(2, sgv, 0)
	b.PrependUOffsetTSlot(3, desc, 0)
	b.PrependUOffsetTSlot(4, bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
	return b.FinishedBytes()
}

func f32bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func i32bytes(v []int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// convOpts writes Conv2DOptions (union type 1) or DepthwiseConv2DOptions
// (union type 2).
func convOpts(depthwise bool, same bool, stride int32, act byte) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		pad := int8(1)
		if same {
			pad = 0
		}
		if depthwise {
			b.StartObject(7)
			b.PrependInt8Slot(0, pad, 0)
			b.PrependInt32Slot(1, stride, 0)
			b.PrependInt32Slot(2, stride, 0)
			b.PrependInt32Slot(3, 1, 0)
			b.PrependByteSlot(4, act, 0)
			return b.EndObject()
		}
		b.StartObject(6)
		b.PrependInt8Slot(0, pad, 0)
		b.PrependInt32Slot(1, stride, 0)
		b.PrependInt32Slot(2, stride, 0)
		b.PrependByteSlot(3, act, 0)
		return b.EndObject()
	}
}
