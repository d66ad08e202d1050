package tflite

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Builtin operator codes from the schema's BuiltinOperator enum.
const (
	opAdd           = 0
	opAveragePool2D = 1
	opConcatenation = 2
	opConv2D        = 3
	opDepthwiseConv = 4
	opDequantize    = 6
	opFullyConn     = 9
	opMaxPool2D     = 17
	opReshape       = 22
	opSoftmax       = 25
	opPad           = 34
	opMean          = 40
	opSqueeze       = 43
	opQuantize      = 114
)

var opNames = map[int32]string{
	opAdd: "ADD", opAveragePool2D: "AVERAGE_POOL_2D", opConcatenation: "CONCATENATION",
	opConv2D: "CONV_2D", opDepthwiseConv: "DEPTHWISE_CONV_2D", opDequantize: "DEQUANTIZE",
	opFullyConn: "FULLY_CONNECTED", opMaxPool2D: "MAX_POOL_2D", opReshape: "RESHAPE",
	opSoftmax: "SOFTMAX", opPad: "PAD", opMean: "MEAN", opSqueeze: "SQUEEZE", opQuantize: "QUANTIZE",
	5: "DEPTH_TO_SPACE", 14: "LOGISTIC", 18: "MUL", 19: "RELU", 21: "RELU6", 23: "RESIZE_BILINEAR",
	28: "TANH", 32: "CUSTOM", 39: "TRANSPOSE", 41: "SUB", 42: "DIV", 45: "STRIDED_SLICE",
	49: "SPLIT", 53: "CAST", 54: "PRELU", 60: "PADV2", 117: "HARD_SWISH",
}

func opName(code int32) string {
	if n, ok := opNames[code]; ok {
		return n
	}
	return fmt.Sprintf("builtin operator %d", code)
}

// convParams are the options shared by convolutions and pools.
type convParams struct {
	same             bool
	strideH, strideW int
	dilH, dilW       int
	kh, kw           int // pools only
	act              uint8
	lo, hi           float32
}

// outSize returns the output extent and the padding before, TFLite style:
// SAME gives ceil(in/stride) with the extra padding after; VALID none.
func outSize(in, k, stride, dil int, same bool) (out, padBefore int) {
	ek := (k-1)*dil + 1
	if same {
		out = (in + stride - 1) / stride
		pad := max((out-1)*stride+ek-in, 0)
		return out, pad / 2
	}
	if in < ek {
		return 0, 0
	}
	return (in-ek)/stride + 1, 0
}

// readConvOptions parses Conv2DOptions, DepthwiseConv2DOptions or
// Pool2DOptions (their field numbers differ).
func readConvOptions(od *opDef) (convParams, int, error) {
	p := convParams{strideH: 1, strideW: 1, dilH: 1, dilW: 1}
	mult := 1
	if !od.HasOpts {
		return p, 0, fmt.Errorf("tflite: %s (%s) has no options", od.path, opName(od.Code))
	}
	t := od.Options
	pad, err := t.int8(0, "padding", 0)
	if err != nil {
		return p, 0, err
	}
	if pad != 0 && pad != 1 {
		return p, 0, errField(t.field("padding"), "%d is neither SAME (0) nor VALID (1)", pad)
	}
	p.same = pad == 0
	sw, err := t.int32(1, "stride_w", 0)
	if err != nil {
		return p, 0, err
	}
	sh, err := t.int32(2, "stride_h", 0)
	if err != nil {
		return p, 0, err
	}
	var act uint8
	var dw, dh int32 = 1, 1
	switch od.Code {
	case opConv2D:
		if act, err = t.uint8(3, "fused_activation_function", 0); err != nil {
			return p, 0, err
		}
		if dw, err = t.int32(4, "dilation_w_factor", 1); err != nil {
			return p, 0, err
		}
		if dh, err = t.int32(5, "dilation_h_factor", 1); err != nil {
			return p, 0, err
		}
	case opDepthwiseConv:
		m, err := t.int32(3, "depth_multiplier", 1)
		if err != nil {
			return p, 0, err
		}
		mult = int(m)
		if act, err = t.uint8(4, "fused_activation_function", 0); err != nil {
			return p, 0, err
		}
		if dw, err = t.int32(5, "dilation_w_factor", 1); err != nil {
			return p, 0, err
		}
		if dh, err = t.int32(6, "dilation_h_factor", 1); err != nil {
			return p, 0, err
		}
	default: // pools
		fw, err := t.int32(3, "filter_width", 0)
		if err != nil {
			return p, 0, err
		}
		fh, err := t.int32(4, "filter_height", 0)
		if err != nil {
			return p, 0, err
		}
		if fw < 1 || fh < 1 || fw > 1<<16 || fh > 1<<16 {
			return p, 0, errField(t.field("filter_width"), "filter %dx%d", fh, fw)
		}
		p.kw, p.kh = int(fw), int(fh)
		if act, err = t.uint8(5, "fused_activation_function", 0); err != nil {
			return p, 0, err
		}
	}
	if sw < 1 || sh < 1 || sw > 1<<16 || sh > 1<<16 {
		return p, 0, errField(t.field("stride_w"), "strides %dx%d must be positive", sh, sw)
	}
	if dw < 1 || dh < 1 || dw > 1<<16 || dh > 1<<16 {
		return p, 0, errField(t.field("dilation_w_factor"), "dilations %dx%d must be positive", dh, dw)
	}
	p.strideW, p.strideH, p.dilW, p.dilH = int(sw), int(sh), int(dw), int(dh)
	p.act = act
	if p.lo, p.hi, err = actRange(act, od.path); err != nil {
		return p, 0, err
	}
	return p, mult, nil
}

// ioCheck verifies the operator's input and output counts.
func ioCheck(od *opDef, minIn, maxIn, nOut int) error {
	if len(od.Inputs) < minIn || len(od.Inputs) > maxIn || len(od.Outputs) != nOut {
		return fmt.Errorf("tflite: %s (%s) has %d inputs and %d outputs", od.path, opName(od.Code), len(od.Inputs), len(od.Outputs))
	}
	if od.Inputs[0] < 0 {
		return fmt.Errorf("tflite: %s (%s) lacks its first input", od.path, opName(od.Code))
	}
	return nil
}

func (m *Model) compileOp(od *opDef) (op, error) {
	out := func() int { return od.Outputs[0] }
	switch od.Code {
	case opConv2D:
		return m.compileConv(od)
	case opDepthwiseConv:
		return m.compileDepthwise(od)
	case opFullyConn:
		return m.compileFC(od)
	case opAveragePool2D, opMaxPool2D:
		if err := ioCheck(od, 1, 1, 1); err != nil {
			return nil, err
		}
		p, _, err := readConvOptions(od)
		if err != nil {
			return nil, err
		}
		o := &poolOp{in: od.Inputs[0], out: out(), p: p, max: od.Code == opMaxPool2D, q: m.qps[out()]}
		if err := m.sameQuant(od, od.Inputs[0]); err != nil {
			return nil, err
		}
		if o.q != nil {
			o.qlo, o.qhi = o.q.actBounds(p.act)
			o.qint = useQ()
		}
		return o, nil
	case opAdd:
		if err := ioCheck(od, 2, 2, 1); err != nil {
			return nil, err
		}
		var act uint8
		if od.HasOpts {
			var err error
			if act, err = od.Options.uint8(0, "fused_activation_function", 0); err != nil {
				return nil, err
			}
		}
		return m.compileAdd(od, act)
	case opReshape, opSqueeze:
		if err := ioCheck(od, 1, 2, 1); err != nil {
			return nil, err
		}
		if err := m.sameQuant(od, od.Inputs[0]); err != nil {
			return nil, err
		}
		return m.compileReshape(od)
	case opSoftmax:
		if err := ioCheck(od, 1, 1, 1); err != nil {
			return nil, err
		}
		beta := float32(1)
		if od.HasOpts {
			var err error
			if beta, err = od.Options.float32(0, "beta", 1); err != nil {
				return nil, err
			}
		}
		return &softmaxOp{in: od.Inputs[0], out: out(), beta: beta, qi: m.qps[od.Inputs[0]], qo: m.qps[out()]}, nil
	case opPad:
		if err := ioCheck(od, 2, 2, 1); err != nil {
			return nil, err
		}
		if err := m.sameQuant(od, od.Inputs[0]); err != nil {
			return nil, err
		}
		pads, err := constInts(&m.defs[od.Inputs[1]])
		if err != nil {
			return nil, err
		}
		for _, v := range pads {
			if v < 0 || v > 1<<10 {
				return nil, fmt.Errorf("tflite: %s (PAD): padding %v out of range [0,1024]", od.path, pads)
			}
		}
		return &padOp{in: od.Inputs[0], out: out(), pads: pads, path: od.path}, nil
	case opMean:
		if err := ioCheck(od, 2, 2, 1); err != nil {
			return nil, err
		}
		axes, err := constInts(&m.defs[od.Inputs[1]])
		if err != nil {
			return nil, err
		}
		keep := false
		if od.HasOpts {
			k, err := od.Options.uint8(0, "keep_dims", 0)
			if err != nil {
				return nil, err
			}
			keep = k != 0
		}
		o := &meanOp{in: od.Inputs[0], out: out(), axes: axes, keep: keep, qi: m.qps[od.Inputs[0]], qo: m.qps[out()], path: od.path}
		if (o.qi == nil) != (o.qo == nil) {
			return nil, fmt.Errorf("tflite: %s (MEAN): mixed float and quantized tensors are not supported", od.path)
		}
		return o, nil
	case opConcatenation:
		if len(od.Inputs) < 1 || len(od.Outputs) != 1 {
			return nil, ioCheck(od, 1, 1<<20, 1)
		}
		var axis int32
		var act uint8
		if od.HasOpts {
			var err error
			if axis, err = od.Options.int32(0, "axis", 0); err != nil {
				return nil, err
			}
			if act, err = od.Options.uint8(1, "fused_activation_function", 0); err != nil {
				return nil, err
			}
		}
		if act != actNone {
			return nil, fmt.Errorf("tflite: %s (CONCATENATION): fused activation %d is not supported", od.path, act)
		}
		for _, t := range od.Inputs {
			if t < 0 {
				return nil, fmt.Errorf("tflite: %s (CONCATENATION) has an absent input", od.path)
			}
			if err := m.sameQuant(od, t); err != nil {
				return nil, err
			}
		}
		return &concatOp{ins: od.Inputs, out: out(), axis: int(axis), path: od.path}, nil
	case opQuantize, opDequantize:
		if err := ioCheck(od, 1, 1, 1); err != nil {
			return nil, err
		}
		o := &requantOp{in: od.Inputs[0], out: out(), qi: m.qps[od.Inputs[0]], qo: m.qps[out()]}
		if o.qi != nil && o.qo != nil {
			o.mult = kernels.QuantizeMultiplier(float64(o.qi.scale) / float64(o.qo.scale))
		}
		return o, nil
	}
	return nil, &unsupportedOpError{od: od}
}

// unsupportedOpError is an operator the interpreter lacks; compile
// collects them so that every one is reported at once.
type unsupportedOpError struct{ od *opDef }

func (e *unsupportedOpError) Error() string {
	return fmt.Sprintf("tflite: %s: operator %s is not supported", e.od.path, opName(e.od.Code))
}

// sameQuant checks that an operator that moves values without rescaling
// (pooling, reshape, pad, concatenation) has input and output on the same
// quantization grid.
func (m *Model) sameQuant(od *opDef, in int) error {
	a, b := m.qps[in], m.qps[od.Outputs[0]]
	if (a == nil) != (b == nil) || (a != nil && (a.scale != b.scale || a.zp != b.zp)) {
		return fmt.Errorf("tflite: %s (%s): input %q and output %q have different quantization, which is not supported", od.path, opName(od.Code), m.defs[in].Name, m.defs[od.Outputs[0]].Name)
	}
	return nil
}

// filterRank checks that od's input 1 is a constant of the given rank.
func (m *Model) filterRank(od *opDef, rank int) error {
	if len(od.Inputs) < 2 || od.Inputs[1] < 0 {
		return fmt.Errorf("tflite: %s (%s) lacks its filter", od.path, opName(od.Code))
	}
	td := &m.defs[od.Inputs[1]]
	if td.Data == nil || len(td.Shape) != rank {
		return fmt.Errorf("tflite: %s (%s): filter %q has shape %v, want a constant of rank %d", od.path, opName(od.Code), td.Name, td.Shape, rank)
	}
	for _, d := range td.Shape {
		if d == 0 {
			return fmt.Errorf("tflite: %s (%s): filter %q has shape %v", od.path, opName(od.Code), td.Name, td.Shape)
		}
	}
	return nil
}

// inShape fetches and checks the rank of an activation shape at run time.
func inShape(st *state, i, rank int, what string) ([]int, error) {
	s := st.shapes[i]
	if rank > 0 && len(s) != rank {
		return nil, fmt.Errorf("tflite: %s input has shape %v, want rank %d", what, s, rank)
	}
	return s, nil
}

type poolOp struct {
	in, out  int
	p        convParams
	max      bool
	q        *qparams // nil for float
	qlo, qhi int32    // activation bounds in q
	// The integer path (qpool.go), chosen at load; where the input and
	// output are bytes.
	qint              bool
	inBytes, outBytes bool
}

// roundedAverage is TFLite's integer rounding of a quantized average
// pool: sum/cnt rounded half away from zero.
func roundedAverage(sum, cnt int32) int32 {
	if sum >= 0 {
		return (sum + cnt/2) / cnt
	}
	return (sum - cnt/2) / cnt
}

func (o *poolOp) run(st *state) error {
	s, err := inShape(st, o.in, 4, "pool")
	if err != nil {
		return err
	}
	n, h, w, c := s[0], s[1], s[2], s[3]
	oh, pt := outSize(h, o.p.kh, o.p.strideH, 1, o.p.same)
	ow, pl := outSize(w, o.p.kw, o.p.strideW, 1, o.p.same)
	if o.integer() {
		o.runQ(st, n, h, w, c, oh, ow, pt, pl)
		return nil
	}
	x := st.data[o.in]
	y := st.out(o.out, []int{n, oh, ow, c})
	acc := make([]float32, c)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				y0, y1 := max(i*o.p.strideH-pt, 0), min(i*o.p.strideH-pt+o.p.kh, h)
				x0, x1 := max(j*o.p.strideW-pl, 0), min(j*o.p.strideW-pl+o.p.kw, w)
				if o.max {
					for k := range acc {
						acc[k] = float32(math.Inf(-1))
					}
				} else {
					clear(acc)
				}
				for yy := y0; yy < y1; yy++ {
					for xx := x0; xx < x1; xx++ {
						row := x[((b*h+yy)*w+xx)*c:][:c]
						if o.max {
							for k, v := range row {
								acc[k] = max(acc[k], v)
							}
						} else {
							for k, v := range row {
								acc[k] += v
							}
						}
					}
				}
				// TFLite divides by the number of taps inside the image.
				cnt := max((y1-y0)*(x1-x0), 1)
				dst := y[((b*oh+i)*ow+j)*c:][:c]
				switch {
				case o.q == nil && o.max:
					copy(dst, acc)
					clampF(dst, o.p.lo, o.p.hi)
				case o.q == nil:
					inv := 1 / float32(cnt)
					for k, v := range acc {
						dst[k] = min(max(v*inv, o.p.lo), o.p.hi)
					}
				default:
					zp := o.q.zp
					for k, v := range acc {
						q := int32(v) + zp
						if !o.max {
							q = roundedAverage(int32(v)+int32(cnt)*zp, int32(cnt))
						}
						dst[k] = float32(min(max(q, o.qlo), o.qhi) - zp)
					}
				}
			}
		}
	}
	return nil
}

// addOp is ADD of two same-shape tensors (or a tensor and a scalar).
// Quantized, it follows TFLite's integer kernel: both inputs are scaled to
// a common 20-bit-shifted grid, summed and requantized.
type addOp struct {
	a, b, out  int
	lo, hi     float32
	quant      bool
	ma, mb, mo kernels.Multiplier
	zp         int32
	qlo, qhi   int32
	q          *qadd // the integer path
	path       string
}

const addLeftShift = 20

func (m *Model) compileAdd(od *opDef, act uint8) (op, error) {
	o := &addOp{a: od.Inputs[0], b: od.Inputs[1], out: od.Outputs[0], path: od.path}
	var err error
	if o.lo, o.hi, err = actRange(act, od.path); err != nil {
		return nil, err
	}
	qa, qb, qo := m.qps[o.a], m.qps[o.b], m.qps[o.out]
	if qa == nil && qb == nil && qo == nil {
		return o, nil
	}
	if qa == nil || qb == nil || qo == nil {
		return nil, fmt.Errorf("tflite: %s (ADD): mixed float and quantized tensors are not supported", od.path)
	}
	o.quant = true
	twiceMax := 2 * float64(max(qa.scale, qb.scale))
	o.ma = kernels.QuantizeMultiplier(float64(qa.scale) / twiceMax)
	o.mb = kernels.QuantizeMultiplier(float64(qb.scale) / twiceMax)
	o.mo = kernels.QuantizeMultiplier(twiceMax / (float64(int(1)<<addLeftShift) * float64(qo.scale)))
	o.zp = qo.zp
	o.qlo, o.qhi = qo.actBounds(act)
	o.newQAdd(m)
	return o, nil
}

func (o *addOp) run(st *state) error {
	if o.q != nil {
		return o.runQ(st)
	}
	sa, sb := st.shapes[o.a], st.shapes[o.b]
	xa, xb := st.data[o.a], st.data[o.b]
	scalar := false
	switch {
	case len(xa) == len(xb):
	case len(xb) == 1:
		scalar = true
	case len(xa) == 1:
		xa, xb, sa, scalar = xb, xa, sb, true
		if o.quant {
			return fmt.Errorf("tflite: %s (ADD): scalar first operand with shapes %v and %v is not supported", o.path, sa, sb)
		}
	default:
		return fmt.Errorf("tflite: %s (ADD): shapes %v and %v differ (broadcasting is not supported)", o.path, sa, sb)
	}
	y := st.out(o.out, sa)
	for i, v := range xa {
		w := xb[0]
		if !scalar {
			w = xb[i]
		}
		if !o.quant {
			y[i] = min(max(v+w, o.lo), o.hi)
			continue
		}
		a := o.ma.Apply(int32(v) << addLeftShift)
		b := o.mb.Apply(int32(w) << addLeftShift)
		q := o.mo.Apply(a+b) + o.zp
		y[i] = float32(min(max(q, o.qlo), o.qhi) - o.zp)
	}
	return nil
}

type softmaxOp struct {
	in, out int
	beta    float32
	qi, qo  *qparams
}

func (o *softmaxOp) run(st *state) error {
	s := st.shapes[o.in]
	if len(s) == 0 {
		return fmt.Errorf("tflite: SOFTMAX of a scalar")
	}
	x := st.data[o.in]
	y := st.out(o.out, s)
	n := s[len(s)-1]
	if n == 0 {
		return nil
	}
	beta := o.beta
	if o.qi != nil {
		beta *= o.qi.scale
	}
	for r := 0; r+n <= len(x); r += n {
		row, dst := x[r:r+n], y[r:r+n]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var sum float64
		for i, v := range row {
			e := math.Exp(float64(beta * (v - mx)))
			dst[i] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for i := range dst {
			dst[i] *= inv
		}
	}
	if q := o.qo; q != nil {
		for i, p := range y {
			v := int32(p/q.scale+0.5) + q.zp
			y[i] = float32(min(max(v, q.qmin), q.qmax) - q.zp)
		}
	}
	return nil
}

type padOp struct {
	in, out int
	pads    []int
	path    string
}

func (o *padOp) run(st *state) error {
	s := st.shapes[o.in]
	if len(o.pads) != 2*len(s) || len(s) != 4 {
		return fmt.Errorf("tflite: %s (PAD): %d paddings for input %v (only rank 4 is supported)", o.path, len(o.pads), s)
	}
	os := make([]int, 4)
	for i := range s {
		os[i] = s[i] + o.pads[2*i] + o.pads[2*i+1]
	}
	x := st.data[o.in]
	y := st.out(o.out, os)
	clear(y) // centred zero: TFLite pads with the zero point
	n, h, w, c := s[0], s[1], s[2], s[3]
	for b := 0; b < n; b++ {
		for i := 0; i < h; i++ {
			src := x[((b*h+i)*w)*c:][:w*c]
			bb, ii := b+o.pads[0], i+o.pads[2]
			dst := y[(((bb*os[1]+ii)*os[2] + o.pads[4]) * os[3]):]
			for j := 0; j < w; j++ {
				copy(dst[j*os[3]+o.pads[6]:], src[j*c:(j+1)*c])
			}
		}
	}
	return nil
}

type meanOp struct {
	in, out int
	axes    []int
	keep    bool
	qi, qo  *qparams
	path    string
}

func (o *meanOp) run(st *state) error {
	s := st.shapes[o.in]
	red := make([]bool, len(s))
	for _, a := range o.axes {
		if a < 0 {
			a += len(s)
		}
		if a < 0 || a >= len(s) {
			return fmt.Errorf("tflite: %s (MEAN): axis %d for input %v", o.path, a, s)
		}
		red[a] = true
	}
	var os []int
	count := 1
	for i, d := range s {
		if red[i] {
			count *= d
			if o.keep {
				os = append(os, 1)
			}
		} else {
			os = append(os, d)
		}
	}
	x := st.data[o.in]
	y := st.out(o.out, os)
	clear(y)
	// Walk the input, mapping each index to its output position.
	idx := make([]int, len(s))
	for _, v := range x {
		p := 0
		for i := range s {
			if !red[i] {
				p = p*s[i] + idx[i]
			}
		}
		y[p] += v
		for i := len(s) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < s[i] {
				break
			}
			idx[i] = 0
		}
	}
	n := float32(max(count, 1))
	if o.qi == nil {
		for i := range y {
			y[i] /= n
		}
		return nil
	}
	// TFLite's quantized mean works in float on the raw integers and adds
	// 0.5 before rounding (so it rounds up by half a step on average);
	// reproduce that bias.
	qi, qo := o.qi, o.qo
	scale := qi.scale / qo.scale
	bias := -float32(qi.zp)*scale + 0.5
	for i, sum := range y {
		mean := (sum + float32(qi.zp)*n) / n
		q := int32(math.Round(float64(mean*scale+bias))) + qo.zp
		y[i] = float32(min(max(q, qo.qmin), qo.qmax) - qo.zp)
	}
	return nil
}

type concatOp struct {
	ins  []int
	out  int
	axis int
	path string
}

func (o *concatOp) run(st *state) error {
	s0 := st.shapes[o.ins[0]]
	axis := o.axis
	if axis < 0 {
		axis += len(s0)
	}
	if axis < 0 || axis >= len(s0) {
		return fmt.Errorf("tflite: %s (CONCATENATION): axis %d for shape %v", o.path, o.axis, s0)
	}
	os := append([]int(nil), s0...)
	os[axis] = 0
	for _, t := range o.ins {
		s := st.shapes[t]
		if len(s) != len(s0) {
			return fmt.Errorf("tflite: %s (CONCATENATION): shapes %v and %v", o.path, s0, s)
		}
		for i := range s {
			if i != axis && s[i] != s0[i] {
				return fmt.Errorf("tflite: %s (CONCATENATION): shapes %v and %v", o.path, s0, s)
			}
		}
		os[axis] += s[axis]
	}
	outer := 1
	for _, d := range s0[:axis] {
		outer *= d
	}
	inner := 1
	for _, d := range s0[axis+1:] {
		inner *= d
	}
	y := st.out(o.out, os)
	rowOut := os[axis] * inner
	off := 0
	for _, t := range o.ins {
		x := st.data[t]
		w := st.shapes[t][axis] * inner
		for r := 0; r < outer; r++ {
			copy(y[r*rowOut+off:r*rowOut+off+w], x[r*w:(r+1)*w])
		}
		off += w
	}
	return nil
}

// requantOp is QUANTIZE (float or another grid to a grid) and DEQUANTIZE
// (grid to float).
type requantOp struct {
	in, out int
	qi, qo  *qparams
	mult    kernels.Multiplier // qi.scale/qo.scale when both are quantized
}

func (o *requantOp) run(st *state) error {
	y := st.out(o.out, st.shapes[o.in])
	x := st.data[o.in]
	switch {
	case o.qi == nil && o.qo == nil:
		copy(y, x)
	case o.qi == nil:
		copy(y, x)
		o.qo.quantizeReal(y)
	case o.qo == nil:
		for i, v := range x {
			y[i] = v * o.qi.scale
		}
	default:
		q := o.qo
		for i, v := range x {
			r := o.mult.Apply(int32(v)) + q.zp
			y[i] = float32(min(max(r, q.qmin), q.qmax) - q.zp)
		}
	}
	return nil
}

type reshapeOp struct {
	in, out int
	shape   []int // may contain one -1
	squeeze []int // SQUEEZE dims (nil = all size-1 dims) when squeezeOp
	isSq    bool
	path    string
}

func (m *Model) compileReshape(od *opDef) (op, error) {
	o := &reshapeOp{in: od.Inputs[0], out: od.Outputs[0], path: od.path}
	if od.Code == opSqueeze {
		o.isSq = true
		if od.HasOpts {
			d, err := od.Options.int32s(0, "squeeze_dims")
			if err != nil {
				return nil, err
			}
			for _, v := range d {
				o.squeeze = append(o.squeeze, int(v))
			}
		}
		return o, nil
	}
	var err error
	switch {
	case len(od.Inputs) == 2 && od.Inputs[1] >= 0 && m.defs[od.Inputs[1]].Data != nil:
		o.shape, err = constInts(&m.defs[od.Inputs[1]])
	case od.HasOpts:
		var v []int32
		v, err = od.Options.int32s(0, "new_shape")
		for _, x := range v {
			o.shape = append(o.shape, int(x))
		}
	default:
		o.shape = m.defs[od.Outputs[0]].Shape
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (o *reshapeOp) run(st *state) error {
	s := st.shapes[o.in]
	n := 1
	for _, d := range s {
		n *= d
	}
	var ns []int
	if o.isSq {
		for i, d := range s {
			drop := false
			if o.squeeze == nil {
				drop = d == 1
			}
			for _, a := range o.squeeze {
				if a == i || a+len(s) == i {
					drop = d == 1
				}
			}
			if !drop {
				ns = append(ns, d)
			}
		}
	} else {
		ns = append(ns, o.shape...)
		// The stored shape has batch 1; keep the run's batch.
		if len(ns) > 0 && len(s) > 0 && ns[0] == 1 && s[0] != 1 {
			ns[0] = s[0]
		}
		infer, k := -1, 1
		for i, d := range ns {
			switch {
			case d == -1 && infer < 0:
				infer = i
			case d < 0:
				return fmt.Errorf("tflite: %s (RESHAPE): shape %v", o.path, o.shape)
			default:
				k *= d
			}
		}
		if infer >= 0 && k > 0 {
			ns[infer] = n / k
		}
	}
	m := 1
	for _, d := range ns {
		m *= d
	}
	if m != n {
		return fmt.Errorf("tflite: %s (RESHAPE): cannot reshape %v to %v", o.path, s, ns)
	}
	y := st.out(o.out, ns)
	copy(y, st.data[o.in])
	return nil
}
