package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompareSettings(t *testing.T) {
	c := &Checkpoint{Meta: map[string]string{"training": `{"dataset":"mnist","seed":42,"limit":5000,"batch_size":128,"epochs":20}`}}
	ms, err := c.CompareSettings("training", []byte(`{"dataset":"data/animals","seed":42,"batch_size":128,"epochs":40}`), "dataset", "seed", "limit", "batch_size")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mismatch{{"dataset", `"mnist"`, `"data/animals"`}, {"limit", "5000", ""}}
	if len(ms) != len(want) || ms[0] != want[0] || ms[1] != want[1] {
		t.Fatalf("mismatches %+v, want %+v", ms, want)
	}
	// Only the named fields count: more epochs is what resuming is for.
	if ms, _ := c.CompareSettings("training", []byte(`{"dataset":"mnist","seed":42,"limit":5000,"batch_size":128,"epochs":40}`), "dataset", "seed", "limit", "batch_size"); len(ms) != 0 {
		t.Fatalf("mismatches %+v", ms)
	}
	// A checkpoint from before the settings were recorded matches.
	if ms, err := (&Checkpoint{Meta: map[string]string{}}).CompareSettings("training", []byte(`{"seed":1}`), "seed"); err != nil || len(ms) != 0 {
		t.Fatalf("%+v %v", ms, err)
	}
	if _, err := (&Checkpoint{Meta: map[string]string{"training": "{"}}).CompareSettings("training", []byte(`{}`), "seed"); err == nil || !strings.Contains(err.Error(), `"training"`) {
		t.Fatalf("bad JSON: %v", err)
	}
}

// A run resumed (or restarted) in a folder where a killed run left a
// checkpoint's temporary file removes it when training starts.
func TestModelCheckpointCleansStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".checkpoint.safetensors.tmp1234567")
	os.WriteFile(stale, []byte("half"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	cb := &ModelCheckpoint{Path: filepath.Join(dir, "checkpoint.safetensors")}
	if err := cb.OnEpochBegin(nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file still there: %v", err)
	}
}
