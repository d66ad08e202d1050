// Command soak is a bounded soak and fault test of 'dlcv serve' on
// loopback (bench/vision/soak.sh runs it).
//
// It starts the server as a child process with every feature on
// (LABEL_DETECTION, IMAGE_PROPERTIES, FACE_DETECTION with joy,
// CUSTOM_MODEL, imageUri under --allow-dir, an API key) and, for
// -duration:
//
//   - -clients closed-loop clients send a mix of requests: half
//     LABEL_DETECTION of a photo, the rest faces and colours, a custom model
//     with labels, and LABEL_DETECTION of a file named by imageUri. Each
//     answer is checked; a 503 or 429 is retried after its Retry-After.
//   - -slow-header clients send their headers a line every 2 s, and
//     -slow-body clients their bodies a byte a second; both reconnect when
//     the server cuts them off.
//   - every -flood-every, a flood of -flood requests at once: bodies over
//     --max-body, decompression bombs, 16-bit PNGs over --max-image-bytes
//     and valid requests, a quarter each.
//
// Every -sample it prints requests/s, p50/p99 of the accepted requests,
// the counts by status, the server's RSS and its share of the CPUs (the
// latency means little on a machine shared with other work). It fails
// when any request gets a transport error or a 500, when RSS (sampled
// every 5 s) grows more than -rss-growth from the second minute's median
// to the last minute's, or when the p99 of accepted LABEL_DETECTION
// requests passes -max-p99.
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
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/zoo"
)

const apiKey = "soak-key-0123456789abcdef"

func main() {
	dlcv := flag.String("dlcv", "dlcv", "dlcv binary to run as the server")
	shared := flag.String("shared", "../shared", "shared data folder (models/coral, models/haarcascades)")
	duration := flag.Duration("duration", 10*time.Minute, "length of the run")
	clients := flag.Int("clients", 32, "closed-loop clients")
	slowHeader := flag.Int("slow-header", 4, "clients sending their headers a line every 2 s")
	slowBody := flag.Int("slow-body", 4, "clients sending their bodies a byte a second")
	floodN := flag.Int("flood", 200, "requests in each flood")
	floodEvery := flag.Duration("flood-every", time.Minute, "time between floods (the first comes at half of it)")
	sample := flag.Duration("sample", 30*time.Second, "time between progress lines")
	maxBody := flag.Int64("max-body", 4<<20, "the server's --max-body")
	serveArgs := flag.String("serve-args", "--concurrency 2 --queue 4 --queue-timeout 300ms", "more flags for dlcv serve")
	rssGrowth := flag.Float64("rss-growth", 0.15, "largest RSS growth allowed from the second minute to the last")
	maxP99 := flag.Duration("max-p99", 500*time.Millisecond, "largest p99 of accepted LABEL_DETECTION requests (0: report only)")
	flag.Parse()
	if err := run(*dlcv, *shared, *duration, *clients, *slowHeader, *slowBody, *floodN, *floodEvery, *sample, *maxBody, strings.Fields(*serveArgs), *rssGrowth, *maxP99); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

// kind is one sort of request the closed-loop clients send.
type kind struct {
	name   string
	body   []byte
	weight int
	check  func(*response) error
}

type response struct {
	Responses []struct {
		LabelAnnotations []struct {
			Description string `json:"description"`
		} `json:"labelAnnotations"`
		FaceAnnotations []struct {
			JoyLikelihood string `json:"joyLikelihood"`
		} `json:"faceAnnotations"`
		ImagePropertiesAnnotation *struct{} `json:"imagePropertiesAnnotation"`
		CustomAnnotations         []struct {
			Labels []struct{} `json:"labels"`
		} `json:"customAnnotations"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	} `json:"responses"`
}

// stats collects outcomes; lat holds the latency of accepted requests by
// kind name.
type stats struct {
	mu        sync.Mutex
	codes     map[string]int // "kind HTTP 200", "flood bomb HTTP 400", "transport: ..."
	lat       map[string][]time.Duration
	ok        int
	transport []string
	bad       []string
}

func newStats() *stats {
	return &stats{codes: map[string]int{}, lat: map[string][]time.Duration{}}
}

func (s *stats) add(key string, d time.Duration, accepted bool, kindName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[key]++
	if accepted {
		s.ok++
		s.lat[kindName] = append(s.lat[kindName], d)
	}
}

// take returns the window's stats and starts a new one.
func (s *stats) take() (map[string]int, map[string][]time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, l, n := s.codes, s.lat, s.ok
	s.codes, s.lat, s.ok = map[string]int{}, map[string][]time.Duration{}, 0
	return c, l, n
}

func run(dlcv, shared string, duration time.Duration, nClients, nSlowHeader, nSlowBody, floodN int, floodEvery, sample time.Duration,
	maxBody int64, extra []string, rssGrowth float64, maxP99 time.Duration) error {
	coral := filepath.Join(shared, "models", "coral")
	work, err := os.MkdirTemp("", "dlcv-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		return b
	}
	cat, grace, bird := read(filepath.Join(coral, "cat.bmp")), read(filepath.Join(coral, "grace_hopper.bmp")), read(filepath.Join(coral, "bird.bmp"))
	photos := filepath.Join(work, "photos")
	os.Mkdir(photos, 0o755)
	os.WriteFile(filepath.Join(photos, "cat.bmp"), cat, 0o644)
	os.WriteFile(filepath.Join(work, "keys"), []byte(apiKey+"\n"), 0o600)
	custom := filepath.Join(work, "digits.safetensors")
	if err := writeCustomModel(custom); err != nil {
		return err
	}

	args := append([]string{"serve", "--addr", "127.0.0.1:0",
		"--model", filepath.Join(coral, "mobilenet_v2_1.0_224_quant.tflite"), "--labels", filepath.Join(coral, "imagenet_labels.txt"),
		"--cascade", filepath.Join(shared, "models", "haarcascades", "haarcascade_frontalface_default.xml"),
		"--custom", "digits=" + custom, "--allow-dir", photos, "--api-key-file", filepath.Join(work, "keys"),
		"--max-body", strconv.FormatInt(maxBody, 10)}, extra...)
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
	base, err := waitAddress(out)
	if err != nil {
		return err
	}
	pid := cmd.Process.Pid
	fmt.Printf("server: %s %s (pid %d)\n", dlcv, strings.Join(args[1:], " "), pid)

	req := func(image []byte, uri string, features string) []byte {
		img := `{"content":"` + base64.StdEncoding.EncodeToString(image) + `"}`
		if uri != "" {
			img = `{"source":{"imageUri":"` + uri + `"}}`
		}
		return []byte(`{"requests":[{"image":` + img + `,"features":[` + features + `]}]}`)
	}
	wantLabel := func(want string) func(*response) error {
		return func(r *response) error {
			if len(r.Responses) != 1 || len(r.Responses[0].LabelAnnotations) == 0 || r.Responses[0].LabelAnnotations[0].Description != want {
				return fmt.Errorf("top label is not %q", want)
			}
			return nil
		}
	}
	kinds := []kind{
		{"label", req(cat, "", `{"type":"LABEL_DETECTION","maxResults":5}`), 8, wantLabel("Egyptian cat")},
		{"faces+colours", req(grace, "", `{"type":"FACE_DETECTION"},{"type":"IMAGE_PROPERTIES","maxResults":5}`), 3, func(r *response) error {
			if len(r.Responses) != 1 || len(r.Responses[0].FaceAnnotations) != 1 || r.Responses[0].FaceAnnotations[0].JoyLikelihood == "UNKNOWN" || r.Responses[0].ImagePropertiesAnnotation == nil {
				return errors.New("not one face with joy and colours")
			}
			return nil
		}},
		{"custom+label", req(bird, "", `{"type":"CUSTOM_MODEL","model":"digits","maxResults":3},{"type":"LABEL_DETECTION","maxResults":3}`), 2, func(r *response) error {
			if len(r.Responses) != 1 || len(r.Responses[0].CustomAnnotations) != 1 || len(r.Responses[0].CustomAnnotations[0].Labels) != 3 || len(r.Responses[0].LabelAnnotations) == 0 {
				// labels under the server's --min-score (0.01) are dropped, so
				// a confident photo may get fewer than maxResults
				return errors.New("no custom labels")
			}
			return nil
		}},
		{"imageUri label", req(nil, "cat.bmp", `{"type":"LABEL_DETECTION","maxResults":5}`), 3, wantLabel("Egyptian cat")},
	}
	var mix []int
	for i, k := range kinds {
		for range k.weight {
			mix = append(mix, i)
		}
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: nClients + floodN, IdleConnTimeout: time.Minute}, Timeout: 2 * time.Minute}
	url := base + "/v1/images:annotate"
	post := func(ctx context.Context, body io.Reader, size int64) (*http.Response, time.Duration, error) {
		r, _ := http.NewRequestWithContext(ctx, "POST", url, body)
		r.ContentLength = size
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Goog-Api-Key", apiKey)
		t := time.Now()
		resp, err := client.Do(r)
		return resp, time.Since(t), err
	}
	// Warm up: one of each kind must succeed.
	for _, k := range kinds {
		resp, _, err := post(context.Background(), bytes.NewReader(k.body), int64(len(k.body)))
		if err != nil {
			return fmt.Errorf("warm-up %s: %w", k.name, err)
		}
		var r response
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 || k.check(&r) != nil {
			return fmt.Errorf("warm-up %s: HTTP %d %s", k.name, resp.StatusCode, raw)
		}
	}

	// The flood's bodies, made before the clients start.
	big := bytes.Repeat([]byte("A"), int(maxBody)+1<<20)
	bomb := bombRequest()
	deep := req(deepPNG(6000, 6000), "", `{"type":"LABEL_DETECTION"}`)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	st := newStats()
	all := newStats() // the whole run
	record := func(key string, d time.Duration, accepted bool, kindName string) {
		st.add(key, d, accepted, kindName)
		all.add(key, d, accepted, kindName)
	}
	fail := func(list *[]string, msg string) {
		all.mu.Lock()
		if len(*list) < 20 {
			*list = append(*list, msg)
		} else if len(*list) == 20 {
			*list = append(*list, "...")
		}
		all.mu.Unlock()
	}
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuSeconds(pid)

	// Closed-loop clients.
	for c := range nClients {
		wg.Go(func() {
			for n := c; ctx.Err() == nil; n++ {
				k := kinds[mix[n%len(mix)]]
				resp, d, err := post(ctx, bytes.NewReader(k.body), int64(len(k.body)))
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					record(k.name+" transport error", d, false, "")
					fail(&all.transport, fmt.Sprintf("%s: %v", k.name, err))
					continue
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					record(k.name+" transport error", d, false, "")
					fail(&all.transport, fmt.Sprintf("%s: reading the answer: %v", k.name, err))
					continue
				}
				record(fmt.Sprintf("%s HTTP %d", k.name, resp.StatusCode), d, resp.StatusCode == 200, k.name)
				switch resp.StatusCode {
				case 200:
					var r response
					if err := json.Unmarshal(raw, &r); err != nil || k.check(&r) != nil {
						fail(&all.bad, fmt.Sprintf("%s: HTTP 200 with a wrong answer: %.200s", k.name, raw))
					}
				case 503, 429:
					ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					sleep(ctx, time.Duration(min(max(ra, 0), 1))*time.Second)
				default:
					fail(&all.bad, fmt.Sprintf("%s: HTTP %d %.200s", k.name, resp.StatusCode, raw))
				}
			}
		})
	}

	// Slow clients: they hold connections, never slots; the server
	// cuts them off.
	var cutHeader, cutBody atomic.Int64
	addr := strings.TrimPrefix(base, "http://")
	for range nSlowHeader {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					fail(&all.transport, "slow header: dial: "+err.Error())
					sleep(ctx, time.Second)
					continue
				}
				go func() { <-ctx.Done(); c.Close() }()
				fmt.Fprintf(c, "POST /v1/images:annotate HTTP/1.1\r\nHost: x\r\n")
				for i := 0; ctx.Err() == nil; i++ {
					if _, err := fmt.Fprintf(c, "X-Slow-%d: 1\r\n", i); err != nil {
						break
					}
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
						break // closed by the server
					}
				}
				c.Close()
				if ctx.Err() == nil {
					cutHeader.Add(1)
				}
			}
		})
	}
	for range nSlowBody {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					fail(&all.transport, "slow body: dial: "+err.Error())
					sleep(ctx, time.Second)
					continue
				}
				go func() { <-ctx.Done(); c.Close() }()
				fmt.Fprintf(c, "POST /v1/images:annotate HTTP/1.1\r\nHost: x\r\nX-Goog-Api-Key: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", apiKey)
				done := make(chan struct{})
				go func() {
					defer close(done)
					for ctx.Err() == nil {
						if _, err := c.Write([]byte{' '}); err != nil {
							return
						}
						sleep(ctx, time.Second)
					}
				}()
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				c.Close()
				<-done
				if ctx.Err() == nil {
					cutBody.Add(1)
				}
			}
		})
	}

	// Floods.
	wg.Go(func() {
		t := time.NewTimer(floodEvery / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			t.Reset(floodEvery)
			var fw sync.WaitGroup
			for i := range floodN {
				fw.Go(func() {
					name, body := "valid", kinds[0].body
					switch i % 4 {
					case 1:
						name, body = "oversized", big
					case 2:
						name, body = "bomb", bomb
					case 3:
						name, body = "deep PNG", deep
					}
					resp, d, err := post(ctx, bytes.NewReader(body), int64(len(body)))
					if ctx.Err() != nil {
						return
					}
					if err != nil {
						record("flood "+name+" transport error", d, false, "")
						fail(&all.transport, fmt.Sprintf("flood %s: %v", name, err))
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					record(fmt.Sprintf("flood %s HTTP %d", name, resp.StatusCode), d, false, "")
					if resp.StatusCode >= 500 && resp.StatusCode != 503 {
						fail(&all.bad, fmt.Sprintf("flood %s: HTTP %d", name, resp.StatusCode))
					}
				})
			}
			fw.Wait()
		}
	})

	// Progress.
	type rssAt struct {
		t   time.Duration
		rss int64
	}
	var rssMu sync.Mutex
	var rssSamples []rssAt
	var sw sync.WaitGroup
	// RSS every 5 s for the growth check, whose medians a flood's spike
	// does not move.
	sw.Go(func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rssMu.Lock()
			rssSamples = append(rssSamples, rssAt{time.Since(start), rss(pid)})
			rssMu.Unlock()
		}
	})
	sw.Go(func() {
		tick := time.NewTicker(sample)
		defer tick.Stop()
		last, lastCPU := time.Now(), cpuSeconds(pid)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			codes, lat, ok := st.take()
			el := time.Since(start)
			r := rss(pid)
			l := lat["label"]
			slices.Sort(l)
			c := cpuSeconds(pid)
			// The server's share of the CPUs, and the machine's load: on a
			// shared machine, latency is only meaningful beside them.
			fmt.Printf("%6s  %5.1f req/s accepted  label p50 %v p99 %v  RSS %s  server CPU %.2f cores, load %s  %s\n", el.Round(time.Second), float64(ok)/time.Since(last).Seconds(),
				q(l, 0.5), q(l, 0.99), mib(r), (c-lastCPU)/time.Since(last).Seconds(), loadAvg(), countsLine(codes))
			last, lastCPU = time.Now(), c
		}
	})
	wg.Wait()
	cancel()
	sw.Wait()
	elapsed := time.Since(start)

	// Report.
	fmt.Printf("\n%v with %d clients, %d slow-header and %d slow-body clients, a flood of %d every %v\n", elapsed.Round(time.Second), nClients, nSlowHeader, nSlowBody, floodN, floodEvery)
	fmt.Printf("accepted: %d requests, %.1f req/s; the server used %.2f cores on average (machine load now %s)\n", all.ok, float64(all.ok)/elapsed.Seconds(), (cpuSeconds(pid)-cpu0)/elapsed.Seconds(), loadAvg())
	for _, k := range kinds {
		l := all.lat[k.name]
		slices.Sort(l)
		fmt.Printf("  %-15s %6d accepted  p50 %v  p99 %v  max %v\n", k.name, len(l), q(l, 0.5), q(l, 0.99), q(l, 1))
	}
	fmt.Println("counts by status:")
	keys := make([]string, 0, len(all.codes))
	for k := range all.codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %7d  %s\n", all.codes[k], k)
	}
	fmt.Printf("slow clients cut off: %d slow-header, %d slow-body connections\n", cutHeader.Load(), cutBody.Load())
	if m, err := metrics(client, base); err == nil {
		fmt.Println("server metrics:")
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, "dlcv_vision_rejected_requests_total") || strings.HasPrefix(line, "dlcv_vision_memory_") || strings.HasPrefix(line, "go_memstats_heap_inuse_bytes") {
				fmt.Println("  " + line)
			}
		}
	}
	var problems []string
	if len(all.transport) > 0 {
		problems = append(problems, fmt.Sprintf("transport errors: %s", strings.Join(all.transport, "; ")))
	}
	if len(all.bad) > 0 {
		problems = append(problems, fmt.Sprintf("bad answers: %s", strings.Join(all.bad, "; ")))
	}
	for k, n := range all.codes {
		if strings.HasSuffix(k, "HTTP 500") {
			problems = append(problems, fmt.Sprintf("%d x %s", n, k))
		}
	}
	// RSS: the median of the second minute's samples against the last
	// minute's (and their highest, for the record).
	if elapsed >= 3*time.Minute {
		var second, lastMin []int64
		for _, s := range rssSamples {
			if s.t > time.Minute && s.t <= 2*time.Minute {
				second = append(second, s.rss)
			}
			if s.t > elapsed-time.Minute {
				lastMin = append(lastMin, s.rss)
			}
		}
		slices.Sort(second)
		slices.Sort(lastMin)
		if len(second) > 0 && len(lastMin) > 0 {
			a, b := second[len(second)/2], lastMin[len(lastMin)/2]
			g := float64(b)/float64(a) - 1
			fmt.Printf("RSS (every 5 s): second minute median %s (highest %s), last minute median %s (highest %s): %+.1f%% (limit %+.0f%%)\n",
				mib(a), mib(second[len(second)-1]), mib(b), mib(lastMin[len(lastMin)-1]), 100*g, 100*rssGrowth)
			if g > rssGrowth {
				problems = append(problems, fmt.Sprintf("RSS grew %.1f%% from the second minute to the last", 100*g))
			}
		}
	} else {
		fmt.Println("RSS: run shorter than 3 minutes, growth not checked")
	}
	l := all.lat["label"]
	slices.Sort(l)
	if maxP99 > 0 && len(l) > 0 && q(l, 0.99) > maxP99 {
		problems = append(problems, fmt.Sprintf("p99 of accepted LABEL_DETECTION requests is %v, over %v", q(l, 0.99), maxP99))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n  "))
	}
	return nil
}

// countsLine summarises a window's counts by status.
func countsLine(codes map[string]int) string {
	by := map[string]int{}
	for k, n := range codes {
		i := strings.LastIndex(k, "HTTP ")
		if i < 0 {
			by["transport"] += n
			continue
		}
		by[k[i:]] += n
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s x%d", strings.TrimPrefix(k, "HTTP "), by[k]))
	}
	return strings.Join(parts, ", ")
}

// writeCustomModel saves an untrained LeNet for 28x28 gray digits: the
// soak needs its cost, not its answers.
func writeCustomModel(path string) error {
	net, err := zoo.New("lenet", []int{28, 28, 1}, 10, 1)
	if err != nil {
		return err
	}
	m := &classifier.Model{Net: net, Classes: strings.Split("0 1 2 3 4 5 6 7 8 9", " "), Preprocess: data.Preprocess{Width: 28, Height: 28, Channels: 1}}
	return m.Save(path)
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

// deepPNG is a real 16-bit RGB PNG of w x h pixels (smooth, so small).
func deepPNG(w, h int) []byte {
	img := image.NewRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA64(x, y, color.RGBA64{uint16(x / 64 * 700), uint16(y / 64 * 700), 0x8000, 0xffff})
		}
	}
	var b bytes.Buffer
	(&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img)
	return b.Bytes()
}

func metrics(c *http.Client, base string) (string, error) {
	resp, err := c.Get(base + "/metrics?key=" + apiKey)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
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

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func q(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
}

// rss reads VmRSS (bytes) of a process from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// cpuSeconds is the user + system CPU time of a process (Linux).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

// loadAvg is the machine's 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Fields(string(b))[0]
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
