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
