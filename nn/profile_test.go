package nn

import (
	"strings"
	"testing"
)

func TestProfileRecordsEveryNode(t *testing.T) {
	g := residualMLP(t)
	p := &Profile{}
	if err := g.SetProfile(p); err != nil {
		t.Fatal(err)
	}
	x := randNormal(NewRNG(1), 4, 5)
	target := randNormal(NewRNG(2), 4, 3)
	for range 3 {
		if _, err := g.TrainStep(x, target, NewMeanSquaredError()); err != nil {
			t.Fatal(err)
		}
	}
	if p.Runs != 3 {
		t.Errorf("%d runs recorded, want 3", p.Runs)
	}
	kinds := map[string]KindTime{}
	for _, k := range p.Kinds() {
		kinds[k.Kind] = k
	}
	// The fused graph the Model methods run: dense+relu, add, dense.
	if kinds["Dense"].Nodes != 2 || kinds["Add"].Nodes != 1 || kinds["Dense"].Backward == 0 {
		t.Errorf("kinds %+v", kinds)
	}
	for _, n := range p.Nodes() {
		if n.Calls != 3 {
			t.Errorf("node %s: %d calls", n.Name, n.Calls)
		}
	}
	var b strings.Builder
	if err := p.Write(&b, 2); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"op kind", "Dense", "share", "total", "node"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("profile text lacks %q:\n%s", w, b.String())
		}
	}
}
