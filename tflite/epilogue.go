package tflite

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// epilogue finishes the rows of a convolution or fully-connected GEMM:
// bias, fused activation and, for quantized models, requantization.
type epilogue struct {
	// float model
	bias   []float32
	lo, hi float32
	// quantized model (rq != nil): acc is an exact int32 sum held in float32
	rq      *requantizer
	biasF   []float32 // int32 bias as float32
	biasQ   []int32
	bigBias bool // some |bias| >= 2^24: add it in int32 to stay exact
}

// row finishes one row of accumulators. Quantized, it uses fp32
// requantization, q = zp + round_half_even(float32(acc) * scale), as
// XNNPACK (TFLite's default CPU delegate) does; with TFLite's fixed-point
// multipliers instead, reference probabilities moved by up to 0.03.
func (e *epilogue) row(v []float32) {
	if e.rq == nil {
		b := e.bias[:len(v)]
		for i := range v {
			v[i] = min(max(v[i]+b[i], e.lo), e.hi)
		}
		return
	}
	r := e.rq
	zp := float32(r.zp)
	lo, hi := float32(r.lo)-zp, float32(r.hi)-zp
	if e.bigBias {
		bq := e.biasQ[:len(v)]
		ss := r.scales[:len(v)]
		for i, a := range v {
			v[i] = kernels.RoundEven(min(max(float32(int32(a)+bq[i])*ss[i], lo), hi))
		}
		return
	}
	// acc + bias is an exact integer in float32 (both are below 2^24).
	kernels.Requantize(v, e.biasF[:len(v)], r.scales[:len(v)], lo, hi)
}

// requantizer maps int32 accumulators to centred output integers.
type requantizer struct {
	scales []float32 // in*filter/out scale per output channel
	zp     int32
	lo, hi int32
}

// convWeights prepares a convolution-like operator: it returns the filter
// (centred integers for a quantized model, reals for a float one) and the
// epilogue for oc output channels. Input 1 is the filter, input 2 the
// optional bias; the filter's per-channel scales run along its dimension
// chanDim.
func (m *Model) convWeights(od *opDef, rank, oc int, act uint8) ([]float32, epilogue, error) {
	var ep epilogue
	if len(od.Inputs) < 2 || od.Inputs[1] < 0 {
		return nil, ep, fmt.Errorf("tflite: %s (%s) lacks its filter", od.path, opName(od.Code))
	}
	wd := &m.defs[od.Inputs[1]]
	qin, qout := m.qps[od.Inputs[0]], m.qps[od.Outputs[0]]
	var bd *tensorDef
	if len(od.Inputs) > 2 && od.Inputs[2] >= 0 {
		bd = &m.defs[od.Inputs[2]]
		if bd.Data == nil || len(bd.Shape) != 1 || bd.Shape[0] != oc {
			return nil, ep, fmt.Errorf("tflite: %s (%s): bias %q has shape %v, want constant [%d]", od.path, opName(od.Code), bd.Name, bd.Shape, oc)
		}
	}
	if wd.Data == nil || len(wd.Shape) != rank {
		return nil, ep, fmt.Errorf("tflite: %s (%s): filter %q has shape %v, want a constant of rank %d", od.path, opName(od.Code), wd.Name, wd.Shape, rank)
	}
	quantized := qin != nil && qout != nil && wd.Quant != nil && (wd.Type == Uint8 || wd.Type == Int8)
	if !quantized {
		if qin != nil || qout != nil {
			return nil, ep, fmt.Errorf("tflite: %s (%s): mixed float and quantized tensors are not supported", od.path, opName(od.Code))
		}
		w, err := dequantize(wd)
		if err != nil {
			return nil, ep, err
		}
		ep.bias = make([]float32, oc)
		if bd != nil {
			if ep.bias, err = dequantize(bd); err != nil {
				return nil, ep, err
			}
		}
		if ep.lo, ep.hi, err = actRange(act, od.path); err != nil {
			return nil, ep, err
		}
		return w, ep, nil
	}
	if _, _, err := actRange(act, od.path); err != nil {
		return nil, ep, err
	}
	w, err := centred(wd)
	if err != nil {
		return nil, ep, err
	}
	ws := wd.Quant.Scale
	if len(ws) != 1 && len(ws) != oc {
		return nil, ep, fmt.Errorf("tflite: %s (%s): filter %q has %d scales for %d channels", od.path, opName(od.Code), wd.Name, len(ws), oc)
	}
	ep.biasF = make([]float32, oc)
	if bd != nil {
		if bd.Type != Int32 {
			return nil, ep, fmt.Errorf("tflite: %s (%s): quantized bias %q is %s, want int32", od.path, opName(od.Code), bd.Name, bd.Type)
		}
		raw, err := rawValues(bd)
		if err != nil {
			return nil, ep, err
		}
		ep.biasF = raw
		ep.biasQ = make([]int32, oc)
		for i := range ep.biasQ {
			ep.biasQ[i] = int32(binary.LittleEndian.Uint32(bd.Data[4*i:]))
			if ep.biasQ[i] >= 1<<24 || ep.biasQ[i] <= -1<<24 {
				ep.bigBias = true
			}
		}
	}
	rq := &requantizer{zp: qout.zp}
	rq.lo, rq.hi = qout.actBounds(act)
	for _, w := range ws {
		s := qin.scale * w / qout.scale
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, ep, fmt.Errorf("tflite: %s (%s): bad requantization scale %g", od.path, opName(od.Code), s)
		}
		rq.scales = append(rq.scales, s)
	}
	for len(rq.scales) < oc { // per-tensor: one scale for every channel
		rq.scales = append(rq.scales, rq.scales[0])
	}
	ep.rq = rq
	return w, ep, nil
}
