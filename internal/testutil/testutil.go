// Package testutil holds helpers shared by dlcv's tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the shared data directory: $DLCV_SHARED, else the
// folder "shared" beside the module root. It skips the test with a message
// naming what is missing when neither exists (a fresh clone); CI makes sure
// it exists.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("DLCV_SHARED"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		t.Skipf("DLCV_SHARED=%s is not a directory", d)
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Skipf("shared data: %v", err)
	}
	d := filepath.Join(filepath.Dir(root), "shared")
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Skipf("shared data directory %s not found (set DLCV_SHARED)", d)
	}
	return d
}

// SharedFile returns the path of a file under the shared directory, or
// skips the test naming the missing file.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(SharedDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared file %s not found", p)
	}
	return p
}

// ModuleRoot walks up from the working directory to the folder with go.mod.
func ModuleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", os.ErrNotExist
		}
		d = p
	}
}
