package tflite

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// TestRunProfile: RunProfile gives Run's bits and records every operator
// once per image of the batch, under its builtin name, with one run
// counted; Quantized tells the quantized chain from a float model.
func TestRunProfile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	m, err := Parse(qChain(r, Uint8))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Quantized() {
		t.Error("the quantized chain: Quantized() = false")
	}
	if f, err := Parse(floatModel(r)); err != nil {
		t.Fatal(err)
	} else if f.Quantized() {
		t.Error("a float model: Quantized() = true")
	}
	x := tensor.New(2, 9, 11, 5)
	for i := range x.Data {
		x.Data[i] = 0.02 * float32(r.IntN(256)-128)
	}
	want, err := m.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	var prof nn.Profile
	got, err := m.RunProfile(x, &prof)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
			t.Fatalf("output %d: RunProfile %v, Run %v", i, got.Data[i], want.Data[i])
		}
	}
	nodes := prof.Nodes()
	if prof.Runs != 1 || len(nodes) != len(m.ops) {
		t.Fatalf("%d runs, %d ops recorded; want 1 and %d", prof.Runs, len(nodes), len(m.ops))
	}
	kinds := map[string]bool{}
	for i, n := range nodes {
		if n.Calls != 2 || n.Kind != m.opKinds[i] || n.Name == "" {
			t.Errorf("op %d: %+v, want 2 calls of %s with a name", i, n, m.opKinds[i])
		}
		kinds[n.Kind] = true
	}
	if !kinds["CONV_2D"] || !kinds["DEPTHWISE_CONV_2D"] {
		t.Errorf("kinds %v, want CONV_2D and DEPTHWISE_CONV_2D among them", kinds)
	}
}
