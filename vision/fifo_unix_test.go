//go:build unix

package vision

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Defect 2: a FIFO inside --allow-dir wedged a work slot for ever: the
// open blocked (waiting for a writer) before the regular-file check, and
// the slot stayed held after the client gave up. Now the type is checked
// without blocking and the request fails at once.
func TestFIFOInAllowDir(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.png"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "ok.png"), pngBytes(t, twoColors(20, 10, 0.5)), 0o644)
	if err := os.Symlink("pipe.png", filepath.Join(dir, "link.png")); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{AllowDir: dir, Limits: Limits{Concurrency: 1, Queue: 1, ShutdownTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := newLoopback(t, s)
	client := &http.Client{Timeout: 3 * time.Second}
	req := func(uri string) string {
		return fmt.Sprintf(`{"requests":[{"image":{"source":{"imageUri":%q}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, uri)
	}
	for _, uri := range []string{"pipe.png", "link.png", "pipe.png"} {
		start := time.Now()
		resp, err := client.Post(url+"/v1/images:annotate", "application/json", strings.NewReader(req(uri)))
		if err != nil {
			t.Fatalf("%s: %v (the open blocked)", uri, err)
		}
		var br BatchResponse
		decodeBody(t, resp, &br)
		if resp.StatusCode != 200 || br.Responses[0].Error == nil || br.Responses[0].Error.Code != 3 || !strings.Contains(br.Responses[0].Error.Message, "is not a regular file (a named pipe)") || time.Since(start) > time.Second {
			t.Fatalf("%s: HTTP %d %+v after %v", uri, resp.StatusCode, br, time.Since(start))
		}
	}
	// The slot is free: a regular file is served.
	resp, err := client.Post(url+"/v1/images:annotate", "application/json", strings.NewReader(req("ok.png")))
	if err != nil {
		t.Fatal(err)
	}
	var br BatchResponse
	decodeBody(t, resp, &br)
	if resp.StatusCode != 200 || br.Responses[0].ImagePropertiesAnnotation == nil {
		t.Fatalf("ok.png: HTTP %d %+v", resp.StatusCode, br)
	}
}
