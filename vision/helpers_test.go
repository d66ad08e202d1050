package vision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/tflite"
	"github.com/dlcv-go/dlcv/zoo"
)

// testServer starts s on a loopback httptest server.
func testServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

var (
	labelerOnce sync.Once
	labeler     *Labeler
	labelerErr  error
)

// sharedLabeler loads the MobileNet v2 classifier from the shared data
// once per test binary (skipping when it is absent).
func sharedLabeler(t testing.TB) *Labeler {
	t.Helper()
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testutil.SharedFile(t, "models/coral/imagenet_labels.txt")
	labelerOnce.Do(func() {
		m, err := tflite.Load(model)
		if err != nil {
			labelerErr = err
			return
		}
		l, err := tflite.LoadLabels(labels)
		labeler, labelerErr = &Labeler{Model: m, Labels: l}, err
	})
	if labelerErr != nil {
		t.Fatal(labelerErr)
	}
	return labeler
}

func sharedCascade(t testing.TB) *detect.Cascade {
	t.Helper()
	c, err := detect.LoadCascade(testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readShared(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tinyModel writes a small untrained dlcv classifier (16x16 RGB input) with
// the given classes and returns its path.
func tinyModel(t testing.TB, classes ...string) string {
	t.Helper()
	net, err := zoo.New("shallownet", []int{16, 16, 3}, len(classes), 7)
	if err != nil {
		t.Fatal(err)
	}
	m := &classifier.Model{Net: net, Classes: classes, Preprocess: data.Preprocess{Width: 16, Height: 16, Channels: 3}}
	path := filepath.Join(t.TempDir(), "tiny.dlcv")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadModel(t testing.TB, path string) *classifier.Model {
	t.Helper()
	m, err := classifier.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pngBytes encodes img as PNG.
func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// twoColors is a w x h image, the left frac red and the rest blue.
func twoColors(w, h int, frac float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 255, 255}
			if float64(x) < frac*float64(w) {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// jsonRequest builds an annotate body for images with the same features.
func jsonRequest(features []Feature, images ...[]byte) []byte {
	var req BatchRequest
	for _, im := range images {
		req.Requests = append(req.Requests, ImageRequest{Image: Image{Content: base64.StdEncoding.EncodeToString(im)}, Features: features})
	}
	b, _ := json.Marshal(req)
	return b
}

// post sends body to the annotate endpoint and decodes the reply: a
// BatchResponse for 200 (or per-image failures), else an ErrorBody.
func post(t testing.TB, url, contentType string, body io.Reader) (int, BatchResponse, ErrorBody) {
	t.Helper()
	resp, err := http.Post(url+"/v1/images:annotate", contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var br BatchResponse
	var eb ErrorBody
	if strings.Contains(string(raw), `"responses"`) {
		err = json.Unmarshal(raw, &br)
	} else {
		err = json.Unmarshal(raw, &eb)
	}
	if err != nil {
		t.Fatalf("HTTP %d, body is not JSON: %v\n%s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, br, eb
}

func postJSON(t testing.TB, url string, body []byte) (int, BatchResponse, ErrorBody) {
	return post(t, url, "application/json", bytes.NewReader(body))
}

// multipartBody builds a form like curl -F image=@... -F key=value.
func multipartBody(t testing.TB, images [][]byte, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for i, im := range images {
		fw, err := w.CreateFormFile("image", "photo"+string(rune('a'+i))+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(im)
	}
	w.Close()
	return w.FormDataContentType(), &b
}

func decodeBody(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("HTTP %d: %v\n%s", resp.StatusCode, err, raw)
	}
}

// sharedFeatureModels loads the shared TF.js models of OBJECT_LOCALIZATION,
// SAFE_SEARCH_DETECTION and FACE_DETECTION into cfg (once per test binary).
func sharedFeatureModels(t testing.TB, cfg *Config) {
	t.Helper()
	dir := testutil.SharedFile(t, "models/tfjs")
	featureOnce.Do(func() {
		featureModels.Objects, featureModels.SafeSearch, featureModels.BlazeFace, featureModels.Emotion, featureModels.Text, _, featureErr = annotate.LoadModels(annotate.LoadOptions{
			Objects:    filepath.Join(dir, "human/centernet.json"),
			SafeSearch: filepath.Join(dir, "nsfw-mobilenet-v2/model.json"),
			BlazeFace:  filepath.Join(dir, "human/blazeface.json"),
			Emotion:    filepath.Join(dir, "human/emotion.json"),
			Text:       filepath.Join(filepath.Dir(dir), "onnx/paddleocr"),
		})
	})
	if featureErr != nil {
		t.Fatal(featureErr)
	}
	cfg.Objects, cfg.SafeSearch, cfg.BlazeFace, cfg.Emotion, cfg.Text = featureModels.Objects, featureModels.SafeSearch, featureModels.BlazeFace, featureModels.Emotion, featureModels.Text
}

var (
	featureOnce   sync.Once
	featureModels Config
	featureErr    error
)

// sharedWeb builds a WEB_DETECTION index of the first n photos of each
// class of ../shared/data/animals (linked into a temporary folder).
func sharedWeb(t testing.TB, n int, labels *Labeler) *annotate.Web {
	t.Helper()
	e, err := annotate.LoadEmbedder(testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	src := testutil.SharedFile(t, "data/animals")
	dir := t.TempDir()
	for _, c := range []string{"cats", "dogs", "panda"} {
		es, err := os.ReadDir(filepath.Join(src, c))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, c), 0o755)
		for _, en := range es[:n] {
			if err := os.Symlink(filepath.Join(src, c, en.Name()), filepath.Join(dir, c, en.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	x, _, err := annotate.BuildIndex(context.Background(), dir, e, annotate.IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &annotate.Web{Index: x, Embedder: e, Labels: labels}
}
