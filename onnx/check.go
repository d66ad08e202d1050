package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/tensor"
)

// Checking a model against reference outputs, the layout of ONNX's
// backend tests: a folder with model.onnx and test_data_set_N/ folders of
// input_K.pb and output_K.pb (serialized TensorProtos). This is what
// `dlcv run --check DIR` and the conformance test run.

// Default tolerances of ONNX's backend tests (numpy.testing.assert_allclose
// with rtol 1e-3, atol 1e-7): |got - want| <= atol + rtol*|want|.
const (
	CheckRtol = 1e-3
	CheckAtol = 1e-7
)

// staticInputs lists, per op, the inputs that the importer needs at
// import time (weights, shapes, axes, bounds). ONNX's node tests feed
// them as graph inputs; the checker binds them as constants.
var staticInputs = map[string][]int{
	"Conv": {1, 2}, "ConvTranspose": {1, 2}, "BatchNormalization": {1, 2, 3, 4},
	"InstanceNormalization": {1, 2}, "LayerNormalization": {1, 2}, "Reshape": {1}, "Expand": {1},
	"Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3}, "Upsample": {1},
	"Clip": {1, 2}, "Squeeze": {1}, "Unsqueeze": {1}, "Split": {1}, "ReduceSum": {1}, "ReduceMean": {1},
	"ReduceMax": {1}, "ReduceMin": {1}, "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1},
	"ReduceLogSumExp": {1}, "ReduceSumSquare": {1}, "TopK": {1}, "ConstantOfShape": {0},
	"Range": {0, 1, 2}, "Dropout": {1, 2}, "PRelu": {1},
}

// StaticInputs returns the names of the graph inputs that the importer
// needs as constants: those some node reads as weights or shape
// parameters.
func StaticInputs(g *GraphProto) map[string]bool {
	isInput := map[string]bool{}
	for _, in := range g.Inputs {
		isInput[in.Name] = true
	}
	for _, t := range g.Initializers {
		delete(isInput, t.Name)
	}
	out := map[string]bool{}
	for _, n := range g.Nodes {
		for _, i := range staticInputs[n.OpType] {
			if i < len(n.Inputs) && isInput[n.Inputs[i]] {
				out[n.Inputs[i]] = true
			}
		}
	}
	return out
}

// SetResult is the outcome of one test_data_set.
type SetResult struct {
	Name string
	Pass bool
	// Worst is the output value furthest outside the tolerance (or the
	// largest error when all pass): its absolute error and the reference
	// value.
	MaxAbs, Ref float64
	Output      string
	Err         error
}

// CheckResult is the outcome of CheckDir.
type CheckResult struct {
	Dir  string
	Ops  []string // the model's op types
	Sets []SetResult
}

// Pass reports whether every data set passed.
func (r *CheckResult) Pass() bool {
	for _, s := range r.Sets {
		if !s.Pass {
			return false
		}
	}
	return len(r.Sets) > 0
}

// CheckDir runs the model in dir on each of its test data sets and
// compares the outputs with the references within rtol and atol. An
// error means the folder could not be read; a model that fails to import
// or run fails its sets with that error.
func CheckDir(dir string, rtol, atol float64) (*CheckResult, error) {
	path := filepath.Join(dir, "model.onnx")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mp, err := DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if mp.Graph == nil {
		return nil, fmt.Errorf("%s: no graph", path)
	}
	res := &CheckResult{Dir: dir, Ops: modelOps(mp.Graph)}
	sets, err := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(sets)
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* folders", dir)
	}
	for _, set := range sets {
		sr := SetResult{Name: filepath.Base(set)}
		sr.Pass, sr.MaxAbs, sr.Ref, sr.Output, sr.Err = checkSet(mp, dir, set, rtol, atol)
		res.Sets = append(res.Sets, sr)
	}
	return res, nil
}

// modelOps lists the op types of a graph, sorted, once each.
func modelOps(g *GraphProto) []string {
	seen := map[string]bool{}
	walkNodes(g, func(n *NodeProto) {
		op := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			op = n.Domain + "." + op
		}
		seen[op] = true
	})
	ops := make([]string, 0, len(seen))
	for op := range seen {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// readSet reads the numbered .pb files of a data set with a prefix.
func readSet(set, prefix string) ([]*Data, error) {
	var out []*Data
	for i := 0; ; i++ {
		p := filepath.Join(set, prefix+"_"+strconv.Itoa(i)+".pb")
		if _, err := os.Stat(p); err != nil {
			break
		}
		d, err := ReadTensorFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func checkSet(mp *ModelProto, dir, set string, rtol, atol float64) (bool, float64, float64, string, error) {
	ins, err := readSet(set, "input")
	if err != nil {
		return false, 0, 0, "", err
	}
	wants, err := readSet(set, "output")
	if err != nil {
		return false, 0, 0, "", err
	}
	// The data set's inputs are the graph inputs without initializers, in
	// order.
	init := map[string]bool{}
	for _, t := range mp.Graph.Initializers {
		init[t.Name] = true
	}
	var names []string
	for _, in := range mp.Graph.Inputs {
		if !init[in.Name] {
			names = append(names, in.Name)
		}
	}
	if len(ins) != len(names) {
		return false, 0, 0, "", fmt.Errorf("%s has %d inputs, the model takes %d", set, len(ins), len(names))
	}
	static := StaticInputs(mp.Graph)
	opts := &Options{Bind: map[string]*Data{}, InputShapes: map[string][]int{}, forceShapes: true}
	declared := map[string]int32{}
	for _, in := range mp.Graph.Inputs {
		declared[in.Name] = in.ElemType
	}
	var feed []*tensor.Tensor
	for i, name := range names {
		ins[i] = halfBits(ins[i], declared[name])
		if static[name] {
			opts.Bind[name] = ins[i]
			continue
		}
		// The data set fixes the input sizes.
		opts.InputShapes[name] = ins[i].Shape
		feed = append(feed, ins[i].Tensor())
	}
	m, err := ConvertModel(mp, dir, opts)
	if err != nil {
		return false, 0, 0, "", err
	}
	if len(m.Inputs) != len(feed) {
		return false, 0, 0, "", fmt.Errorf("the imported model takes %d inputs, the data set gives %d", len(m.Inputs), len(feed))
	}
	got, err := m.RunNCHW(feed...)
	if err != nil {
		return false, 0, 0, "", err
	}
	if len(got) != len(wants) {
		return false, 0, 0, "", fmt.Errorf("%d outputs, the data set has %d", len(got), len(wants))
	}
	// The value furthest outside (or least inside) its tolerance.
	worstExcess := math.Inf(-1)
	var worst, worstRef float64
	var worstName string
	for k, w := range wants {
		w = halfBits(w, m.Outputs[k].Type)
		g := got[k]
		name := m.Outputs[k].Name
		if !shapeEq(g.Shape, w.Shape) {
			return false, 0, 0, name, fmt.Errorf("output %q has shape %s, want %s", name, tensor.ShapeString(g.Shape), tensor.ShapeString(w.Shape))
		}
		for i, wv := range w.Float {
			want := float64(wv)
			if w.Int != nil {
				want = float64(w.Int[i])
			}
			gv := float64(g.Data[i])
			if math.IsNaN(want) && math.IsNaN(gv) {
				continue
			}
			d := math.Abs(gv - want)
			tol := atol + rtol*math.Abs(want)
			switch {
			case want == gv:
				d = 0
			case w.Int != nil:
				tol = 0
			}
			excess := d - tol
			if math.IsNaN(excess) {
				excess = math.Inf(1)
			}
			if excess > worstExcess {
				worst, worstRef, worstExcess, worstName = d, want, excess, name
			}
		}
	}
	return worstExcess <= 0, worst, worstRef, worstName, nil
}

// halfBits reads uint16 test data of a float16 or bfloat16 value as the
// bits of that type (ONNX's test generator stores them so).
func halfBits(d *Data, declared int32) *Data {
	if d.Type != TypeUint16 || (declared != TypeFloat16 && declared != TypeBFloat16) {
		return d
	}
	out := &Data{Name: d.Name, Type: declared, Shape: d.Shape, Float: make([]float32, len(d.Int))}
	for i, v := range d.Int {
		if declared == TypeFloat16 {
			out.Float[i] = halfToFloat(uint16(v))
		} else {
			out.Float[i] = math.Float32frombits(uint32(v) << 16)
		}
	}
	return out
}

func shapeEq(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String summarises a result: one line per data set.
func (r *CheckResult) String() string {
	var b strings.Builder
	for _, s := range r.Sets {
		status := "pass"
		if !s.Pass {
			status = "FAIL"
		}
		switch {
		case s.Err != nil:
			fmt.Fprintf(&b, "%s %s: %s: %v\n", status, filepath.Base(r.Dir), s.Name, s.Err)
		default:
			fmt.Fprintf(&b, "%s %s: %s: largest error %.3g (output %q, reference value %.6g)\n", status, filepath.Base(r.Dir), s.Name, s.MaxAbs, s.Output, s.Ref)
		}
	}
	return b.String()
}
