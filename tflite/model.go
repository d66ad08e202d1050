package tflite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Model is a loaded TFLite graph ready to run. It is safe for concurrent
// use: each Run takes its own activation buffers from a pool.
type Model struct {
	// Description is the model's description string from the file.
	Description string

	defs    []tensorDef
	qps     []*qparams  // per tensor: quantization of activations (nil = float)
	consts  [][]float32 // per tensor: dequantized constants (nil = activation)
	ops     []op
	release [][]int // per op: activations whose last reader it is
	input   int
	output  int
	pool    sync.Pool
	probs   bool     // the output comes from a SOFTMAX (maybe requantized/reshaped)
	inBytes bool     // the input is quantized straight into bytes (see qconv.go)
	src     []byte   // a copy of the file, which ToGraph converts
	opNames []string // per op: its first output's name, for profiles (RunProfile)
	opKinds []string // per op: the builtin operator's name
	path    string   // the file's path when loaded by Load, for ToGraph's errors
}

// op is one compiled operator.
type op interface {
	run(st *state) error
}

// state holds the activations of one run: shape and data per tensor.
type state struct {
	shapes [][]int
	data   [][]float32
	free   [][]float32 // buffers of tensors no longer needed
	// Tensors kept as bytes between integer operators (see qconv.go).
	q     [][]byte
	qfree [][]byte
	qtmp  [2][]byte // an operator's float32 inputs converted to bytes
	// The parallel operators' tasks: one image's operators run one after
	// another, so one of each per state is enough.
	conv       convTask
	qconv      qconvTask
	qdepthwise qdepthwiseTask
	qadd       qaddTask
	quantize   quantizeTask
	qpool      qpoolTask
	poolAcc    []int32 // the integer pool's sums
	depthwise  depthwiseTask
}

// qSlack is how far past a byte tensor's end the integer kernels may
// read (whole quads of depth); they never use what they read there.
const qSlack = 64

// outQ returns tensor i's byte buffer resized for shape, as out does.
func (st *state) outQ(i int, shape []int) []byte {
	st.q[i] = reuse(st.q[i], &st.qfree, st.setShape(i, shape), qSlack)
	return st.q[i]
}

// bytesIn returns tensor i as bytes: kept as such (isBytes), or its
// centred float32 values converted into temporary slot (0 or 1) with
// the zero point zp as a byte.
func (st *state) bytesIn(i int, isBytes bool, slot int, zp int32) []byte {
	if isBytes {
		return st.q[i]
	}
	return st.toBytes(slot, st.data[i], zp)
}

// outputs returns tensor i's buffer for shape: bytes (yq) or centred
// float32 (y), the other nil.
func (st *state) outputs(i int, shape []int, isBytes bool) (y []float32, yq []byte) {
	if isBytes {
		return nil, st.outQ(i, shape)
	}
	return st.out(i, shape), nil
}

// toBytes converts centred float32 values to bytes (value + zp) in a
// buffer the state keeps.
func (st *state) toBytes(slot int, x []float32, zp int32) []byte {
	if cap(st.qtmp[slot]) < len(x)+qSlack {
		st.qtmp[slot] = make([]byte, len(x), len(x)+qSlack)
	}
	b := st.qtmp[slot][:len(x)]
	for i, v := range x {
		b[i] = byte(int32(v) + zp)
	}
	return b
}

// out returns tensor i's buffer resized for shape (reusing memory).
func (st *state) out(i int, shape []int) []float32 {
	st.data[i] = reuse(st.data[i], &st.free, st.setShape(i, shape), 0)
	return st.data[i]
}

// setShape records tensor i's shape and returns its number of values.
func (st *state) setShape(i int, shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	st.shapes[i] = append(st.shapes[i][:0], shape...)
	return n
}

// reuse returns buf resized to n values with room for slack more: buf
// itself when it is large enough, else the smallest buffer of free that
// is (taken out of free), else a new one.
func reuse[T byte | float32](buf []T, free *[][]T, n, slack int) []T {
	if cap(buf) < n+slack {
		best := -1
		for j, f := range *free {
			if cap(f) >= n+slack && (best < 0 || cap(f) < cap((*free)[best])) {
				best = j
			}
		}
		if best >= 0 {
			buf = (*free)[best]
			*free = append((*free)[:best], (*free)[best+1:]...)
		} else {
			buf = make([]T, n, n+slack)
		}
	}
	return buf[:n]
}

// Load reads and compiles a .tflite file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.path = path
	return m, nil
}

// Parse compiles a model from the bytes of a .tflite file. The model
// keeps no reference to b, but a copy of it, which ToGraph converts (the
// file's size again: 3.6 MB for MobileNet v2).
func Parse(b []byte) (m *Model, err error) {
	defer func() {
		// Last-resort guard: the reader validates every offset, so this
		// only fires on a bug; report it as a corrupt file, not a crash.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("tflite: corrupt model file: %v", r)
		}
	}()
	def, err := decode(b)
	if err != nil {
		return nil, err
	}
	if m, err = compile(def); err != nil {
		return nil, err
	}
	// The interpreter keeps its own prepared weights; ToGraph converts
	// the file again, from a copy (so m keeps no reference to b).
	m.src = bytes.Clone(b)
	return m, nil
}

// opText names operator i as the graph importer's errors do: index,
// name, version and first output.
func opText(def *modelDef, i int, od *opDef) string {
	name := opName(od.Code)
	if od.Code == opCustom && od.Custom != "" {
		name = fmt.Sprintf("CUSTOM %q", od.Custom)
	}
	out := ""
	if len(od.Outputs) > 0 && od.Outputs[0] >= 0 && od.Outputs[0] < len(def.Tensors) {
		out = fmt.Sprintf(", output %q", def.Tensors[od.Outputs[0]].Name)
	}
	return fmt.Sprintf("operator %d (%s v%d%s)", i, name, od.Version, out)
}

func compile(def *modelDef) (*Model, error) {
	if len(def.Inputs) != 1 || len(def.Outputs) != 1 {
		return nil, fmt.Errorf("tflite: model has %d inputs and %d outputs, want 1 and 1", len(def.Inputs), len(def.Outputs))
	}
	m := &Model{
		Description: def.Description,
		defs:        def.Tensors,
		qps:         make([]*qparams, len(def.Tensors)),
		input:       def.Inputs[0],
		output:      def.Outputs[0],
	}
	for i := range def.Tensors {
		td := &def.Tensors[i]
		if td.Data != nil {
			continue
		}
		q, err := newQParams(td)
		if err != nil {
			return nil, err
		}
		m.qps[i] = q
	}
	in := &def.Tensors[m.input]
	if len(in.Shape) != 4 || in.Data != nil {
		return nil, fmt.Errorf("tflite: input tensor %q has shape %v, want NHWC", in.Name, in.Shape)
	}
	produced := make([]bool, len(def.Tensors))
	var compiled []*opDef // the definition of each of m.ops
	fromSoftmax := make([]bool, len(def.Tensors))
	lastUse := make(map[int]int)
	var unsupported []string
	produced[m.input] = true
	for i := range def.Ops {
		od := &def.Ops[i]
		for _, t := range od.Inputs {
			if t >= 0 && !produced[t] && def.Tensors[t].Data == nil {
				return nil, fmt.Errorf("tflite: %s (%s) reads tensor %q before it is computed", od.path, opName(od.Code), def.Tensors[t].Name)
			}
		}
		// Operators read their data operands from the run's activations;
		// constants are only supported as weights, shapes and axes.
		data := od.Inputs[:min(1, len(od.Inputs))]
		switch od.Code {
		case opAdd, opConcatenation:
			data = od.Inputs
		}
		for _, t := range data {
			if t >= 0 && def.Tensors[t].Data != nil {
				return nil, fmt.Errorf("tflite: %s (%s): constant operand %q is not supported", od.path, opName(od.Code), def.Tensors[t].Name)
			}
		}
		o, err := m.compileOp(od)
		var ue *unsupportedOpError
		if errors.As(err, &ue) {
			// Carry on to list every unsupported operator; the outputs
			// count as computed so later operators are checked too.
			unsupported = append(unsupported, opText(def, i, od))
			for _, t := range od.Outputs {
				produced[t] = true
			}
			continue
		}
		if err != nil && len(unsupported) == 0 {
			return nil, err
		}
		if err != nil {
			continue // the unsupported operators are the first news
		}
		for _, t := range od.Outputs {
			if def.Tensors[t].Data != nil {
				return nil, fmt.Errorf("tflite: %s (%s) writes constant tensor %q", od.path, opName(od.Code), def.Tensors[t].Name)
			}
			produced[t] = true
		}
		m.ops = append(m.ops, o)
		m.opKinds = append(m.opKinds, opName(od.Code))
		name := ""
		if len(od.Outputs) > 0 {
			// The converter joins the names of fused ops with ';' (the
			// activation first): the first one names the op.
			name, _, _ = strings.Cut(def.Tensors[od.Outputs[0]].Name, ";")
		}
		m.opNames = append(m.opNames, name)
		compiled = append(compiled, od)
		m.release = append(m.release, nil)
		for _, t := range od.Inputs {
			if t >= 0 && def.Tensors[t].Data == nil {
				lastUse[t] = i
			}
		}
		switch od.Code {
		case opSoftmax:
			fromSoftmax[od.Outputs[0]] = true
		case opQuantize, opDequantize, opReshape, opSqueeze:
			fromSoftmax[od.Outputs[0]] = fromSoftmax[od.Inputs[0]]
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("tflite: the integer interpreter does not support %d operator(s): %s (tflite.LoadGraph converts more operators, to float)", len(unsupported), strings.Join(unsupported, "; "))
	}
	for t, i := range lastUse {
		if t != m.output {
			m.release[i] = append(m.release[i], t)
		}
	}
	m.placeBytes(compiled)
	m.probs = fromSoftmax[m.output]
	for i := range m.defs {
		m.defs[i].Data = nil // weights were copied; drop the file's bytes
	}
	if !produced[m.output] {
		return nil, fmt.Errorf("tflite: output tensor %q is never computed", def.Tensors[m.output].Name)
	}
	return m, nil
}

// byteOp is an operator that can read and write its data as bytes.
type byteOp interface {
	integer() bool         // whether it compiled to the integer path
	setBytes(bytes []bool) // which of its tensors are bytes
}

// placeBytes decides which tensors live as bytes: those an integer
// operator writes and only integer operators read. The others stay
// centred float32, which every operator reads.
func (m *Model) placeBytes(ods []*opDef) {
	isInt := func(i int) bool {
		b, ok := m.ops[i].(byteOp)
		return ok && b.integer()
	}
	bytes := make([]bool, len(m.defs))
	for i, od := range ods {
		if isInt(i) {
			bytes[od.Outputs[0]] = true
		}
	}
	// The input goes straight to bytes when only integer operators read it.
	bytes[m.input] = m.qps[m.input] != nil
	bytes[m.output] = false
	for i, od := range ods {
		if !isInt(i) {
			for _, t := range od.Inputs {
				if t >= 0 {
					bytes[t] = false
				}
			}
		}
	}
	for i := range ods {
		if isInt(i) {
			m.ops[i].(byteOp).setBytes(bytes)
		}
	}
	m.inBytes = bytes[m.input]
}

// InputShape is the NHWC shape of the input tensor as stored (batch 1).
func (m *Model) InputShape() []int { return append([]int(nil), m.defs[m.input].Shape...) }

// InputType is the element type of the input tensor.
func (m *Model) InputType() TensorType { return m.defs[m.input].Type }

// InputQuant is the input's quantization, nil for a float input.
func (m *Model) InputQuant() *Quant { return m.defs[m.input].Quant }

// OutputShape is the shape of the output tensor as stored (batch 1).
func (m *Model) OutputShape() []int { return append([]int(nil), m.defs[m.output].Shape...) }

// InputName and OutputName are the input and output tensors' names.
func (m *Model) InputName() string  { return m.defs[m.input].Name }
func (m *Model) OutputName() string { return m.defs[m.output].Name }

// Quantized reports whether the model computes on quantized tensors (its
// activations carry quantization parameters), which the interpreter runs
// with the integer arithmetic TFLite specifies.
func (m *Model) Quantized() bool {
	for _, q := range m.qps {
		if q != nil {
			return true
		}
	}
	return false
}

// Run executes the graph on a real-valued NHWC batch (any N: images are
// run one by one through the graph built for the stored batch size 1) and returns the real-valued output (dequantized
// for quantized models). For a quantized input, x is first rounded onto
// the input's quantization grid, e.g. x = scale*(pixel - zero_point).
func (m *Model) Run(x *tensor.Tensor) (*tensor.Tensor, error) { return m.run(x, nil) }

// RunProfile is Run with the time of each operator added to prof
// (nn.Profile.AddForward, one run counted): where the time goes, as
// dlcv run --profile prints it. The images of a batch then run one after
// another.
func (m *Model) RunProfile(x *tensor.Tensor, prof *nn.Profile) (*tensor.Tensor, error) {
	out, err := m.run(x, prof)
	if err == nil {
		prof.Runs++
	}
	return out, err
}

func (m *Model) run(x *tensor.Tensor, prof *nn.Profile) (*tensor.Tensor, error) {
	want := m.defs[m.input].Shape
	if x == nil || len(x.Shape) != 4 || x.Shape[1] != want[1] || x.Shape[2] != want[2] || x.Shape[3] != want[3] || x.Shape[0] < 1 {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return nil, fmt.Errorf("tflite: input shape %v, want [N %d %d %d]", got, want[1], want[2], want[3])
	}
	// Images go through the graph one at a time, several in parallel:
	// the activations of one image stay in cache, and every operator sees
	// the batch size the graph was built for.
	n := x.Shape[0]
	per := len(x.Data) / n
	outs := make([]*tensor.Tensor, n)
	errs := make([]error, n)
	if prof != nil {
		for i := range n {
			outs[i], errs[i] = m.runOne(x.Data[i*per:(i+1)*per], x.Shape[1:], prof)
		}
	} else {
		kernels.ParallelFunc(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				outs[i], errs[i] = m.runOne(x.Data[i*per:(i+1)*per], x.Shape[1:], nil)
			}
		})
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if n == 1 {
		return outs[0], nil
	}
	shape := append([]int(nil), outs[0].Shape...)
	if len(shape) == 0 || shape[0] != 1 {
		return nil, fmt.Errorf("tflite: output shape %v has no batch dimension", shape)
	}
	shape[0] = n
	out := tensor.New(shape...)
	for i, o := range outs {
		copy(out.Data[i*len(o.Data):], o.Data)
	}
	return out, nil
}

// runOne executes the graph on one image (HWC real values), timing each
// operator into prof when it is not nil.
func (m *Model) runOne(x []float32, hwc []int, prof *nn.Profile) (*tensor.Tensor, error) {
	st, _ := m.pool.Get().(*state)
	if st == nil {
		st = &state{shapes: make([][]int, len(m.defs)), data: make([][]float32, len(m.defs)), q: make([][]byte, len(m.defs))}
	}
	defer m.pool.Put(st)
	if shape := append([]int{1}, hwc...); m.inBytes {
		t := &st.quantize
		*t = quantizeTask{q: m.qps[m.input], dst: st.outQ(m.input, shape), x: x}
		kernels.Parallel(len(x), 1<<14, t)
		*t = quantizeTask{}
	} else {
		in := st.out(m.input, shape)
		copy(in, x)
		if q := m.qps[m.input]; q != nil {
			q.quantizeReal(in)
		}
	}
	for i, o := range m.ops {
		var t0 time.Time
		if prof != nil {
			t0 = time.Now()
		}
		if err := o.run(st); err != nil {
			return nil, err
		}
		if prof != nil {
			// The op's slot as the key: a pointer boxes without an
			// allocation, an index past 255 would not.
			prof.AddForward(&m.ops[i], m.opNames[i], m.opKinds[i], time.Since(t0))
		}
		for _, t := range m.release[i] {
			if st.data[t] != nil {
				st.free = append(st.free, st.data[t])
				st.data[t] = nil
			}
			if st.q[t] != nil {
				st.qfree = append(st.qfree, st.q[t])
				st.q[t] = nil
			}
		}
	}
	out := tensor.New(st.shapes[m.output]...)
	copy(out.Data, st.data[m.output])
	if q := m.qps[m.output]; q != nil {
		for i := range out.Data {
			out.Data[i] *= q.scale
		}
	}
	return out, nil
}

// quantizeTask quantizes input values [lo, hi) into bytes.
type quantizeTask struct {
	q   *qparams
	dst []byte
	x   []float32
}

func (t *quantizeTask) Run(lo, hi int) { t.q.quantizeBytes(t.dst[lo:hi], t.x[lo:hi]) }
