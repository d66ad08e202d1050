// Command latency measures each annotate feature's latency through 'dlcv
// serve' on loopback: one request at a time (a batch of one photo, no
// queueing), the features taking turns so that the machine's load falls
// on all of them alike. It prints, per feature, the median, p90 and p99
// of -rounds requests, the load average before and after, and the
// server's RSS.
//
// Usage (from the repository root; bench/vision/latency.sh runs it):
//
//	go build -o /tmp/dlcv ./cmd/dlcv
//	go run ./bench/vision/latency -dlcv /tmp/dlcv -shared ../shared
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
)

func main() {
	dlcv := flag.String("dlcv", "dlcv", "dlcv binary to run as the server")
	shared := flag.String("shared", "../shared", "the shared data folder (models and photos)")
	rounds := flag.Int("rounds", 30, "requests per feature")
	size := flag.String("size", "640x480", "photo size sent (grace_hopper.bmp resized)")
	threads := flag.Int("threads", 2, "GOMAXPROCS of the server")
	format := flag.String("format", "jpeg", "photo format sent: jpeg (quality 90, as a camera's) or png (whose decoding in Go's image/png alone takes about 28 ms at 640x480)")
	flag.Parse()
	if err := run(*dlcv, *shared, *rounds, *size, *threads, *format); err != nil {
		fmt.Fprintln(os.Stderr, "bench/vision/latency:", err)
		os.Exit(1)
	}
}

var featureSets = []struct{ name, types string }{
	{"OBJECT_LOCALIZATION", "OBJECT_LOCALIZATION"},
	{"SAFE_SEARCH_DETECTION", "SAFE_SEARCH_DETECTION"},
	{"FACE_DETECTION", "FACE_DETECTION"},
	{"LABEL_DETECTION", "LABEL_DETECTION"},
	{"all five", "OBJECT_LOCALIZATION,LABEL_DETECTION,IMAGE_PROPERTIES,SAFE_SEARCH_DETECTION,FACE_DETECTION"},
}

func run(dlcv, shared string, rounds int, size string, threads int, format string) error {
	var w, h int
	if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil || w < 1 || h < 1 {
		return fmt.Errorf("-size %q: want WxH", size)
	}
	photo, err := resizedPhoto(filepath.Join(shared, "models/coral/grace_hopper.bmp"), w, h, format)
	if err != nil {
		return err
	}
	m := filepath.Join(shared, "models")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--concurrency", "1",
		"--model", filepath.Join(m, "coral/mobilenet_v2_1.0_224_quant.tflite"), "--labels", filepath.Join(m, "coral/imagenet_labels.txt"),
		"--objects-model", filepath.Join(m, "tfjs/human/centernet.json"),
		"--safesearch-model", filepath.Join(m, "tfjs/nsfw-mobilenet-v2/model.json"),
		"--blazeface-model", filepath.Join(m, "tfjs/human/blazeface.json"),
		"--emotion-model", filepath.Join(m, "tfjs/human/emotion.json"),
		"--cascade", "none", "--smile-model", "none"}
	cmd := exec.Command(dlcv, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", threads))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	url, err := waitAddress(out)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(featureSets))
	for i, fs := range featureSets {
		var feats []any
		for _, t := range strings.Split(fs.types, ",") {
			feats = append(feats, map[string]any{"type": t})
		}
		bodies[i], _ = json.Marshal(map[string]any{"requests": []any{map[string]any{
			"image": map[string]string{"content": base64.StdEncoding.EncodeToString(photo)}, "features": feats}}})
	}
	client := &http.Client{Timeout: time.Minute}
	fmt.Printf("server: GOMAXPROCS=%d %s %s\nphoto: grace_hopper.bmp resized to %dx%d %s (%d bytes); %d rounds, features in turn\nload average before: %s\n",
		threads, dlcv, strings.Join(args, " "), w, h, strings.ToUpper(format), len(photo), rounds, loadavg())
	// Warm-up: each session plans its shapes once.
	for i := range featureSets {
		for range 2 {
			if _, err := post(client, url, bodies[i]); err != nil {
				return fmt.Errorf("%s: %w", featureSets[i].name, err)
			}
		}
	}
	lat := make([][]time.Duration, len(featureSets))
	for range rounds {
		for i := range featureSets {
			d, err := post(client, url, bodies[i])
			if err != nil {
				return fmt.Errorf("%s: %w", featureSets[i].name, err)
			}
			lat[i] = append(lat[i], d)
		}
	}
	fmt.Printf("%-24s %10s %10s %10s\n", "feature", "median", "p90", "p99")
	for i, fs := range featureSets {
		slices.Sort(lat[i])
		fmt.Printf("%-24s %10v %10v %10v\n", fs.name, q(lat[i], 0.5).Round(100*time.Microsecond), q(lat[i], 0.9).Round(100*time.Microsecond), q(lat[i], 0.99).Round(100*time.Microsecond))
	}
	fmt.Printf("load average after: %s\nserver RSS %s\n", loadavg(), rss(cmd.Process.Pid))
	return nil
}

func post(c *http.Client, url string, body []byte) (time.Duration, error) {
	t := time.Now()
	resp, err := c.Post(url+"/v1/images:annotate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if err != nil {
		return 0, err
	}
	var out struct {
		Responses []struct {
			Error *struct{ Message string } `json:"error"`
		} `json:"responses"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil || len(out.Responses) != 1 || out.Responses[0].Error != nil {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return d, nil
}

func resizedPhoto(path string, w, h int, format string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := bmp.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var b bytes.Buffer
	var err2 error
	switch format {
	case "jpeg":
		err2 = jpeg.Encode(&b, dst, &jpeg.Options{Quality: 90})
	case "png":
		err2 = png.Encode(&b, dst)
	default:
		return nil, fmt.Errorf("-format %q: want jpeg or png", format)
	}
	if err2 != nil {
		return nil, err2
	}
	return b.Bytes(), nil
}

func waitAddress(r io.Reader) (string, error) {
	re := regexp.MustCompile(`listening on (http://[0-9.:]+)/`)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, r)
			return m[1], nil
		}
	}
	return "", fmt.Errorf("the server printed no address")
}

func q(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "unknown"
}
