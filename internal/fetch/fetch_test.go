package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFile(t *testing.T) {
	body := []byte("hello, weights")
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	dst := filepath.Join(dir, "f.bin")
	var seen bytes.Buffer
	if err := File(context.Background(), nil, srv.URL+"/f", dst, good, func(int64) io.Writer { return &seen }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, body) || !bytes.Equal(seen.Bytes(), body) {
		t.Fatalf("file %q progress %q", b, seen.Bytes())
	}
	bad := filepath.Join(dir, "bad.bin")
	if err := File(context.Background(), nil, srv.URL+"/f", bad, strings.Repeat("0", 64), nil); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("checksum mismatch: %v", err)
	}
	if err := File(context.Background(), nil, srv.URL+"/missing", bad, good, nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a failed download left a file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestCheckedMD5(t *testing.T) {
	body := []byte("cifar")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "f")
	// md5("cifar")
	if err := Checked(context.Background(), nil, srv.URL, dst, MD5("f5e79fd55db721a19cf28aa3ea5f1573"), nil); err != nil {
		t.Fatal(err)
	}
	if err := Checked(context.Background(), nil, srv.URL, dst+"2", MD5(strings.Repeat("0", 32)), nil); err == nil || !strings.Contains(err.Error(), "has MD5 f5e79fd55db721a19cf28aa3ea5f1573, want 000") {
		t.Fatalf("mismatch: %v", err)
	}
}
