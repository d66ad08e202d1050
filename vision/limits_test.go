package vision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var props = []Feature{{Type: ImageProperties}}

// pngBomb is a valid 1x1 PNG whose header claims w x h pixels.
func pngBomb(t *testing.T, w, h uint32) []byte {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestRequestErrors(t *testing.T) {
	_, ts := testServer(t, Config{Limits: Limits{MaxImages: 2, MaxPixels: 10_000}})
	good := base64.StdEncoding.EncodeToString(pngBytes(t, twoColors(20, 10, 0.5)))
	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"not JSON", `{"requests": [`, 400, "not a valid annotate request"},
		{"no requests", `{"requests": []}`, 400, "no requests"},
		{"trailing data", `{"requests": []} {}`, 400, "after the JSON"},
		{"too many images", string(jsonRequest(props, []byte("a"), []byte("b"), []byte("c"))), 400, "3 images in one request, the limit is 2"},
		{"unknown feature", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"CROP_HINTS"}]}]}`, 400, `unknown feature type "CROP_HINTS"`},
		{"no features", `{"requests":[{"image":{"content":"` + good + `"}}]}`, 400, "requests[0].features is empty"},
		{"negative maxResults", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"IMAGE_PROPERTIES","maxResults":-1}]}]}`, 400, "maxResults is -1"},
		{"bad base64", `{"requests":[{"image":{"content":"iVBOR%%%"},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 400, "requests[0].image.content is not valid base64"},
		{"no image", `{"requests":[{"image":{},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 400, "requests[0].image is empty"},
		{"content and uri", `{"requests":[{"image":{"content":"` + good + `","source":{"imageUri":"a.png"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 400, "both content and source"},
		// Per-image failures: HTTP 200 (as Cloud Vision answers), the
		// response holds the error, whose code maps to the HTTP status
		// given here. A feature whose model is missing names the model
		// and how to get it.
		{"feature off", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"LABEL_DETECTION"}]}]}`, 400, "dlcv models pull mobilenet-v2"},
		{"objects off", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"OBJECT_LOCALIZATION"}]}]}`, 400, "dlcv models pull centernet"},
		{"safe search off", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"SAFE_SEARCH_DETECTION"}]}]}`, 400, "dlcv models pull nsfw-mobilenet-v2"},
		{"faces off", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"FACE_DETECTION"}]}]}`, 400, "dlcv models pull blazeface"},
		{"text off", `{"requests":[{"image":{"content":"` + good + `"},"features":[{"type":"TEXT_DETECTION"}]}]}`, 400, "dlcv models pull ppocr-v4"},
		{"not an image", string(jsonRequest(props, []byte("GIF89a"))), 400, "bad image data"},
		{"text", string(jsonRequest(props, []byte("hello, world"))), 400, "not an image in a supported format"},
		{"too many pixels", string(jsonRequest(props, pngBytes(t, twoColors(200, 100, 0.5)))), 400, "200x100 = 20000 pixels, over the limit of 10000 pixels"},
		{"decompression bomb", string(jsonRequest(props, pngBomb(t, 100_000, 100_000))), 400, "100000x100000 = 10000000000 pixels"},
		{"truncated", string(jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5))[:60])), 400, "bad image data"},
		{"remote uri", `{"requests":[{"image":{"source":{"imageUri":"https://example.com/cat.jpg"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 400, "remote URIs are not fetched"},
		{"gcs uri", `{"requests":[{"image":{"source":{"gcsImageUri":"gs://bucket/cat.jpg"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 400, "remote URIs are not fetched"},
		{"files off", `{"requests":[{"image":{"source":{"imageUri":"cat.jpg"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, 403, "--allow-dir"},
	} {
		code, br, eb := postJSON(t, ts.URL, []byte(c.body))
		msg := eb.Error.Message
		if len(br.Responses) > 0 && br.Responses[0].Error != nil {
			e := br.Responses[0].Error
			msg = e.Message
			if e.Code == 0 || e.Status != codeName(e.Code) {
				t.Errorf("%s: per-image error without a gRPC code: %+v", c.name, e)
			}
			if code != 200 {
				t.Errorf("%s: HTTP %d for a per-image error, want 200", c.name, code)
			}
			code = httpStatus(e.Code)
		} else if eb.Error.Code != code {
			t.Errorf("%s: error code %d in a HTTP %d reply", c.name, eb.Error.Code, code)
		}
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s: HTTP %d %q, want %d and %q", c.name, code, msg, c.code, c.want)
		}
	}

	// One bad image among good ones fails alone, with HTTP 200.
	code, br, _ := postJSON(t, ts.URL, jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)), []byte("junk")))
	if code != 200 || br.Responses[0].Error != nil || br.Responses[1].Error == nil || br.Responses[1].Error.Status != "INVALID_ARGUMENT" || br.Responses[1].Error.Code != 3 {
		t.Fatalf("mixed: HTTP %d %+v", code, br)
	}

	// Wrong method.
	resp, err := http.Get(ts.URL + "/v1/images:annotate")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// google.rpc has no 405: UNIMPLEMENTED (501), as grpc-gateway answers.
	if resp.StatusCode != http.StatusNotImplemented || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET annotate: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	_, ts := testServer(t, Config{Limits: Limits{MaxBodyBytes: 1000}})
	big := jsonRequest(props, bytes.Repeat([]byte{1}, 2000))
	// With a Content-Length: refused before reading.
	// google.rpc has no 413: 400 INVALID_ARGUMENT, as Cloud Vision
	// answers ("Request payload size exceeds the limit").
	code, _, eb := postJSON(t, ts.URL, big)
	if code != 400 || eb.Error.Status != "INVALID_ARGUMENT" || !strings.Contains(eb.Error.Message, "the limit is 1000 bytes (--max-body)") {
		t.Fatalf("HTTP %d %+v", code, eb)
	}
	// Chunked (no length): refused when the limit is crossed.
	code, _, eb = post(t, ts.URL, "application/json", io.MultiReader(bytes.NewReader(big)))
	if code != 400 || !strings.Contains(eb.Error.Message, "over 1000 bytes (--max-body)") {
		t.Fatalf("chunked: HTTP %d %+v", code, eb)
	}
	ct, body := multipartBody(t, [][]byte{bytes.Repeat([]byte{1}, 2000)}, nil)
	code, _, eb = post(t, ts.URL, ct, io.MultiReader(body))
	if code != 400 || eb.Error.Status != "INVALID_ARGUMENT" {
		t.Fatalf("multipart: HTTP %d %+v", code, eb)
	}
}

func TestImageURI(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "photos")
	os.MkdirAll(filepath.Join(allowed, "sub"), 0o755)
	img := pngBytes(t, twoColors(20, 10, 0.5))
	os.WriteFile(filepath.Join(allowed, "sub", "a.png"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "secret.png"), img, 0o644)
	if err := os.Symlink(filepath.Join(dir, "secret.png"), filepath.Join(allowed, "link.png")); err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, Config{AllowDir: allowed})
	req := func(uri string) string {
		return fmt.Sprintf(`{"requests":[{"image":{"source":{"imageUri":%q}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`, uri)
	}
	for _, uri := range []string{"sub/a.png", "./sub/../sub/a.png", filepath.Join(allowed, "sub", "a.png"), "file://" + filepath.Join(allowed, "sub", "a.png")} {
		if code, br, eb := postJSON(t, ts.URL, []byte(req(uri))); code != 200 || br.Responses[0].ImagePropertiesAnnotation == nil {
			t.Fatalf("%s: HTTP %d %+v %+v", uri, code, br, eb)
		}
	}
	for _, c := range []struct {
		uri  string
		code int
	}{
		{"../secret.png", 403},
		{"sub/../../secret.png", 403},
		{filepath.Join(dir, "secret.png"), 403},
		{"link.png", 403}, // a symlink out of the directory
		{"missing.png", 404},
		{"sub", 400},
		{"http://127.0.0.1/a.png", 400},
		{"ftp://host/a.png", 400},
		{"s3://bucket/a.png", 400},
	} {
		code, br, _ := postJSON(t, ts.URL, []byte(req(c.uri)))
		if code != 200 || len(br.Responses) != 1 || br.Responses[0].Error == nil || httpStatus(br.Responses[0].Error.Code) != c.code {
			t.Errorf("%s: HTTP %d %+v, want %d", c.uri, code, br, c.code)
			continue
		}
		if m := br.Responses[0].Error.Message; !strings.Contains(c.uri, dir) && strings.Contains(m, dir) {
			t.Errorf("%s: the error shows the server's directory: %s", c.uri, m)
		}
	}
}

// blockingServer returns a server whose annotate requests wait in the
// work slot until release is closed; entered receives one value per
// request that got a slot.
func blockingServer(t *testing.T, lim Limits) (*Server, chan struct{}, chan struct{}) {
	s, err := New(Config{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 16), make(chan struct{})
	s.beforeWork = func(context.Context) {
		entered <- struct{}{}
		<-release
	}
	return s, entered, release
}

func TestConcurrencyLimitAndQueue(t *testing.T) {
	s, entered, release := blockingServer(t, Limits{Concurrency: 1, Queue: 1})
	ts := newLoopback(t, s)
	body := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))
	codes := make(chan int, 2)
	send := func() {
		code, _, _ := postJSON(t, ts, body)
		codes <- code
	}
	go send()
	<-entered // the first holds the only slot
	go send()
	waitFor(t, func() bool { return s.lim.waiting.Load() == 1 }) // the second is queued
	start := time.Now()
	code, _, eb := postJSON(t, ts, body)
	if code != 503 || eb.Error.Status != "UNAVAILABLE" || !strings.Contains(eb.Error.Message, "busy") || time.Since(start) > 2*time.Second {
		t.Fatalf("third request: HTTP %d %+v after %v", code, eb, time.Since(start))
	}
	close(release)
	for range 2 {
		if c := <-codes; c != 200 {
			t.Fatalf("admitted request: HTTP %d", c)
		}
	}
	m := scrape(t, ts)
	for _, want := range []string{`dlcv_vision_requests_total{handler="annotate",code="200"} 2`, `dlcv_vision_requests_total{handler="annotate",code="503"} 1`,
		`dlcv_vision_rejected_requests_total{reason="busy"} 1`, "dlcv_vision_queued_requests 0", "dlcv_vision_busy_slots 0"} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestQueueTimeout(t *testing.T) {
	s, entered, release := blockingServer(t, Limits{Concurrency: 1, Queue: 4, QueueTimeout: 100 * time.Millisecond})
	defer close(release)
	ts := newLoopback(t, s)
	body := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))
	go postJSON(t, ts, body)
	<-entered
	if code, _, _ := postJSON(t, ts, body); code != 503 {
		t.Fatalf("waited past the queue timeout: HTTP %d", code)
	}
}

// newLoopback serves s with its own timeouts on a loopback port and
// returns the base URL.
func newLoopback(t *testing.T, s *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	s, entered, release := blockingServer(t, Limits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	codes := make(chan int, 1)
	go func() {
		code, br, _ := postJSON(t, url, jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5))))
		if code == 200 && br.Responses[0].ImagePropertiesAnnotation == nil {
			code = -1
		}
		codes <- code
	}()
	<-entered
	cancel() // as SIGINT/SIGTERM do in dlcv serve
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// New connections are refused while the in-flight request finishes.
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the listener still accepts connections during shutdown")
	}
	close(release)
	if code := <-codes; code != 200 {
		t.Fatalf("in-flight request: HTTP %d", code)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestServerTimeouts(t *testing.T) {
	s, err := New(Config{Limits: Limits{ReadHeaderTimeout: 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	if hs.ReadHeaderTimeout != 150*time.Millisecond || hs.ReadTimeout != 60*time.Second || hs.WriteTimeout != 120*time.Second || hs.IdleTimeout != 120*time.Second || hs.MaxHeaderBytes == 0 {
		t.Fatalf("timeouts %+v", hs)
	}
	// A client that never finishes its headers is cut off.
	url := newLoopback(t, s)
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v1/images:annotate HTTP/1.1\r\nHost: x\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.Copy(io.Discard, c) // returns when the server closes the connection
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("slow headers kept the connection for %v", d)
	}
}

func TestLimitsValidation(t *testing.T) {
	if _, err := New(Config{Limits: Limits{Queue: -1}}); err == nil {
		t.Fatal("negative queue accepted")
	}
	s, _ := New(Config{})
	l := s.limits
	if l.MaxBodyBytes != 10<<20 || l.MaxPixels != 25_000_000 || l.MaxImages != 16 || l.Concurrency < 1 || l.Queue != 4*l.Concurrency {
		t.Fatalf("defaults %+v", l)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}
