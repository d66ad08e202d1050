package tflite

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Quantized activations are stored as centred integers c = q - zero_point
// held in float32 (real = scale*c). Products of two centred 8-bit values
// and their sums stay exact in float32 while partial sums are below 2^24,
// so a float32 GEMM gives TFLite's int32 accumulator exactly; each
// operator then requantizes with TFLite's fixed-point multipliers and
// rounding (kernels.Multiplier, kernels.Requantize), which reproduces its
// integer kernels step by step.

// qparams is the per-tensor quantization of an activation tensor.
type qparams struct {
	scale      float32
	zp         int32
	qmin, qmax int32
}

func newQParams(td *tensorDef) (*qparams, error) {
	if td.Quant == nil || (td.Type != Uint8 && td.Type != Int8) {
		return nil, nil
	}
	if len(td.Quant.Scale) != 1 {
		return nil, fmt.Errorf("tflite: activation tensor %q has per-channel quantization (%d scales), which is not supported", td.Name, len(td.Quant.Scale))
	}
	q := &qparams{scale: td.Quant.Scale[0], zp: int32(td.Quant.ZeroPoint[0])}
	if td.Type == Uint8 {
		q.qmin, q.qmax = 0, 255
	} else {
		q.qmin, q.qmax = -128, 127
	}
	if td.Quant.ZeroPoint[0] < int64(q.qmin) || td.Quant.ZeroPoint[0] > int64(q.qmax) {
		return nil, fmt.Errorf("tflite: tensor %q zero point %d outside the %s range", td.Name, td.Quant.ZeroPoint[0], td.Type)
	}
	return q, nil
}

// actBounds returns the clamp range in q of a fused activation, as
// TFLite's CalculateActivationRangeQuantized does.
func (q *qparams) actBounds(act uint8) (lo, hi int32) {
	quant := func(f float32) int32 { return q.zp + int32(math.Round(float64(f/q.scale))) }
	switch act {
	case actRelu:
		return max(q.qmin, quant(0)), q.qmax
	case actRelu6:
		return max(q.qmin, quant(0)), min(q.qmax, quant(6))
	case actRelu1:
		return max(q.qmin, quant(-1)), min(q.qmax, quant(1))
	}
	return q.qmin, q.qmax
}

// quantizeReal maps real values to centred integers (rounding half away
// from zero, clamping to the type's range).
func (q *qparams) quantizeReal(v []float32) {
	for i, x := range v {
		v[i] = float32(kernels.QuantizeOne(x, q.scale, q.zp, q.qmin, q.qmax) - q.zp)
	}
}

// quantizeBytes is quantizeReal into bytes (q, plus 128 for int8).
func (q *qparams) quantizeBytes(dst []byte, v []float32) {
	kernels.QuantizeU8(dst, v, q.scale, q.zp, q.qmin, q.qmax, byteShift(q))
}

// activation function codes of the schema.
const (
	actNone  = 0
	actRelu  = 1
	actRelu1 = 2
	actRelu6 = 3
)

func actRange(act uint8, path string) (lo, hi float32, err error) {
	switch act {
	case actNone:
		return float32(math.Inf(-1)), float32(math.Inf(1)), nil
	case actRelu:
		return 0, float32(math.Inf(1)), nil
	case actRelu1:
		return -1, 1, nil
	case actRelu6:
		return 0, 6, nil
	}
	return 0, 0, fmt.Errorf("tflite: %s: fused activation %d is not supported", path, act)
}

// clampF applies a float activation range.
func clampF(v []float32, lo, hi float32) {
	if lo == float32(math.Inf(-1)) && hi == float32(math.Inf(1)) {
		return
	}
	for i, x := range v {
		v[i] = min(max(x, lo), hi)
	}
}

// dequantize returns the real values of a constant tensor. Per-channel
// scales are applied along the quantized dimension.
func dequantize(td *tensorDef) ([]float32, error) {
	out, err := rawValues(td)
	if err != nil || td.Quant == nil || td.Type == Float32 {
		return out, err
	}
	q := td.Quant
	inner, nc := channelLayout(td)
	for i := range out {
		c := (i / inner) % nc
		out[i] = (out[i] - float32(q.ZeroPoint[c])) * q.Scale[c]
	}
	return out, nil
}

// centred returns a quantized constant as q - zero_point (per channel).
func centred(td *tensorDef) ([]float32, error) {
	out, err := rawValues(td)
	if err != nil || td.Quant == nil {
		return out, err
	}
	q := td.Quant
	inner, nc := channelLayout(td)
	for i := range out {
		out[i] -= float32(q.ZeroPoint[(i/inner)%nc])
	}
	return out, nil
}

// channelLayout gives the stride and count of the quantized dimension
// (1, 1 for per-tensor quantization).
func channelLayout(td *tensorDef) (inner, nc int) {
	q := td.Quant
	if len(q.Scale) == 1 {
		return 1, 1
	}
	inner = 1
	for _, d := range td.Shape[q.Dim+1:] {
		inner *= d
	}
	return inner, td.Shape[q.Dim]
}

// rawValues returns a constant tensor's stored numbers as float32.
func rawValues(td *tensorDef) ([]float32, error) {
	n := 1
	for _, d := range td.Shape {
		n *= d
	}
	if td.Data == nil {
		return nil, fmt.Errorf("tflite: constant tensor %q has no data", td.Name)
	}
	out := make([]float32, n)
	switch td.Type {
	case Float32:
		for i := range out {
			out[i] = flatbuffers.GetFloat32(td.Data[4*i:])
		}
	case Float16:
		for i := range out {
			out[i] = halfToFloat(flatbuffers.GetUint16(td.Data[2*i:]))
		}
	case Uint8:
		for i := range out {
			out[i] = float32(td.Data[i])
		}
	case Int8:
		for i := range out {
			out[i] = float32(int8(td.Data[i]))
		}
	case Int32:
		for i := range out {
			out[i] = float32(flatbuffers.GetInt32(td.Data[4*i:]))
		}
	default:
		return nil, fmt.Errorf("tflite: constant tensor %q has unsupported type %s", td.Name, td.Type)
	}
	if td.Type == Float32 || td.Type == Float16 {
		// A NaN or infinite weight would give silently wrong outputs.
		for i, v := range out {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("tflite: constant tensor %q: value %d of %d is %g", td.Name, i, n, v)
			}
		}
	}
	return out, nil
}

// constInts reads a small int32/int64 constant tensor (shapes, axes).
func constInts(td *tensorDef) ([]int, error) {
	if td.Data == nil || (td.Type != Int32 && td.Type != Int64) {
		return nil, fmt.Errorf("tflite: tensor %q must be a constant int32 tensor", td.Name)
	}
	es := td.Type.size()
	out := make([]int, len(td.Data)/es)
	for i := range out {
		if es == 4 {
			out[i] = int(flatbuffers.GetInt32(td.Data[4*i:]))
		} else {
			out[i] = int(flatbuffers.GetInt64(td.Data[8*i:]))
		}
	}
	return out, nil
}

// halfToFloat converts an IEEE 754 binary16 value (float16 weights, which
// converters pair with DEQUANTIZE) to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24.
	v := float32(frac) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}
