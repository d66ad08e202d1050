package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestWriteKeepsOldOnFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("want error")
	}
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Fatalf("content %q, want old", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("leftover temp files: %v", ents)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "dir"), nil); err == nil {
		t.Fatal("want error for missing directory")
	}
}

// TestHelperWriter is the process TestKilledWriteIsCleaned kills: it
// starts writing and never finishes.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("DLCV_ATOMICFILE_KILLME")
	if path == "" {
		t.Skip("helper process only")
	}
	Write(path, func(w io.Writer) error {
		w.Write([]byte("half a checkpoint"))
		os.WriteFile(path+".started", nil, 0o644)
		time.Sleep(time.Minute)
		return nil
	})
}

// Issue 15, defect 7: a kill during a checkpoint write left a hidden
// .checkpoint.safetensors.tmp* behind for good. CleanStale removes the
// temporary files of writers that are gone, and leaves live ones.
func TestKilledWriteIsCleaned(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.safetensors")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "DLCV_ATOMICFILE_KILLME="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the helper did not start writing")
		}
	}
	cmd.Process.Kill() // kill -9 in the middle of the write
	cmd.Wait()
	os.Remove(path + ".started")
	left, _ := filepath.Glob(filepath.Join(dir, ".checkpoint.safetensors.tmp*"))
	if len(left) != 1 {
		t.Fatalf("after the kill: %v", left)
	}
	// A write in progress in this process, an old-style temporary file
	// from an hour ago, a fresh old-style one and a file of the user's.
	live := filepath.Join(dir, ".model.safetensors.tmp"+strconv.Itoa(os.Getpid())+"-1")
	oldStyle := filepath.Join(dir, ".history.json.tmp123456")
	fresh := filepath.Join(dir, ".report.txt.tmp654321")
	mine := filepath.Join(dir, ".notes.tmp")
	for _, p := range []string{live, oldStyle, fresh, mine} {
		os.WriteFile(p, nil, 0o644)
	}
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(oldStyle, hourAgo, hourAgo)
	removed, err := CleanStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || !slices.Contains(removed, left[0]) || !slices.Contains(removed, oldStyle) {
		t.Fatalf("removed %v, want %s and %s", removed, left[0], oldStyle)
	}
	for _, p := range []string{live, fresh, mine} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", p)
		}
	}
}
