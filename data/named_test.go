package data

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The real table: Debian's dataset-fashion-mnist package, when installed,
// is found and passes the content checks.
func TestFashionMNISTFromDebian(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDebianDir); err != nil {
		t.Skipf("%s not installed (apt-get install dataset-fashion-mnist): %v", FashionMNISTDebianDir, err)
	}
	home := t.TempDir()
	if d := FashionMNIST.Find(home); d != FashionMNISTDebianDir {
		t.Fatalf("found %q", d)
	}
	train, test, err := FashionMNIST.Load(FindOptions{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train.Shape(), []int{60000, 28, 28, 1}) || !slices.Equal(test.Shape(), []int{10000, 28, 28, 1}) || train.U8 == nil {
		t.Fatalf("shapes %v %v", train.Shape(), test.Shape())
	}
	if train.Classes[0] != "T-shirt/top" || train.Classes[9] != "Ankle boot" {
		t.Fatalf("classes %v", train.Classes)
	}
	for c, n := range train.ClassCounts() {
		if n != 6000 || test.ClassCounts()[c] != 1000 {
			t.Fatalf("class %d: %d train, %d test images", c, n, test.ClassCounts()[c])
		}
	}
	// The first training and test images are both ankle boots (9).
	if train.Y[0] != 9 || test.Y[0] != 9 {
		t.Errorf("first labels %d %d", train.Y[0], test.Y[0])
	}
}

// tinyNamed returns a NamedIDX for a tiny dataset, its four files gzipped
// (published form), and a folder holding them.
func tinyNamed(t *testing.T) (*NamedIDX, [4][]byte, string) {
	raw := tinyIDX(t, 6, 3, 2, 2, 3)
	n := &NamedIDX{Name: "tiny", Title: "Tiny", Classes: []string{"a", "b", "c"}}
	var pub [4][]byte
	for i, b := range raw {
		x, err := DecodeIDX("t", strings.NewReader(string(b)), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		pub[i] = gz(b)
		m := md5.Sum(pub[i])
		n.Files[i] = IDXFile{Name: IDXNames[i] + ".gz", MD5: hex.EncodeToString(m[:]), SHA256: idxSHA256(x)}
	}
	dir := t.TempDir()
	writeIDXDir(t, dir, "", raw) // uncompressed: the content is what counts
	return n, pub, dir
}

func TestNamedIDXSearch(t *testing.T) {
	n, _, sys := tinyNamed(t)
	n.SystemDirs = []string{sys}
	home := t.TempDir()
	// A corrupt copy in the home folder is passed over, with its reason.
	cache := filepath.Join(home, "datasets", "tiny")
	bad := tinyIDX(t, 6, 3, 2, 2, 3)
	bad[0] = idxBytes(t, []int{6, 2, 2}, make([]byte, 24))
	writeIDXDir(t, cache, "", bad)
	train, test, err := n.Load(FindOptions{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 6 || test.Len() != 3 || train.Classes[2] != "c" {
		t.Fatalf("loaded %d/%d %v", train.Len(), test.Len(), train.Classes)
	}
	n.SystemDirs = []string{filepath.Join(home, "none")}
	_, _, err = n.Load(FindOptions{Home: home})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "content SHA-256") || !strings.Contains(err.Error(), filepath.Join(home, "none")) {
		t.Errorf("no copy: %v", err)
	}
	// LoadDir takes a copy of one's own, unchecked, with the class names.
	if train, _, err = n.LoadDir(cache); err != nil || train.Classes[0] != "a" {
		t.Errorf("LoadDir: %v", err)
	}
	if _, _, err = FashionMNIST.LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "Fashion-MNIST") {
		t.Errorf("empty folder: %v", err)
	}
}

func TestNamedIDXDownload(t *testing.T) {
	n, pub, _ := tinyNamed(t)
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		for i, f := range n.Files {
			if r.URL.Path == "/tiny/"+f.Name {
				w.Write(pub[i])
				return
			}
			if r.URL.Path == "/bad/"+f.Name {
				w.Write(gz([]byte("not idx")))
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	home := t.TempDir()
	// Nothing is downloaded unless asked.
	if _, _, err := n.Load(FindOptions{Home: home, URL: srv.URL + "/tiny", Client: srv.Client()}); !errors.Is(err, ErrNotFound) || len(hits) != 0 {
		t.Fatalf("without Download: %v, %d requests", err, len(hits))
	}
	var log strings.Builder
	train, _, err := n.Load(FindOptions{Home: home, Download: true, URL: srv.URL + "/tiny", Client: srv.Client(), Log: &log})
	if err != nil || train.Len() != 6 || len(hits) != 4 || !strings.Contains(log.String(), "downloading "+srv.URL+"/tiny/train-images-idx3-ubyte.gz") {
		t.Fatalf("download: %v, %v, %q", err, hits, log.String())
	}
	if d := n.Find(home); d != filepath.Join(home, "datasets", "tiny") {
		t.Errorf("found %q", d)
	}
	hits = nil
	if _, err := n.Download(context.Background(), FindOptions{Home: home, URL: srv.URL + "/tiny", Client: srv.Client()}); err != nil || len(hits) != 0 {
		t.Errorf("second download: %v, %v", err, hits)
	}
	// A wrong file is refused by its MD5 and leaves nothing; a missing one names the URL.
	home = t.TempDir()
	_, err = n.Download(context.Background(), FindOptions{Home: home, URL: srv.URL + "/bad/", Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "MD5") || !strings.Contains(err.Error(), srv.URL+"/bad/train-images-idx3-ubyte.gz") {
		t.Errorf("bad file: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "datasets", "tiny")); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
	// The published MD5 matches but the content is not the dataset's.
	n.Files[0].SHA256 = strings.Repeat("0", 64)
	_, err = n.Download(context.Background(), FindOptions{Home: home, URL: srv.URL + "/tiny/", Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "content SHA-256") {
		t.Errorf("content: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "datasets", "tiny")); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
	_, err = n.Download(context.Background(), FindOptions{Home: home, URL: srv.URL + "/missing/", Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
}
