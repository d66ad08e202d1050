package vision

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowBody opens a connection that sends the headers of an annotate
// request announcing n bytes, then one byte every interval. It returns the
// connection; the sending stops when the server closes it.
func slowBody(t *testing.T, addr string, n int, interval time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v1/images:annotate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", n)
	go func() {
		for range n {
			if _, err := c.Write([]byte{' '}); err != nil {
				return
			}
			time.Sleep(interval)
		}
	}()
	return c
}

// Defect 1: two connections trickling their bodies took both work slots
// (and the queue) until the read timeout; every other request got 503.
// Now bodies are read before a slot is taken, and a body slower than the
// minimum rate is cut off after the grace period.
func TestSlowBodiesDoNotHoldSlots(t *testing.T) {
	s, err := New(Config{Limits: Limits{Concurrency: 1, Queue: 1, MinBodyRate: 1000, BodyGrace: 300 * time.Millisecond, ShutdownTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	url := newLoopback(t, s)
	addr := strings.TrimPrefix(url, "http://")
	slow := []net.Conn{slowBody(t, addr, 5000, 50*time.Millisecond), slowBody(t, addr, 5000, 50*time.Millisecond)}
	time.Sleep(100 * time.Millisecond) // both are sending
	body := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))
	for i := range 3 {
		start := time.Now()
		code, br, eb := postJSON(t, url, body)
		if code != 200 || br.Responses[0].ImagePropertiesAnnotation == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("request %d beside two slow bodies: HTTP %d %+v after %v", i, code, eb, time.Since(start))
		}
	}
	// The slow clients are answered 504 (or cut off) once they fall under
	// 1000 bytes/s after the 300 ms grace.
	for i, c := range slow {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("slow client %d still connected after 5 s", i)
			}
			continue // closed: also fine
		}
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 504 || !strings.Contains(string(raw), "--min-body-rate") {
			t.Fatalf("slow client %d: HTTP %d %s", i, resp.StatusCode, raw)
		}
	}
	if m := scrape(t, url); !strings.Contains(m, `dlcv_vision_rejected_requests_total{reason="slow_body"} 2`) {
		t.Errorf("metrics:\n%s", m)
	}
}

// A body that keeps the rate but takes longer than BodyTimeout is cut off
// too.
func TestBodyTimeout(t *testing.T) {
	s, err := New(Config{Limits: Limits{MinBodyRate: 1, BodyTimeout: 400 * time.Millisecond, ShutdownTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	url := newLoopback(t, s)
	c := slowBody(t, strings.TrimPrefix(url, "http://"), 1000, 20*time.Millisecond)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 504 || !strings.Contains(string(raw), "--body-timeout") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
}

// Defect 2 (second half): work is tied to the request's context: a client
// that goes away frees its slot at once, and RequestTimeout stops the work
// with 504.
func TestWorkStopsWithTheRequest(t *testing.T) {
	s, err := New(Config{Limits: Limits{Concurrency: 1, RequestTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 4)
	s.beforeWork = func(ctx context.Context) {
		entered <- struct{}{}
		<-ctx.Done() // work that lasts until the request ends
	}
	url := newLoopback(t, s)
	body := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))

	start := time.Now()
	code, _, eb := postJSON(t, url, body)
	<-entered
	if code != 504 || eb.Error.Status != "DEADLINE_EXCEEDED" || !strings.Contains(eb.Error.Message, "--request-timeout") || time.Since(start) > 3*time.Second {
		t.Fatalf("HTTP %d %+v after %v", code, eb, time.Since(start))
	}

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/images:annotate", bytes.NewReader(body))
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel() // the client goes away
	<-done
	waitFor(t, func() bool { return s.lim.inUse() == 0 })
	waitFor(t, func() bool {
		return strings.Contains(scrape(t, url), `dlcv_vision_requests_total{handler="annotate",code="499"} 1`)
	})
}

// Defect 4: with as many closed-loop clients as Concurrency + Queue, no
// request may be refused. Before, a waiter handed a slot still counted as
// waiting until it ran, so a client returning at once found the queue
// "full"; under load most requests got 503.
func TestLoadSheddingMatchesItsLimits(t *testing.T) {
	s, err := New(Config{Limits: Limits{Concurrency: 2, Queue: 8}})
	if err != nil {
		t.Fatal(err)
	}
	s.beforeWork = func(context.Context) {
		for t0 := time.Now(); time.Since(t0) < 2*time.Millisecond; {
			// CPU-bound work, as inference is, so that woken waiters
			// wait for a CPU.
		}
	}
	url := newLoopback(t, s)
	body := jsonRequest(props, pngBytes(t, twoColors(8, 8, 0.5)))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	run := func(clients, each int) map[int]int {
		var mu sync.Mutex
		codes := map[int]int{}
		var msg string
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for range each {
					resp, err := client.Post(url+"/v1/images:annotate", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					if resp.StatusCode == 503 && msg == "" {
						msg = string(raw)
						if resp.Header.Get("Retry-After") == "" {
							t.Error("503 without Retry-After")
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if msg != "" && !strings.Contains(msg, "--concurrency 2, --queue 8") {
			t.Errorf("503 message %s", msg)
		}
		return codes
	}
	if codes := run(10, 40); codes[200] != 400 {
		t.Fatalf("10 clients against 2 slots + a queue of 8: %v, want 400 x 200", codes)
	}
	// Beyond the limits, requests are refused and the message gives the
	// actual counts.
	s.beforeWork = func(context.Context) { time.Sleep(20 * time.Millisecond) }
	if codes := run(16, 5); codes[503] == 0 {
		t.Fatalf("16 clients against 2 slots + a queue of 8: %v, want some 503", codes)
	}
}

// The queue's accounting, deterministically: on one CPU, a slot handed to
// a waiter that has not run yet must not make the queue look full.
func TestLimiterCountsAHandedSlotOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	l := newLimiter(1, 1, 200*time.Millisecond)
	ctx := context.Background()
	if err := l.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- l.acquire(ctx) }()
	waitFor(t, func() bool { return l.waiting.Load() == 1 })
	l.release() // the waiter has the slot but has not run
	start := time.Now()
	err := l.acquire(ctx) // working 1 + waiting 0: there is room in the queue
	if time.Since(start) < 150*time.Millisecond {
		t.Fatalf("refused at once (%v) with one request working and the queue empty", err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// Defect 8: every error answer's HTTP status is the one google.rpc maps
// its code to, and the body's code is that HTTP status.
func TestErrorStatusesFollowGoogleRPC(t *testing.T) {
	// google/rpc/code.proto's HTTP mapping.
	published := map[string]int{
		"OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
		"NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "UNAUTHENTICATED": 401,
		"RESOURCE_EXHAUSTED": 429, "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400,
		"UNIMPLEMENTED": 501, "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500,
	}
	if len(rpcCodes) != len(published) {
		t.Fatalf("the table has %d codes, google.rpc %d", len(rpcCodes), len(published))
	}
	for code, c := range rpcCodes {
		if published[c.name] != c.http || codeName(code) != c.name || httpStatus(code) != c.http {
			t.Errorf("code %d %s -> HTTP %d, google.rpc says %d", code, c.name, c.http, published[c.name])
		}
	}
	s, ts := testServer(t, Config{APIKeys: []string{"0123456789abcdef"}, Limits: Limits{MaxBodyBytes: 1000, MaxImages: 1}})
	s.mem.capacity = 1 << 20
	check := func(name string, resp *http.Response, wantHTTP int) {
		t.Helper()
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb ErrorBody
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Errorf("%s: %v %s", name, err, raw)
			return
		}
		if resp.StatusCode != wantHTTP || eb.Error.Code != resp.StatusCode || published[eb.Error.Status] != resp.StatusCode {
			t.Errorf("%s: HTTP %d with %+v, want HTTP %d and a matching status", name, resp.StatusCode, eb.Error, wantHTTP)
		}
	}
	url := ts.URL + "/v1/images:annotate?key=0123456789abcdef"
	do := func(method, url, body string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	check("bad JSON", do("POST", url, "{"), 400)
	check("body over --max-body", do("POST", url, strings.Repeat(" ", 2000)), 400)
	check("wrong method", do("GET", url, ""), 501)
	check("no key", do("POST", ts.URL+"/v1/images:annotate", "{}"), 401)
	check("wrong key", do("POST", ts.URL+"/v1/images:annotate?key=fedcba9876543210", "{}"), 403)
	big := jsonRequest(props, pngBytes(t, image.NewGray(image.Rect(0, 0, 600, 600))))
	s.limits.MaxBodyBytes = 1 << 20
	check("memory budget", do("POST", url, string(big)), 400) // needs more than the whole budget
}

// deepPNG is a w x h 16-bit RGB PNG.
func deepPNG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA64(x, y, color.RGBA64{uint16(x * 500), uint16(y * 300), 0x8000, 0xffff})
		}
	}
	return pngBytes(t, img)
}

// Defect 3: memory is budgeted in bytes. An image is refused from its
// header when its decoded pixels would pass --max-image-bytes; a 16-bit
// PNG is decoded to 8 bits, so it costs what an 8-bit one does; and a
// request that does not fit in what is left of --max-memory gets 429 with
// Retry-After instead of making the server grow.
func TestMemoryIsBudgetedInBytes(t *testing.T) {
	s, err := New(Config{Limits: Limits{MaxImageBytes: 1 << 20, Concurrency: 2}})
	if err != nil {
		t.Fatal(err)
	}
	url := newLoopback(t, s)
	code, br, _ := postJSON(t, url, jsonRequest(props, pngBytes(t, twoColors(800, 600, 0.5))))
	if code != 200 || br.Responses[0].Error == nil || !strings.Contains(br.Responses[0].Error.Message, "needs 1920000 bytes decoded, over the limit of 1048576 bytes (--max-image-bytes)") {
		t.Fatalf("8-bit 800x600: HTTP %d %+v", code, br)
	}
	// 500 x 500 x 4 bytes = 1,000,000 bytes decoded, under 1 MiB, though
	// image/png would make 2,000,000.
	code, br, _ = postJSON(t, url, jsonRequest(props, deepPNG(t, 500, 500)))
	if code != 200 || br.Responses[0].ImagePropertiesAnnotation == nil {
		t.Fatalf("16-bit 500x500: HTTP %d %+v", code, br)
	}

	// The in-flight budget: one request holding ~1.5 MB while it works
	// leaves no room for a second under a 2 MB budget.
	entered, release := make(chan struct{}, 2), make(chan struct{})
	s.beforeWork = func(context.Context) {
		entered <- struct{}{}
		<-release
	}
	s.mem.capacity = 2 << 20
	first := make(chan int, 1)
	req := jsonRequest(props, pngBytes(t, twoColors(300, 200, 0.5))) // 240 KB decoded + 1 MiB of work
	go func() {
		code, _, _ := postJSON(t, url, req)
		first <- code
	}()
	<-entered
	resp, err := http.Post(url+"/v1/images:annotate", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(raw), "RESOURCE_EXHAUSTED") || !strings.Contains(string(raw), "--max-memory") {
		t.Fatalf("second request: HTTP %d %s", resp.StatusCode, raw)
	}
	close(release)
	if c := <-first; c != 200 {
		t.Fatalf("first request: HTTP %d", c)
	}
	waitFor(t, func() bool { return s.mem.used.Load() == 0 })
	if code, _, _ := postJSON(t, url, req); code != 200 {
		t.Fatalf("after the first finished: HTTP %d", code)
	}
	// A request that needs more than the whole budget can never be
	// served: 400, not 429.
	s.mem.capacity = 1 << 20
	code, _, eb := postJSON(t, url, req)
	if code != 400 || !strings.Contains(eb.Error.Message, "more than the 1.0 MiB this server gives all requests in flight") {
		t.Fatalf("over the whole budget: HTTP %d %+v", code, eb)
	}
}

// The decoded-bytes limit reads the depth from the header: a 498-byte
// 16-bit PNG that claims 8000 x 8000 pixels is refused without a pixel
// being allocated, though it is under --max-pixels (image/png would have
// allocated 512 MB before finding the data missing).
func TestDeepBombRefusedFromTheHeader(t *testing.T) {
	_, ts := testServer(t, Config{Limits: Limits{MaxPixels: 1 << 40}})
	b := deepPNG(t, 1, 1)
	binary.BigEndian.PutUint32(b[16:], 8000)
	binary.BigEndian.PutUint32(b[20:], 8000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code, br, _ := postJSON(t, ts.URL, jsonRequest(props, b))
	runtime.ReadMemStats(&after)
	if code != 200 || br.Responses[0].Error == nil || !strings.Contains(br.Responses[0].Error.Message, "8000x8000 pixels (16-bit) needs 256000000 bytes decoded, over the limit of 134217728 bytes (--max-image-bytes)") {
		t.Fatalf("HTTP %d %+v", code, br)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Fatalf("refusing it allocated %d bytes", n)
	}
}

func TestAPIKey(t *testing.T) {
	if _, err := New(Config{APIKeys: []string{"short"}}); err == nil {
		t.Fatal("a 5-character key accepted")
	}
	_, ts := testServer(t, Config{APIKeys: []string{"0123456789abcdef", "rotated-key-0123456789"}})
	body := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))
	send := func(query, header string) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/images:annotate"+query, bytes.NewReader(body))
		if header != "" {
			req.Header.Set("X-Goog-Api-Key", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(raw)
	}
	for _, c := range []struct {
		query, header string
		code          int
		want          string
	}{
		{"", "", 401, "UNAUTHENTICATED"},
		{"?key=0123456789abcdeX", "", 403, "API key not valid"},
		{"", "nope", 403, "PERMISSION_DENIED"},
		{"?key=0123456789abcdef", "", 200, "responses"},
		{"", "rotated-key-0123456789", 200, "responses"},
	} {
		if code, raw := send(c.query, c.header); code != c.code || !strings.Contains(raw, c.want) {
			t.Errorf("key %q/%q: HTTP %d %s", c.query, c.header, code, raw)
		}
	}
	// Health checks stay open; metrics need the key.
	if resp, _ := get(t, ts.URL+"/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if resp, _ := get(t, ts.URL+"/metrics"); resp.StatusCode != 401 {
		t.Fatalf("metrics without a key: %d", resp.StatusCode)
	}
	if resp, _ := get(t, ts.URL+"/metrics?key=0123456789abcdef"); resp.StatusCode != 200 {
		t.Fatalf("metrics with the key: %d", resp.StatusCode)
	}
}

// A request refused before its body is read (too large, queue full) has
// its body drained before the answer: a client still sending gets the
// answer, not a broken pipe, and the connection stays open for the next
// request.
func TestRefusedBodiesAreDrained(t *testing.T) {
	s, entered, release := blockingServer(t, Limits{MaxBodyBytes: 400 << 10, Concurrency: 1, Queue: 1})
	url := newLoopback(t, s)
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	send := func(body []byte) *http.Response {
		t.Helper()
		go func() {
			fmt.Fprintf(c, "POST /v1/images:annotate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			c.Write(body)
		}()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := send(bytes.Repeat([]byte(" "), 600<<10)); resp.StatusCode != 400 || resp.Close {
		t.Fatalf("over --max-body: HTTP %d, close %v", resp.StatusCode, resp.Close)
	}
	// Fill the slot and the queue, then a 300 KB request is refused with
	// 503 on the same connection, which stays open.
	small := jsonRequest(props, pngBytes(t, twoColors(8, 8, 0.5)))
	for range 2 {
		go postJSON(t, url, small)
	}
	<-entered
	waitFor(t, func() bool { return s.lim.full() })
	if resp := send(append(small, bytes.Repeat([]byte(" "), 300<<10)...)); resp.StatusCode != 503 || resp.Close {
		t.Fatalf("queue full: HTTP %d, close %v", resp.StatusCode, resp.Close)
	}
	close(release)
	waitFor(t, func() bool { return !s.lim.full() })
	if resp := send(small); resp.StatusCode != 200 {
		t.Fatalf("afterwards: HTTP %d", resp.StatusCode)
	}
}
