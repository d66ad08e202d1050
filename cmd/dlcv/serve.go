package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/smiles"
	"github.com/dlcv-go/dlcv/tflite"
	"github.com/dlcv-go/dlcv/vision"
)

const serveExamples = `  dlcv models pull mobilenet-v2 && dlcv serve     # then open http://127.0.0.1:8080/
  for m in centernet nsfw-mobilenet-v2 blazeface emotion; do dlcv models pull $m; done   # every feature
  dlcv serve --addr :8080 --custom digits=mnist.dlcv --allow-dir ./photos
  curl -F image=@cat.jpg -F features=LABEL_DETECTION,IMAGE_PROPERTIES http://127.0.0.1:8080/v1/images:annotate
  dlcv serve --model ./mobilenet.tflite --labels labels.txt --concurrency 4 --queue 16`

func init() {
	register(&command{
		name:    "serve",
		summary: "run the vision HTTP service (Cloud-Vision-style annotate API and a drag-and-drop page)",
		run: func(args []string, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, args, stdout, stderr)
		},
	})
}

// customFlags collects repeated --custom NAME=FILE flags.
type customFlags map[string]string

func (c customFlags) String() string { return "" }

func (c customFlags) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("want NAME=MODELFILE, got %q", v)
	}
	if _, dup := c[name]; dup {
		return fmt.Errorf("custom model %q given twice", name)
	}
	c[name] = file
	return nil
}

// byteSize is a flag value like 10MB, 512KiB or 1048576.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	n, err := parseSize(v, "B")
	*b = byteSize(n)
	return err
}

// count is a flag value like 25M, 4k or 1000000 (for pixels).
type count int64

func (c *count) String() string { return strconv.FormatInt(int64(*c), 10) }

func (c *count) Set(v string) error {
	n, err := parseSize(v, "")
	*c = count(n)
	return err
}

// parseSize reads a positive number with an optional K/M/G suffix
// (decimal; KiB/MiB/GiB binary), then the optional unit.
func parseSize(v, unit string) (int64, error) {
	s := strings.TrimSpace(v)
	if unit != "" {
		s = strings.TrimSuffix(strings.TrimSuffix(s, unit), strings.ToLower(unit))
	}
	mult := int64(1)
	for _, m := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"K", 1e3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}} {
		if strings.HasSuffix(s, m.suffix) {
			s, mult = strings.TrimSuffix(s, m.suffix), m.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n*float64(mult) >= 1) || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a positive size (examples: 10MB, 512KiB, 25M)", v)
	}
	return int64(n * float64(mult)), nil
}

// readAPIKeys reads an --api-key-file: one key a line; blank lines and
// lines starting with # are skipped.
func readAPIKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--api-key-file: %w", err)
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if k := strings.TrimSpace(line); k != "" && !strings.HasPrefix(k, "#") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--api-key-file %s holds no key (one a line)", path)
	}
	return keys, nil
}

// isLoopback reports whether a listener is reachable from this machine
// only.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[--addr HOST:PORT] [--model NAME|PATH] [--custom NAME=FILE]... [flags]", serveExamples, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free port; the address is printed)")
	model := fs.String("model", "mobilenet-v2", "LABEL_DETECTION classifier: registered model `NAME` (see 'dlcv models'), a .tflite file, or none")
	labelsPath := fs.String("labels", "", "label `FILE` for --model, one class a line (default: the registered model's labels)")
	custom := customFlags{}
	fs.Var(custom, "custom", "serve a dlcv model file as CUSTOM_MODEL `NAME=FILE` (repeatable)")
	objectsModel := fs.String("objects-model", "", "OBJECT_LOCALIZATION CenterNet model.json `FILE` (default: the registered centernet if downloaded; none to disable)")
	safeModel := fs.String("safesearch-model", "", "SAFE_SEARCH_DETECTION NSFW model.json `FILE` (default: the registered nsfw-mobilenet-v2 if downloaded; none to disable)")
	blazeModel := fs.String("blazeface-model", "", "FACE_DETECTION BlazeFace model.json `FILE` (default: the registered blazeface if downloaded; none to disable)")
	emotionModel := fs.String("emotion-model", "", "faces' expression model.json `FILE` (default: the registered emotion model if downloaded; none to disable)")
	textModel := fs.String("text-model", "", "TEXT_DETECTION: the `DIR` of the PP-OCRv4 ONNX files (default: the registered ppocr-v4 if downloaded; none to disable)")
	faceDetector := fs.String("face-detector", "", "FACE_DETECTION detector: blazeface or haar (default: blazeface when its model is there, else haar)")
	indexPath := fs.String("index", "", "WEB_DETECTION: match photos against the image index `FILE` made by 'dlcv index'")
	minScore := fs.Float64("min-score", annotate.DefaultMinScore, "drop labels scoring less (0: keep all)")
	cascadePath := fs.String("cascade", "", "Haar cascade XML `FILE` for FACE_DETECTION (default: "+detect.DebianCascadeDir+"/haarcascade_frontalface_default.xml if installed; none to disable)")
	smilePath := fs.String("smile-model", "", "smile classifier model `FILE` (classes not_smiling, smiling) for the faces' joyLikelihood instead of the emotion model's (default: the model shipped with dlcv when the emotion model is not loaded; none: off)")
	maxBody := byteSize(vision.DefaultMaxBodyBytes)
	fs.Var(&maxBody, "max-body", "largest request `SIZE` (e.g. 10MiB); bigger requests get 400")
	maxPixels := count(vision.DefaultMaxPixels)
	fs.Var(&maxPixels, "max-pixels", "largest image in pixels, width x height (e.g. 25M), checked before decoding")
	maxImageBytes := byteSize(vision.DefaultMaxImageBytes)
	fs.Var(&maxImageBytes, "max-image-bytes", "largest image decoded, `SIZE` in bytes (width x height x channels, 8 bits a channel; e.g. 128MiB), checked before decoding")
	maxMemory := byteSize(vision.DefaultMaxMemory)
	fs.Var(&maxMemory, "max-memory", "memory ceiling `SIZE` (e.g. 1GiB): Go's memory limit, and requests that would pass it get 429")
	maxImages := fs.Int("max-images", vision.DefaultMaxImages, "most images in one request")
	concurrency := fs.Int("concurrency", runtime.GOMAXPROCS(0), "requests decoded and annotated at once")
	queue := fs.Int("queue", 0, "requests that may wait for a free slot; beyond that 503 (default 4 x --concurrency)")
	queueTimeout := fs.Duration("queue-timeout", 10*time.Second, "longest wait for a slot, then 503")
	bodyTimeout := fs.Duration("body-timeout", 60*time.Second, "longest time to receive a request body")
	minBodyRate := byteSize(vision.DefaultMinBodyRate)
	fs.Var(&minBodyRate, "min-body-rate", "slowest a request body may arrive, `SIZE` in bytes a second after its first 5 s (e.g. 16KiB)")
	requestTimeout := fs.Duration("request-timeout", 60*time.Second, "longest work on one request once its body is in, then 504")
	apiKeyFile := fs.String("api-key-file", "", "require an API key (?key= or X-Goog-Api-Key) from the keys in `FILE`, one a line")
	allowDir := fs.String("allow-dir", "", "let image.source.imageUri read image files under `DIR` (default: off)")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, wait this long for in-flight requests")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if *concurrency < 1 || *queue < 0 || *maxImages < 1 {
		return usageErrorf("--concurrency and --max-images must be at least 1, --queue at least 0")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--queue-timeout", *queueTimeout}, {"--body-timeout", *bodyTimeout}, {"--request-timeout", *requestTimeout}} {
		if d.v <= 0 {
			return usageErrorf("%s %v: want a positive duration", d.name, d.v)
		}
	}
	if !(*minScore >= 0 && *minScore < 1) {
		return usageErrorf("--min-score %v: want 0 or more, under 1", *minScore)
	}
	if *faceDetector != "" && !slices.Contains(annotate.FaceDetectors, *faceDetector) {
		return usageErrorf("--face-detector %q: want blazeface or haar", *faceDetector)
	}
	cfg := vision.Config{
		MinScore: *minScore, FaceDetector: *faceDetector,
		AllowDir: *allowDir,
		Log:      log.New(stderr, "", log.LstdFlags),
		Limits: vision.Limits{
			MaxBodyBytes: int64(maxBody), MaxPixels: int64(maxPixels), MaxImageBytes: int64(maxImageBytes), MaxImages: *maxImages,
			MaxMemory: int64(maxMemory), Concurrency: *concurrency, Queue: *queue, QueueTimeout: *queueTimeout,
			BodyTimeout: *bodyTimeout, MinBodyRate: int64(minBodyRate), RequestTimeout: *requestTimeout,
			ShutdownTimeout: *shutdown,
		},
	}
	if *apiKeyFile != "" {
		keys, err := readAPIKeys(*apiKeyFile)
		if err != nil {
			return err
		}
		cfg.APIKeys = keys
	}
	if *queue == 0 {
		cfg.Limits.Queue = 4 * *concurrency
	}
	var features []string
	if *model != "none" && *model != "" {
		path, labelFile, err := pretrained.ResolveModel(*model)
		if err != nil {
			return fmt.Errorf("%w (or run with --model none to serve without LABEL_DETECTION)", err)
		}
		if *labelsPath != "" {
			labelFile = *labelsPath
		}
		m, err := tflite.Load(path)
		if err != nil {
			return err
		}
		var labels []string
		if labelFile != "" {
			if labels, err = tflite.LoadLabels(labelFile); err != nil {
				return err
			}
		}
		l, err := annotate.NewLabeler(m, labels, labelFile, func(w string) { fmt.Fprintf(stderr, "dlcv serve: warning: %s\n", w) })
		if err != nil {
			return fmt.Errorf("--labels: %w", err)
		}
		cfg.Labeler = l
		features = append(features, vision.LabelDetection+" ("+*model+")")
	}
	features = append(features, vision.ImageProperties)
	var off []annotate.Off
	cfg.Objects, cfg.SafeSearch, cfg.BlazeFace, cfg.Emotion, cfg.Text, off, err = annotate.LoadModels(annotate.LoadOptions{
		Objects: *objectsModel, SafeSearch: *safeModel, BlazeFace: *blazeModel, Emotion: *emotionModel, Text: *textModel})
	if err != nil {
		return err
	}
	for _, o := range off {
		if o.Model == annotate.EmotionModel && *emotionModel != "none" {
			fmt.Fprintf(stderr, "dlcv serve: the faces' expressions are off: %s\n", annotate.Reason(o.Err))
		}
	}
	if cfg.Objects != nil {
		features = append(features, vision.ObjectLocalization)
	}
	if cfg.SafeSearch != nil {
		features = append(features, vision.SafeSearchDetection)
	}
	if cfg.Text != nil {
		features = append(features, vision.TextDetection)
	}
	if *cascadePath != "none" && *faceDetector != annotate.DetectorBlazeFace {
		p := *cascadePath
		if p == "" {
			p = detect.DefaultCascadePath()
		}
		if p == "" {
			if cfg.BlazeFace == nil || *faceDetector == annotate.DetectorHaar {
				fmt.Fprintf(stderr, "dlcv serve: the Haar face detector is off: %v\n", detect.ErrNoCascade)
			}
		} else if cfg.Cascade, err = detect.LoadCascade(p); err != nil {
			return err
		}
	}
	if *indexPath != "" {
		x, err := annotate.LoadIndex(*indexPath)
		if err != nil {
			return fmt.Errorf("--index: %w", err)
		}
		e, err := annotate.LoadEmbedder(x.Backbone)
		if err != nil {
			return fmt.Errorf("--index %s: its backbone: %w", *indexPath, err)
		}
		cfg.Web = &annotate.Web{Index: x, Embedder: e, Labels: cfg.Labeler}
		features = append(features, fmt.Sprintf("%s (%d images)", vision.WebDetectionType, len(x.Entries)))
	}
	if cfg.BlazeFace != nil || cfg.Cascade != nil {
		if *smilePath != "none" && (cfg.Emotion == nil || *smilePath != "") {
			if cfg.Smiles, err = smiles.LoadModel(*smilePath); err != nil {
				return fmt.Errorf("--smile-model: %w", err)
			}
		}
		det := *faceDetector
		if det == "" {
			det = annotate.DetectorHaar
			if cfg.BlazeFace != nil {
				det = annotate.DetectorBlazeFace
			}
		}
		f := vision.FaceDetection + " (" + det
		switch {
		case cfg.Smiles != nil && cfg.Emotion != nil:
			f += ", expressions, joy from the smile model"
		case cfg.Smiles != nil:
			f += ", joy from the smile model"
		case cfg.Emotion != nil:
			f += ", expressions"
		}
		features = append(features, f+")")
	}
	if len(custom) > 0 {
		cfg.Custom = map[string]*classifier.Model{}
		names := make([]string, 0, len(custom))
		for name, file := range custom {
			// Any format classify reads; one whose file does not say how to
			// preprocess is written as a dlcv classifier first (the
			// service has no per-model preprocessing flags).
			p, err := classifier.Open(file, classifier.OpenOptions{Warn: func(msg string) {
				fmt.Fprintf(stderr, "dlcv serve: --custom %s=%s: %s\n", name, file, msg)
			}})
			if err != nil {
				return fmt.Errorf("--custom %s=%s: %w (a model that needs preprocessing flags can be written with them first: dlcv convert MODEL out.safetensors --classifier --scale S or --mean M --std S)", name, file, err)
			}
			cfg.Custom[name] = p
			names = append(names, name)
		}
		sort.Strings(names)
		features = append(features, vision.CustomModel+" ("+strings.Join(names, ", ")+")")
	}
	// Go's memory limit makes the collector work harder as the heap nears
	// the ceiling, and the server's admission keeps the live bytes of
	// the requests in flight under it.
	prevLimit := debug.SetMemoryLimit(int64(maxMemory))
	defer debug.SetMemoryLimit(prevLimit)
	srv, err := vision.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	_, offFeatures := srv.Features()
	for _, t := range vision.FeatureTypes {
		if why, ok := offFeatures[t]; ok && t != vision.CustomModel {
			fmt.Fprintf(stderr, "dlcv serve: %s is off: %s\n", t, why)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if len(cfg.APIKeys) == 0 && !isLoopback(ln.Addr()) {
		fmt.Fprintf(stderr, "dlcv serve: warning: listening on %s, beyond this machine, without --api-key-file: anyone who reaches the port can use the API\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "dlcv serve: listening on http://%s/ (features: %s)\n", ln.Addr(), strings.Join(features, ", "))
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "dlcv serve: stopped")
	return nil
}
