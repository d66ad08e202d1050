// Command vision is a bounded load test of 'dlcv serve' on loopback.
//
// It first measures the peer: the same photo decoded and classified in
// this process (no HTTP, no JSON, no base64) for -direct-duration. It then
// starts the server binary as a child process, and runs two phases:
//
//  1. load: -clients concurrent clients send LABEL_DETECTION requests of
//     -image (JSON, base64) for -duration and it reports errors, p50/p90/p99
//     latency, throughput and the server's resident memory (VmRSS from
//     /proc) when idle and at 10%, 50% and 90% of the run and at its end;
//  2. flood: -flood-clients clients send oversized requests for
//     -flood-duration, a third each: bodies twice --max-body with a
//     Content-Length, the same chunked, and PNG headers claiming 10^10
//     pixels; it reports how they were refused and the server's memory.
//
// Usage (from the repository root):
//
//	go build -o /tmp/dlcv ./cmd/dlcv
//	go run ./bench/vision -dlcv /tmp/dlcv -model mobilenet_v2_1.0_224_quant.tflite -labels imagenet_labels.txt -image cat.bmp
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "golang.org/x/image/bmp" // the peer decodes the same photos as the server

	"github.com/dlcv-go/dlcv/tflite"
)

// features are the feature types every load request asks for.
var features []string

func main() {
	dlcv := flag.String("dlcv", "dlcv", "dlcv binary to run as the server")
	model := flag.String("model", "", ".tflite model for LABEL_DETECTION")
	labels := flag.String("labels", "", "label file for -model")
	imagePath := flag.String("image", "", "photo to send")
	want := flag.String("want", "Egyptian cat", "expected top label (a different answer counts as an error; checked when -features has LABEL_DETECTION)")
	featureList := flag.String("features", "LABEL_DETECTION", "comma-separated feature types of each request (the server needs their models: see -serve-args)")
	clients := flag.Int("clients", 32, "concurrent clients in the load phase")
	duration := flag.Duration("duration", 30*time.Second, "length of the load phase")
	floodClients := flag.Int("flood-clients", 16, "concurrent clients in the flood phase")
	floodDuration := flag.Duration("flood-duration", 10*time.Second, "length of the flood phase (0: skip)")
	maxBody := flag.Int64("max-body", 10<<20, "the server's --max-body in bytes")
	serveArgs := flag.String("serve-args", "--concurrency 2 --queue 64", "more flags for dlcv serve")
	directWorkers := flag.Int("direct-workers", 2, "goroutines of the in-process peer (match --concurrency)")
	directDuration := flag.Duration("direct-duration", 10*time.Second, "length of the in-process peer run (0: skip)")
	flag.Parse()
	if *model == "" || *imagePath == "" {
		fmt.Fprintln(os.Stderr, "bench/vision: -model and -image are required")
		os.Exit(2)
	}
	var direct float64
	if *directDuration > 0 {
		var err error
		if direct, err = peer(*model, *labels, *imagePath, *want, *directWorkers, *directDuration); err != nil {
			fmt.Fprintln(os.Stderr, "bench/vision:", err)
			os.Exit(1)
		}
	}
	features = strings.Split(*featureList, ",")
	if !slices.Contains(features, "LABEL_DETECTION") {
		*want = ""
	}
	if err := run(*dlcv, *model, *labels, *imagePath, *want, *clients, *duration, *floodClients, *floodDuration, *maxBody, strings.Fields(*serveArgs), direct); err != nil {
		fmt.Fprintln(os.Stderr, "bench/vision:", err)
		os.Exit(1)
	}
}

// peer measures the same work without the service: decode the photo and
// classify it in this process with workers goroutines. It returns images
// per second.
func peer(model, labels, imagePath, want string, workers int, duration time.Duration) (float64, error) {
	data, err := os.ReadFile(imagePath)
	if err != nil {
		return 0, err
	}
	m, err := tflite.Load(model)
	if err != nil {
		return 0, err
	}
	var names []string
	if labels != "" {
		if names, err = tflite.LoadLabels(labels); err != nil {
			return 0, err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for time.Since(start) < duration {
				t := time.Now()
				img, _, err := image.Decode(bytes.NewReader(data))
				var cs []tflite.Class
				if err == nil {
					cs, err = m.Classify(img, 5, names)
				}
				if err == nil && want != "" && cs[0].Label != want {
					err = fmt.Errorf("peer: top class %q, want %q", cs[0].Label, want)
				}
				mu.Lock()
				lat = append(lat, time.Since(t))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	rate := float64(len(lat)) / time.Since(start).Seconds()
	slices.Sort(lat)
	fmt.Printf("peer (in process, no HTTP): %d goroutines, %v: %d images, %.1f img/s, latency p50 %v p99 %v\n",
		workers, duration, len(lat), rate, q(lat, 0.5), q(lat, 0.99))
	return rate, nil
}

func run(dlcv, model, labels, imagePath, want string, clients int, duration time.Duration, floodClients int, floodDuration time.Duration, maxBody int64, extra []string, direct float64) error {
	photo, err := os.ReadFile(imagePath)
	if err != nil {
		return err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--model", model, "--cascade", "none", "--max-body", strconv.FormatInt(maxBody, 10)}, extra...)
	if labels != "" {
		args = append(args, "--labels", labels)
	}
	cmd := exec.Command(dlcv, args...)
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
	pid := cmd.Process.Pid
	fmt.Printf("server: %s %s (pid %d)\n", dlcv, strings.Join(args, " "), pid)

	body, _ := json.Marshal(map[string]any{"requests": []any{map[string]any{
		"image":    map[string]string{"content": base64.StdEncoding.EncodeToString(photo)},
		"features": featureObjects(),
	}}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients + floodClients}, Timeout: time.Minute}
	if _, err := annotateOnce(client, url, body, want); err != nil {
		return fmt.Errorf("warm-up request: %w", err)
	}

	// Load phase.
	rssStart := rss(pid)
	fmt.Printf("\nload: %d clients, %v, %s of %s (%d-byte body)\n", clients, duration, strings.Join(features, "+"), imagePath, len(body))
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				t := time.Now()
				code, err := annotateOnce(client, url, body, want)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs[fmt.Sprintf("HTTP %d: %v", code, err)]++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	// Sample the server's RSS at 10%, 50% and 90% of the run.
	var rssAt [3]atomic.Int64
	for i, f := range []float64{0.1, 0.5, 0.9} {
		rssAt[i].Store(-1)
		time.AfterFunc(time.Duration(f*float64(duration)), func() { rssAt[i].Store(rss(pid)) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	rssEnd := rss(pid)
	slices.Sort(lat)
	nerr := 0
	for _, n := range errs {
		nerr += n
	}
	rate := float64(len(lat)) / elapsed.Seconds()
	fmt.Printf("requests %d ok, %d errors; throughput %.1f req/s", len(lat), nerr, rate)
	if direct > 0 {
		fmt.Printf(" = %.2f x the in-process peer", rate/direct)
	}
	fmt.Println()
	for e, n := range errs {
		fmt.Printf("  error x%d: %s\n", n, e)
	}
	if len(lat) > 0 {
		fmt.Printf("latency p50 %v  p90 %v  p99 %v  max %v\n", q(lat, 0.5), q(lat, 0.9), q(lat, 0.99), lat[len(lat)-1])
	}
	fmt.Printf("server RSS idle %s; under load at 10%% %s, 50%% %s, 90%% %s; end %s (peak so far %s)\n",
		mib(rssStart), mib(rssAt[0].Load()), mib(rssAt[1].Load()), mib(rssAt[2].Load()), mib(rssEnd), mib(hwm(pid)))

	if floodDuration <= 0 {
		return nil
	}
	return flood(client, url, pid, floodClients, floodDuration, maxBody)
}

// flood sends requests the server must refuse and watches its memory.
func flood(client *http.Client, url string, pid, clients int, duration time.Duration, maxBody int64) error {
	big := bytes.Repeat([]byte("A"), int(2*maxBody)) // base64-ish filler
	bomb := bombRequest()
	fmt.Printf("\nflood: %d clients, %v: %d-byte bodies with Content-Length, the same chunked, and %d-byte PNG bombs (10^10 pixels claimed)\n",
		clients, duration, len(big), len(bomb))
	before := rss(pid)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var counts sync.Map // outcome -> *atomic.Int64
	add := func(k string) {
		v, _ := counts.LoadOrStore(k, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	var peak atomic.Int64
	go func() {
		for t := time.NewTicker(200 * time.Millisecond); ctx.Err() == nil; <-t.C {
			if r := rss(pid); r > peak.Load() {
				peak.Store(r)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				var req *http.Request
				kind := (i + n) % 3
				switch kind {
				case 0:
					req, _ = http.NewRequest("POST", url+"/v1/images:annotate", bytes.NewReader(big))
				case 1:
					req, _ = http.NewRequest("POST", url+"/v1/images:annotate", io.MultiReader(bytes.NewReader(big))) // no length: chunked
				case 2:
					req, _ = http.NewRequest("POST", url+"/v1/images:annotate", bytes.NewReader(bomb))
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req.WithContext(ctx))
				name := []string{"sized", "chunked", "bomb"}[kind]
				switch {
				case ctx.Err() != nil:
				case err != nil:
					add(name + ": connection closed by the server before the whole body was sent")
				default:
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					add(fmt.Sprintf("%s: HTTP %d", name, resp.StatusCode))
				}
			}
		})
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	after := rss(pid)
	var keys []string
	counts.Range(func(k, _ any) bool { keys = append(keys, k.(string)); return true })
	slices.Sort(keys)
	for _, k := range keys {
		v, _ := counts.Load(k)
		fmt.Printf("  %6d  %s\n", v.(*atomic.Int64).Load(), k)
	}
	fmt.Printf("server RSS before %s  peak during %s  after %s  (process peak VmHWM %s)\n", mib(before), mib(peak.Load()), mib(after), mib(hwm(pid)))
	return nil
}

// featureObjects is the request's features list.
func featureObjects() []any {
	var out []any
	for _, f := range features {
		out = append(out, map[string]any{"type": f, "maxResults": 5})
	}
	return out
}

// bombRequest is an annotate request whose image is a valid PNG header
// claiming 100000 x 100000 pixels.
func bombRequest() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	p := b.Bytes()
	binary.BigEndian.PutUint32(p[16:], 100000)
	binary.BigEndian.PutUint32(p[20:], 100000)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return []byte(`{"requests":[{"image":{"content":"` + base64.StdEncoding.EncodeToString(p) + `"},"features":[{"type":"LABEL_DETECTION"}]}]}`)
}

func annotateOnce(client *http.Client, url string, body []byte, want string) (int, error) {
	resp, err := client.Post(url+"/v1/images:annotate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Responses []struct {
			LabelAnnotations []struct {
				Description string `json:"description"`
			} `json:"labelAnnotations"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"responses"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != 200 {
		msg := ""
		if out.Error != nil {
			msg = out.Error.Message
		}
		return resp.StatusCode, errors.New(msg)
	}
	if len(out.Responses) == 1 && out.Responses[0].Error != nil {
		// A well-formed request answers 200 with the image's error.
		return 400, errors.New(out.Responses[0].Error.Message)
	}
	if len(out.Responses) != 1 || want != "" && (len(out.Responses[0].LabelAnnotations) == 0 || out.Responses[0].LabelAnnotations[0].Description != want) {
		return resp.StatusCode, fmt.Errorf("unexpected answer %+v", out.Responses)
	}
	return resp.StatusCode, nil
}

func waitAddress(r io.Reader) (string, error) {
	re := regexp.MustCompile(`listening on (http://[^/ ]+)/`)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, r)
			return m[1], nil
		}
	}
	return "", errors.New("the server exited without printing its address")
}

func q(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
}

// rss and hwm read VmRSS and VmHWM (bytes) of a process from /proc.
func rss(pid int) int64 { return procStatus(pid, "VmRSS:") }
func hwm(pid int) int64 { return procStatus(pid, "VmHWM:") }

func procStatus(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
