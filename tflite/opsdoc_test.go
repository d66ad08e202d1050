package tflite

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated lists of supported operators in docs/pretrained.md")

const (
	opsDocPath  = "../docs/pretrained.md"
	opsDocBegin = "<!-- generated: supported operators (go test ./tflite -run TestOpsDoc -update) -->\n"
	opsDocEnd   = "<!-- end of supported operators -->"
)

// interpreterOps probes compileOp with each known operator code: the
// codes it does not refuse as unsupported are the interpreter's (the
// probe has no operands, so a supported code fails otherwise, or panics).
func interpreterOps() []string {
	m := &Model{}
	var names []string
	for code := range opNames {
		err := func() (err error) {
			defer func() {
				if recover() != nil {
					err = errors.New("panicked on an empty operator")
				}
			}()
			_, err = m.compileOp(&opDef{Code: code, Version: 1})
			return err
		}()
		var ue *unsupportedOpError
		if !errors.As(err, &ue) {
			names = append(names, opName(code))
		}
	}
	slices.Sort(names)
	return names
}

func graphImporterOps() []string {
	var names []string
	for code := range graphOps {
		names = append(names, opName(code))
	}
	slices.Sort(names)
	return names
}

// TestOpsDoc keeps the lists of supported operators in docs/pretrained.md
// true to the code.
func TestOpsDoc(t *testing.T) {
	b, err := os.ReadFile(opsDocPath)
	if err != nil {
		t.Skipf("no %s: %v", opsDocPath, err)
	}
	doc := string(b)
	in, gr := interpreterOps(), graphImporterOps()
	if len(in) < 10 || len(gr) < len(in) {
		t.Fatalf("probe found %d interpreter and %d graph operators: %v; %v", len(in), len(gr), in, gr)
	}
	block := fmt.Sprintf("Integer interpreter (`tflite.Load`, %d): %s.\n\nGraph importer (`tflite.LoadGraph`, %d): %s.\n",
		len(in), strings.Join(in, ", "), len(gr), strings.Join(gr, ", "))
	i, j := strings.Index(doc, opsDocBegin), strings.Index(doc, opsDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q ... %q", opsDocPath, opsDocBegin, opsDocEnd)
	}
	if doc[i+len(opsDocBegin):j] == block {
		return
	}
	if !*update {
		t.Fatalf("%s: the generated lists of supported operators are out of date: run go test ./tflite -run TestOpsDoc -update", opsDocPath)
	}
	doc = doc[:i+len(opsDocBegin)] + block + doc[j:]
	if err := os.WriteFile(opsDocPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}
