package vision

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
	"golang.org/x/image/draw"
)

// Config is what a Server runs with. Every model is optional; features
// whose model is missing are refused with a message naming the flag.
type Config struct {
	// Labeler serves LABEL_DETECTION.
	Labeler *Labeler
	// Cascade serves FACE_DETECTION with FaceOptions (zero: OpenCV's
	// defaults with a 30-pixel minimum face).
	Cascade     *detect.Cascade
	FaceOptions detect.Options
	// Smiles, a classifier with classes "not_smiling" and "smiling",
	// gives the faces' joyLikelihood.
	Smiles *classifier.Model
	// Custom serves CUSTOM_MODEL features, by model name. A
	// classifier.Model serves concurrent requests with one copy of its
	// weights (a session per request).
	Custom map[string]*classifier.Model
	// AllowDir, when set, lets image.source.imageUri name image files
	// inside it (and nothing outside it).
	AllowDir string
	Limits   Limits
	// Log receives start-up, shutdown and internal error messages (nil:
	// the standard logger).
	Log *log.Logger
}

// Server is the annotate service. Create it with New.
type Server struct {
	labeler     *Labeler
	cascade     *detect.Cascade
	faceOptions detect.Options
	smiles      *classifier.Model
	smileIndex  int
	custom      map[string]*classifier.Model
	allowDir    string
	root        *os.Root
	limits      Limits
	log         *log.Logger

	lim      *limiter
	metrics  *metrics
	draining atomic.Bool
	handler  http.Handler

	// beforeWork, when set (tests), runs in each annotate request once it
	// holds a work slot.
	beforeWork func()
}

// statusClientClosed is recorded (nginx's convention) for requests whose
// client went away before the answer; the client never sees it.
const statusClientClosed = 499

// faceMaxSide bounds the longer side of the image the face detector
// scans; larger photos are scanned downscaled and the boxes scaled back.
const faceMaxSide = 1280

//go:embed web
var webFiles embed.FS

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		labeler: cfg.Labeler, cascade: cfg.Cascade, faceOptions: cfg.FaceOptions,
		smiles: cfg.Smiles, custom: cfg.Custom, limits: lim, log: cfg.Log,
		lim: newLimiter(lim.Concurrency, lim.Queue, lim.QueueTimeout), metrics: newMetrics(),
	}
	if s.log == nil {
		s.log = log.Default()
	}
	if s.faceOptions.MinSize == 0 {
		s.faceOptions.MinSize = 30
	}
	if s.smiles != nil {
		s.smileIndex = slices.Index(s.smiles.Classes, "smiling")
		if len(s.smiles.Classes) != 2 || s.smileIndex < 0 || !slices.Contains(s.smiles.Classes, "not_smiling") {
			return nil, fmt.Errorf("vision: the smile model's classes are %q, want \"not_smiling\" and \"smiling\"", s.smiles.Classes)
		}
	}
	for name, p := range s.custom {
		if name == "" || p == nil {
			return nil, fmt.Errorf("vision: custom model %q has no name or no model", name)
		}
	}
	if cfg.AllowDir != "" {
		abs, err := filepath.Abs(cfg.AllowDir)
		if err != nil {
			return nil, fmt.Errorf("vision: allowed directory %s: %w", cfg.AllowDir, err)
		}
		if s.root, err = os.OpenRoot(abs); err != nil {
			return nil, fmt.Errorf("vision: allowed directory: %w", err)
		}
		s.allowDir = abs
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	m := s.metrics
	mux.Handle("/v1/images:annotate", m.instrument("annotate", http.HandlerFunc(s.annotate)))
	mux.Handle("GET /healthz", m.instrument("healthz", http.HandlerFunc(s.healthz)))
	mux.Handle("GET /metrics", m.instrument("metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w, s.lim)
	})))
	web, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(web)
	mux.Handle("/", m.instrument("page", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Everything the page needs is served from here: no CDN, and
		// nothing else may run.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})))
	return mux
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for s with the limits' timeouts.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.limits.ReadHeaderTimeout,
		ReadTimeout:       s.limits.ReadTimeout,
		WriteTimeout:      s.limits.WriteTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log,
	}
}

// ListenAndServe listens on addr and serves until ctx ends, then shuts
// down gracefully (see Serve).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. It then stops accepting connections,
// lets in-flight requests finish (up to Limits.ShutdownTimeout) and
// returns nil, or the error that stopped it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.limits.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("vision: shutdown: %w", err)
	}
	return nil
}

// Close releases the allowed directory.
func (s *Server) Close() error {
	if s.root != nil {
		return s.root.Close()
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"shutting down"}`+"\n")
		return
	}
	var features []string
	if s.labeler != nil {
		features = append(features, LabelDetection)
	}
	features = append(features, ImageProperties)
	if s.cascade != nil {
		features = append(features, FaceDetection)
	}
	custom := sortedKeys(s.custom)
	if len(custom) > 0 {
		features = append(features, CustomModel)
	}
	json.NewEncoder(w).Encode(map[string]any{"status": "ok", "features": features, "customModels": custom, "smiles": s.smiles != nil})
}

// annotate serves POST /v1/images:annotate.
func (s *Server) annotate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, &apiError{codeInvalidArgument, http.StatusMethodNotAllowed, r.Method + " " + r.URL.Path + ": use POST with a JSON or multipart/form-data body"})
		return
	}
	if r.ContentLength > s.limits.MaxBodyBytes {
		s.metrics.count(s.metrics.rejected, "body_too_large")
		s.writeError(w, tooLargef("request body is %d bytes, over the %d-byte limit (--max-body)", r.ContentLength, s.limits.MaxBodyBytes))
		return
	}
	// Take a work slot before reading the body: at most Concurrency
	// bodies are in memory, queued requests hold only their headers.
	if err := s.lim.acquire(r.Context()); err != nil {
		if errors.Is(err, errBusy) {
			s.metrics.count(s.metrics.rejected, "busy")
			w.Header().Set("Retry-After", "1")
			s.writeError(w, unavailablef("the server is busy (%d requests working, %d waiting); retry later", s.limits.Concurrency, s.limits.Queue))
			return
		}
		w.WriteHeader(statusClientClosed)
		return
	}
	defer s.lim.release()
	if s.beforeWork != nil {
		s.beforeWork()
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes)
	var jobs []job
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		jobs, err = s.decodeMultipart(r)
	} else {
		var body []byte
		if body, err = io.ReadAll(r.Body); err != nil {
			err = bodyError(err, s.limits.MaxBodyBytes)
		} else {
			jobs, err = s.decodeJSON(body)
		}
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	resp := BatchResponse{Responses: make([]ImageResponse, len(jobs))}
	failed := 0
	var first *apiError
	for i := range jobs {
		if r.Context().Err() != nil {
			w.WriteHeader(statusClientClosed) // stop working for it
			return
		}
		resp.Responses[i] = s.annotateOne(r.Context(), &jobs[i])
		jobs[i].data = nil
		if resp.Responses[i].Error != nil {
			failed++
			if first == nil {
				first = asAPIError(jobs[i].err)
			}
		}
	}
	code := http.StatusOK
	if failed == len(jobs) {
		// Every image failed: say so in the HTTP status too (Cloud
		// Vision answers 200 with per-image errors; a 4xx is what curl
		// users and load balancers notice).
		code = first.http
	}
	writeJSON(w, code, resp)
}

// annotateOne decodes one image and computes its features.
func (s *Server) annotateOne(ctx context.Context, j *job) (out ImageResponse) {
	fail := func(err error) ImageResponse {
		j.err = err
		e := asAPIError(err)
		if e.code == codeInternal {
			s.log.Printf("vision: internal error: %v", err)
		}
		return ImageResponse{Error: e.status()}
	}
	if j.err != nil {
		return fail(j.err)
	}
	img, err := decodeImage(j.data, s.limits.MaxPixels)
	if err != nil {
		return fail(err)
	}
	for _, f := range j.features {
		if ctx.Err() != nil {
			return fail(&apiError{codeDeadlineExceeded, http.StatusGatewayTimeout, "request cancelled"})
		}
		switch f.Type {
		case LabelDetection:
			if out.LabelAnnotations, err = s.labeler.label(img, f.MaxResults); err != nil {
				return fail(err)
			}
		case ImageProperties:
			out.ImagePropertiesAnnotation = &ImagePropertiesAnnotation{DominantColors{dominantColors(img, f.MaxResults)}}
		case FaceDetection:
			if out.FaceAnnotations, err = s.detectFaces(ctx, img, f.MaxResults); err != nil {
				return fail(err)
			}
		case CustomModel:
			ps, err := s.custom[f.Model].PredictImage(img, f.MaxResults)
			if err != nil {
				return fail(err)
			}
			a := CustomAnnotation{Model: f.Model, Labels: make([]EntityAnnotation, len(ps))}
			for i, p := range ps {
				a.Labels[i] = EntityAnnotation{Description: p.Label, Score: p.Probability, Topicality: p.Probability}
			}
			out.CustomAnnotations = append(out.CustomAnnotations, a)
		}
		s.metrics.count(s.metrics.features, f.Type)
	}
	return out
}

// detectFaces runs the face detector on img, downscaled when large.
func (s *Server) detectFaces(ctx context.Context, img image.Image, k int) ([]FaceAnnotation, error) {
	b := img.Bounds()
	side := max(b.Dx(), b.Dy())
	if side <= faceMaxSide {
		return s.faces(ctx, img, k)
	}
	scale := float64(side) / faceMaxSide
	small := image.NewRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())/scale)), max(1, int(float64(b.Dy())/scale))))
	draw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
	fs, err := s.faces(ctx, small, k)
	for i := range fs {
		for v := range fs[i].BoundingPoly.Vertices {
			p := &fs[i].BoundingPoly.Vertices[v]
			p.X = b.Min.X + min(b.Dx(), int(float64(p.X)*scale+0.5))
			p.Y = b.Min.Y + min(b.Dy(), int(float64(p.Y)*scale+0.5))
		}
	}
	return fs, err
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	if e.code == codeInternal {
		s.log.Printf("vision: internal error: %v", err)
	}
	writeJSON(w, e.http, ErrorBody{Error: Status{Code: e.http, Message: e.msg, Status: codeNames[e.code]}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
