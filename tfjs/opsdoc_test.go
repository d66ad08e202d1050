package tfjs

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated list of supported ops in docs/import-tfjs.md")

const (
	opsDocPath  = "../docs/import-tfjs.md"
	opsDocBegin = "<!-- generated: supported ops (go test ./tfjs -run TestOpsDoc -update) -->\n"
	opsDocEnd   = "<!-- end of supported ops -->"
)

// supportedGraphOps and supportedLayers are what the importers map, from
// their tables.
func supportedGraphOps() []string {
	ops := []string{"Const", "Placeholder", "Identity", "IdentityN", "StopGradient", "Snapshot", "PreventGradient"}
	for op := range graphOps {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

func supportedLayers() []string {
	var ls []string
	for l := range layerOps {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	return ls
}

func ticks(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// TestOpsDoc keeps docs/import-tfjs.md true to the code: the generated
// list is the importers' tables, and every op and layer in them has a row
// (with its notes) in the hand-written tables.
func TestOpsDoc(t *testing.T) {
	b, err := os.ReadFile(opsDocPath)
	if err != nil {
		t.Skipf("no %s: %v", opsDocPath, err)
	}
	doc := string(b)
	g, l := supportedGraphOps(), supportedLayers()
	block := fmt.Sprintf("Graph-model ops (%d): %s.\n\nLayers-model layers (%d): %s.\n", len(g), ticks(g), len(l), ticks(l))
	i, j := strings.Index(doc, opsDocBegin), strings.Index(doc, opsDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q ... %q", opsDocPath, opsDocBegin, opsDocEnd)
	}
	if got := doc[i+len(opsDocBegin) : j]; got != block {
		if !*update {
			t.Fatalf("%s: the generated list of supported ops is out of date: run go test ./tfjs -run TestOpsDoc -update", opsDocPath)
		}
		doc = doc[:i+len(opsDocBegin)] + block + doc[j:]
		if err := os.WriteFile(opsDocPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tables := doc[j:]
	for _, n := range append(g, l...) {
		if !strings.Contains(tables, "`"+n+"`") {
			t.Errorf("%s: %q is supported but has no row in the tables", opsDocPath, n)
		}
	}
}
