package onnx

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

func intAttr(name string, v int64) msg {
	return msg(nil).str(1, name).varint(20, int64(AttrInt)).varint(3, v)
}

// invertedResidualModel is an inverted residual block with a
// squeeze-excite gate, for x (n, 2, 6, 6): a 1x1 expansion to 8 channels
// and ReLU, a 3x3 depthwise convolution, d * sigmoid(mean(d)), and a 1x1
// projection to 4 channels.
func invertedResidualModel() []byte {
	inits := []msg{
		tensorMsg("W1", []int64{8, 2, 1, 1}, ramp(16, 0.3)),
		tensorMsg("Wd", []int64{8, 1, 3, 3}, ramp(72, 0.2)),
		tensorMsg("W3", []int64{4, 8, 1, 1}, ramp(32, 0.25)),
	}
	nodes := []nodeSpec{
		{op: "Conv", in: []string{"x", "W1"}, out: []string{"e"}},
		{op: "Relu", in: []string{"e"}, out: []string{"er"}},
		{op: "Conv", in: []string{"er", "Wd"}, out: []string{"d"}, attrs: []msg{intsAttr("pads", 1, 1, 1, 1), intAttr("group", 8)}},
		{op: "GlobalAveragePool", in: []string{"d"}, out: []string{"p"}},
		{op: "Sigmoid", in: []string{"p"}, out: []string{"s"}},
		{op: "Mul", in: []string{"d", "s"}, out: []string{"m"}},
		{op: "Conv", in: []string{"m", "W3"}, out: []string{"y"}},
	}
	return modelMsg(13, nodes, inits, valueInfo("x", -1, 2, 6, 6), valueInfo("y", -1, 4, 6, 6))
}

// An imported model runs its expansion with the depthwise layer and its
// gate in the projection's weights (nn.Optimize), and SaveFile stores the
// layers those replaced: the file loads, optimizes to the same graph and
// gives the same output.
func TestSaveFileFusedLayers(t *testing.T) {
	m, err := Convert(invertedResidualModel(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range m.Exec().Nodes() {
		kinds = append(kinds, n.Op.Kind())
	}
	for _, k := range []string{"PointwiseDepthwise", "ScaledPointwise"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("optimized graph %v has no %s", kinds, k)
		}
	}
	x := tensor.New(2, 2, 6, 6)
	for i := range x.Data {
		x.Data[i] = float32(i%11)*0.2 - 1
	}
	want, err := m.RunNCHW(x)
	if err != nil {
		t.Fatal(err)
	}
	w := want[0].Clone()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	back, _, err := nn.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := nn.Optimize(back.Graph())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := len(opt.Nodes()), len(m.Exec().Nodes()); a != b {
		t.Errorf("loaded and optimized: %d nodes, want %d", a, b)
	}
	in, err := m.Inputs[0].FromONNX(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := opt.NewSession().Run(false, in)
	if err != nil {
		t.Fatal(err)
	}
	// The graph's output is NHWC; the model's NCHW.
	y := m.Outputs[0].ToONNX(got[0])
	for i, v := range w.Data {
		if d := math.Abs(float64(v - y.Data[i])); d > 1e-5*math.Max(1, math.Abs(float64(v))) {
			t.Fatalf("loaded model: output %d is %v, want %v", i, y.Data[i], v)
		}
	}
}
