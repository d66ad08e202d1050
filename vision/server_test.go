package vision

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPageIsEmbedded(t *testing.T) {
	_, ts := testServer(t, Config{})
	resp, body := get(t, ts.URL+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `<script src="app.js"`) {
		t.Fatalf("GET /: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	// Everything the page loads comes from the server itself.
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body) {
		t.Fatal("the page loads something from another host")
	}
	for _, f := range []string{"/app.js", "/style.css"} {
		if resp, body := get(t, ts.URL+f); resp.StatusCode != 200 || len(body) < 500 {
			t.Fatalf("GET %s: %d, %d bytes", f, resp.StatusCode, len(body))
		}
	}
	if resp, body := get(t, ts.URL+"/nope.js"); resp.StatusCode != 404 || !strings.Contains(body, `"status": "NOT_FOUND"`) ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("unknown path: HTTP %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, ts.URL+"/v2/images:annotate"); resp.StatusCode != 404 {
		t.Fatalf("GET /nope.js: %d", resp.StatusCode)
	}
	resp, err := http.Post(ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("POST /: %d", resp.StatusCode)
	}
}

func TestHealthz(t *testing.T) {
	_, ts := testServer(t, Config{Custom: map[string]*classifier.Model{"digits": loadModel(t, tinyModel(t, "a", "b"))}})
	resp, body := get(t, ts.URL+"/healthz")
	var h struct {
		Status       string   `json:"status"`
		Features     []string `json:"features"`
		CustomModels []string `json:"customModels"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 || h.Status != "ok" {
		t.Fatalf("healthz %d %s", resp.StatusCode, body)
	}
	if strings.Join(h.Features, ",") != "IMAGE_PROPERTIES,CUSTOM_MODEL" || strings.Join(h.CustomModels, ",") != "digits" {
		t.Fatalf("healthz %+v", h)
	}
}

// TestMetrics checks the Prometheus text: every sample line parses, the
// request counters and the latency histogram add up.
func TestMetrics(t *testing.T) {
	_, ts := testServer(t, Config{})
	good := jsonRequest(props, pngBytes(t, twoColors(20, 10, 0.5)))
	for range 3 {
		postJSON(t, ts.URL, good)
	}
	postJSON(t, ts.URL, []byte("{"))
	m := scrape(t, ts.URL)
	sample := regexp.MustCompile(`^([a-z_]+)(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? (-?[0-9.e+]+)$`)
	values := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(m), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		g := sample.FindStringSubmatch(line)
		if g == nil {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(g[4], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		values[g[1]+g[2]] = v
	}
	want := map[string]float64{
		`dlcv_vision_requests_total{handler="annotate",code="200"}`:                 3,
		`dlcv_vision_requests_total{handler="annotate",code="400"}`:                 1,
		`dlcv_vision_request_duration_seconds_count{handler="annotate"}`:            4,
		`dlcv_vision_request_duration_seconds_bucket{handler="annotate",le="+Inf"}`: 4,
		`dlcv_vision_annotations_total{feature="IMAGE_PROPERTIES"}`:                 3,
		`dlcv_vision_in_flight_requests`:                                            1, // the scrape itself
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %v, want %v", k, values[k], v)
		}
	}
	if values[`dlcv_vision_request_duration_seconds_bucket{handler="annotate",le="30"}`] != 4 || values[`dlcv_vision_request_duration_seconds_sum{handler="annotate"}`] <= 0 {
		t.Errorf("histogram:\n%s", m)
	}
	if !strings.Contains(m, "# TYPE dlcv_vision_request_duration_seconds histogram\n") {
		t.Error("no histogram TYPE line")
	}
}
