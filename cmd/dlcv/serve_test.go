package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/vision"
	"github.com/dlcv-go/dlcv/zoo"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "--max-body", "lots"},
		{"serve", "--max-pixels", "-5"},
		{"serve", "--custom", "digits"},
		{"serve", "--concurrency", "0"},
		{"serve", "--min-score", "1.5"},
		{"serve", "--face-detector", "dlib"},
	} {
		if code, _, stderr := runCLI(args...); code != 2 || !strings.Contains(stderr, "dlcv serve") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
	if code, _, stderr := runCLI("serve", "--help"); code != 0 || !strings.Contains(stderr, "curl -F image=@") {
		t.Fatalf("--help: code %d\n%s", code, stderr)
	}
	t.Setenv("DLCV_HOME", t.TempDir())
	if code, _, stderr := runCLI("serve", "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(stderr, "dlcv models pull mobilenet-v2") || !strings.Contains(stderr, "--model none") {
		t.Fatalf("missing model: code %d stderr %q", code, stderr)
	}
	// A label file that does not fit the model is refused, naming both
	// counts; one that misses the background line is fixed, with a warning.
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	five := filepath.Join(t.TempDir(), "five.txt")
	os.WriteFile(five, []byte("a\nb\nc\nd\ne\n"), 0o644)
	if code, _, stderr := runCLI("serve", "--addr", "127.0.0.1:0", "--model", model, "--labels", five); code != 1 ||
		!strings.Contains(stderr, "five.txt has 5 labels but the model has 1001 outputs") {
		t.Errorf("mismatched labels: code %d stderr %q", code, stderr)
	}
	for v, want := range map[string]int64{"10MB": 10e6, "10MiB": 10 << 20, "512k": 512e3, "1048576": 1 << 20, "1.5M": 1.5e6} {
		if n, err := parseSize(v, "B"); err != nil || n != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", v, n, err, want)
		}
	}
}

func TestServeRunsAndStops(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir()) // no feature models downloaded
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testutil.SharedFile(t, "models/coral/imagenet_labels.txt")
	cat, err := os.ReadFile(testutil.SharedFile(t, "models/coral/cat.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := zoo.New("shallownet", []int{8, 8, 1}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	custom := filepath.Join(t.TempDir(), "tiny.dlcv")
	if err := (&classifier.Model{Net: net, Classes: []string{"dark", "light"}, Preprocess: data.Preprocess{Width: 8, Height: 8, Channels: 1}}).Save(custom); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--model", model, "--labels", labels, "--cascade", "none",
			"--custom", "tone=" + custom, "--max-body", "2MB", "--concurrency", "2"}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`listening on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "CUSTOM_MODEL (tone)") {
		t.Fatalf("stdout %q", stdout.String())
	}

	// curl -F image=@cat.bmp -F features=LABEL_DETECTION:1,CUSTOM_MODEL:tone
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("image", "cat.bmp")
	fw.Write(cat)
	w.WriteField("features", "LABEL_DETECTION:1,CUSTOM_MODEL:tone")
	w.Close()
	resp, err := http.Post(url+"/v1/images:annotate", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Responses []struct {
			LabelAnnotations []struct {
				Description string  `json:"description"`
				Score       float64 `json:"score"`
			} `json:"labelAnnotations"`
			CustomAnnotations []struct {
				Model  string `json:"model"`
				Labels []struct {
					Description string `json:"description"`
				} `json:"labels"`
			} `json:"customAnnotations"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || len(out.Responses) != 1 {
		t.Fatalf("HTTP %d %v\n%s", resp.StatusCode, err, raw)
	}
	r := out.Responses[0]
	if len(r.LabelAnnotations) != 1 || r.LabelAnnotations[0].Description != "Egyptian cat" ||
		len(r.CustomAnnotations) != 1 || r.CustomAnnotations[0].Model != "tone" || len(r.CustomAnnotations[0].Labels) != 2 {
		t.Fatalf("response %s", raw)
	}
	// FACE_DETECTION is off (--cascade none, no BlazeFace downloaded):
	// the image's error says which model to pull.
	png1x1 := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	resp, err = http.Post(url+"/v1/images:annotate", "application/json", strings.NewReader(`{"requests":[{"image":{"content":"`+png1x1+`"},"features":[{"type":"FACE_DETECTION"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "dlcv models pull blazeface") || !strings.Contains(string(raw), "FAILED_PRECONDITION") {
		t.Fatalf("faces off: HTTP %d %s", resp.StatusCode, raw)
	}

	cancel() // what SIGINT/SIGTERM do
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stdout.String(), "dlcv serve: stopped") {
		t.Fatalf("stdout %q", stdout.String())
	}
}

// With a cascade and no --smile-model, faces get their joy from the smile
// classifier shipped with dlcv.
func TestServeFacesUseTheShippedSmileModel(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir()) // no feature models downloaded
	cascade := testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml")
	grace, err := os.ReadFile(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--model", "none", "--cascade", cascade}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := regexp.MustCompile(`listening on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "FACE_DETECTION (haar, joy from the smile model)") || strings.Contains(stdout.String(), "LABEL_DETECTION") {
		t.Fatalf("stdout %q", stdout.String())
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("image", "grace_hopper.bmp")
	fw.Write(grace)
	w.WriteField("features", "FACE_DETECTION")
	w.Close()
	resp, err := http.Post(url+"/v1/images:annotate", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Responses []struct {
			FaceAnnotations []struct {
				JoyLikelihood  string   `json:"joyLikelihood"`
				JoyProbability *float64 `json:"joyProbability"`
			} `json:"faceAnnotations"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || len(out.Responses) != 1 || len(out.Responses[0].FaceAnnotations) != 1 {
		t.Fatalf("HTTP %d %v\n%s", resp.StatusCode, err, raw)
	}
	f := out.Responses[0].FaceAnnotations[0]
	if f.JoyProbability == nil || *f.JoyProbability < 0 || *f.JoyProbability > 1 || f.JoyLikelihood == "UNKNOWN" {
		t.Fatalf("face %s", raw)
	}
}

// --api-key-file: requests need a key; without one, a server reachable
// from other machines warns at start.
func TestServeAPIKey(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir()) // no feature models downloaded
	keyFile := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(keyFile, []byte("# rotated monthly\n0123456789abcdef\n\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--model", "none", "--cascade", "none", "--api-key-file", keyFile, "--max-memory", "512MiB"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := regexp.MustCompile(`listening on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Fatalf("warning on loopback: %s", stderr.String())
	}
	body := `{"requests":[{"image":{"content":"AAAA"},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`
	for key, want := range map[string]int{"": 401, "?key=wrong-key-000000": 403, "?key=0123456789abcdef": 200} {
		resp, err := http.Post(url+"/v1/images:annotate"+key, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("key %q: HTTP %d, want %d", key, resp.StatusCode, want)
		}
	}
}

func TestServeWarnsBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:80": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if isLoopback(a) != want {
			t.Errorf("isLoopback(%s) = %v", addr, !want)
		}
	}
	for _, args := range [][]string{
		{"serve", "--api-key-file", "/nonexistent/keys"},
		{"serve", "--request-timeout", "0s"},
		{"serve", "--max-memory", "lots"},
	} {
		if code, _, stderr := runCLI(args...); code == 0 || !strings.Contains(stderr, strings.TrimLeft(args[1], "-")) {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
	empty := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(empty, []byte("\n# none\n"), 0o600)
	if code, _, stderr := runCLI("serve", "--api-key-file", empty); code != 1 || !strings.Contains(stderr, "holds no key") {
		t.Errorf("empty key file: code %d stderr %q", code, stderr)
	}
}

// With the feature models in the cache (links to the shared copies),
// serve starts with every feature and answers them in one request.
func TestServeAllFeatureModels(t *testing.T) {
	home := t.TempDir()
	for _, f := range []string{"human/centernet.json", "human/centernet.bin", "human/blazeface.json", "human/blazeface.bin",
		"human/emotion.json", "human/emotion.bin", "nsfw-mobilenet-v2/model.json", "nsfw-mobilenet-v2/group1-shard1of1.bin"} {
		dst := filepath.Join(home, "models", f)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.Symlink(testutil.SharedFile(t, "models/tfjs/"+f), dst); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DLCV_HOME", home)
	grace, err := os.ReadFile(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--model", "none", "--cascade", "none"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := regexp.MustCompile(`listening on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "OBJECT_LOCALIZATION, SAFE_SEARCH_DETECTION, FACE_DETECTION (blazeface, expressions)") ||
		!strings.Contains(stderr.String(), "LABEL_DETECTION is off") {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	body := `{"requests":[{"image":{"content":"` + base64.StdEncoding.EncodeToString(grace) + `"},"features":[{"type":"OBJECT_LOCALIZATION"},{"type":"SAFE_SEARCH_DETECTION"},{"type":"FACE_DETECTION"},{"type":"LABEL_DETECTION"}]}]}`
	resp, err := http.Post(url+"/v1/images:annotate", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// LABEL_DETECTION is off: the image's error names the model.
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "dlcv models pull mobilenet-v2") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
	body = strings.Replace(body, `,{"type":"LABEL_DETECTION"}`, "", 1)
	resp, err = http.Post(url+"/v1/images:annotate", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out vision.BatchResponse
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP %d %v", resp.StatusCode, err)
	}
	r := out.Responses[0]
	if r.Error != nil || len(r.LocalizedObjectAnnotations) != 2 || r.LocalizedObjectAnnotations[0].Name != "person" ||
		r.SafeSearchAnnotation == nil || r.SafeSearchAnnotation.Adult != "VERY_UNLIKELY" ||
		len(r.FaceAnnotations) != 1 || len(r.FaceAnnotations[0].Landmarks) != 6 || r.FaceAnnotations[0].SorrowLikelihood == "UNKNOWN" {
		t.Fatalf("response %+v", r)
	}
}

// --custom takes any format classify reads; one whose file does not say
// how to preprocess is refused with the way to write it as a classifier.
func TestServeCustomForeignModel(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir())
	model := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	code, _, stderr := runCLI("serve", "--addr", "127.0.0.1:0", "--model", "none", "--cascade", "none", "--custom", "nsfw="+model)
	if code != 1 || !strings.Contains(stderr, "--custom nsfw=") || !strings.Contains(stderr, "--scale") || !strings.Contains(stderr, "dlcv convert") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}
