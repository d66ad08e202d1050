package vision

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/internal/imagefile"
)

// FuzzDecodeRequest feeds arbitrary bodies to the JSON request decoder and
// the image decoder behind it: they must return a request or an error
// (never panic), and what they accept must respect the limits.
func FuzzDecodeRequest(f *testing.F) {
	img := base64.StdEncoding.EncodeToString(pngBytes(f, twoColors(4, 3, 0.5)))
	for _, seed := range []string{
		`{"requests":[{"image":{"content":"` + img + `"},"features":[{"type":"IMAGE_PROPERTIES","maxResults":3}]}]}`,
		`{"requests":[{"image":{"content":"` + img + `"},"features":[{"type":"CUSTOM_MODEL","model":"digits"}]}]}`,
		`{"requests":[{"image":{"source":{"imageUri":"../etc/passwd"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`,
		`{"requests":[{"image":{"content":"R0lGODlhAQABAAAAACw="},"features":[{"type":"LABEL_DETECTION"}]}]}`,
		`{"requests":[]}`, `{"requests":[{}]}`, `[]`, `null`, `{"requests":[{"image":{"content":"%%%"}}]}`,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Config{Custom: map[string]*classifier.Model{"digits": {Classes: []string{"a", "b"}}}, Limits: Limits{MaxImages: 4, MaxPixels: 1 << 16}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		jobs, err := s.decodeJSON(body, nil)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.http() < 400 || ae.http() > 499 || ae.msg == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(jobs) == 0 || len(jobs) > 4 {
			t.Fatalf("%d jobs accepted", len(jobs))
		}
		for _, j := range jobs {
			if len(j.features) == 0 {
				t.Fatal("a job without features")
			}
			for _, ft := range j.features {
				if ft.MaxResults < 1 || ft.MaxResults > maxMaxResults {
					t.Fatalf("maxResults %d", ft.MaxResults)
				}
			}
			if j.err != nil {
				continue
			}
			im, err := imagefile.Decode(context.Background(), j.data, imagefile.Limits{MaxPixels: 1 << 16})
			if err == nil && int64(im.Bounds().Dx())*int64(im.Bounds().Dy()) > 1<<16 {
				t.Fatalf("decoded a %v image over the pixel limit", im.Bounds())
			}
		}
	})
}

// FuzzDecodeMultipart feeds arbitrary form bodies and boundaries to the
// multipart decoder: it returns jobs or a client error, never more images
// than the limit, and features that passed the checks.
func FuzzDecodeMultipart(f *testing.F) {
	ct, body := multipartBody(f, [][]byte{pngBytes(f, twoColors(4, 3, 0.5))}, map[string]string{"features": "LABEL_DETECTION:3,CUSTOM_MODEL:digits,IMAGE_PROPERTIES", "maxResults": "2"})
	_, params, _ := mime.ParseMediaType(ct)
	f.Add(body.Bytes(), params["boundary"])
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\nGIF89a\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ndigits\r\n--b\r\nContent-Disposition: form-data; name=\"features\"\r\n\r\nCUSTOM_MODEL\r\n--b--\r\n"), "b")
	s, err := New(Config{Custom: map[string]*classifier.Model{"digits": {Classes: []string{"a", "b"}}}, Limits: Limits{MaxImages: 3}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		r, err := http.NewRequest("POST", "/v1/images:annotate", bytes.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary}))
		jobs, err := s.decodeMultipart(r, nil)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.http() < 400 || ae.http() > 499 || ae.msg == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(jobs) == 0 || len(jobs) > 3 {
			t.Fatalf("%d jobs", len(jobs))
		}
		for _, j := range jobs {
			for _, ft := range j.features {
				if ft.MaxResults < 1 || ft.MaxResults > maxMaxResults || (ft.Type == CustomModel && ft.Model != "digits") {
					t.Fatalf("feature %+v", ft)
				}
			}
		}
	})
}

// FuzzResolveImageURI feeds arbitrary imageUri values to the local-file
// resolver, over a directory holding files, a sub-directory, a FIFO and
// symbolic links in and out: it must return the bytes of a file inside the
// directory or a client error, and never block.
func FuzzResolveImageURI(f *testing.F) {
	root := f.TempDir()
	dir := filepath.Join(root, "photos")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	inside := map[string]bool{}
	for i, name := range []string{"a.png", "sub/b.jpg", "sub/.hidden"} {
		content := fmt.Sprintf("inside %d", i)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		inside[content] = true
	}
	os.WriteFile(filepath.Join(root, "secret.png"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(root, "secret.png"), filepath.Join(dir, "out.png"))
	os.Symlink("a.png", filepath.Join(dir, "in.png"))
	mkfifo(filepath.Join(dir, "pipe.png"))
	for _, seed := range []string{"a.png", "sub/b.jpg", "./sub/../a.png", "../secret.png", "out.png", "in.png", "pipe.png", "sub", "",
		"file://" + filepath.Join(dir, "a.png"), filepath.Join(dir, "sub", "b.jpg"), filepath.Join(root, "secret.png"),
		"https://example.com/a.png", "gs://b/a.png", "s3://b/a", "file:///etc/passwd", "sub/../../photos/a.png", "a.png\x00"} {
		f.Add(seed)
	}
	s, err := New(Config{AllowDir: dir})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, uri string) {
		done := make(chan struct{})
		var data []byte
		var err error
		go func() {
			data, err = s.readURI(uri, nil)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("readURI(%q) blocked", uri)
		}
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.http() < 400 || ae.http() > 499 || strings.Contains(ae.msg, root) && !strings.Contains(uri, root) {
				t.Fatalf("readURI(%q): %v", uri, err)
			}
			return
		}
		if !inside[string(data)] {
			t.Fatalf("readURI(%q) read %q, not a file inside the directory", uri, data)
		}
	})
}
