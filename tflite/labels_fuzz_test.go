package tflite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadLabels feeds arbitrary label files to LoadLabels: it returns
// one label a line, trimmed, or an error naming the file.
func FuzzLoadLabels(f *testing.F) {
	for _, seed := range []string{"background\ncat\ndog\n", "0 cat\r\n1 dog", "", "\n\n", "a\x00b\n\xff\xfe", strings.Repeat("x", 70000)} {
		f.Add([]byte(seed))
	}
	path := filepath.Join(f.TempDir(), "labels.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		labels, err := LoadLabels(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(labels) == 0 || len(labels) > strings.Count(string(data), "\n")+1 {
			t.Fatalf("%d labels from %d bytes", len(labels), len(data))
		}
		for _, l := range labels {
			if strings.ContainsAny(l, "\n") || l != strings.TrimSpace(l) {
				t.Fatalf("label %q", l)
			}
		}
	})
}
