package vision

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
)

// Config is what a Server runs with. Every model is optional; features
// whose model is missing answer each image with an error naming the
// model and the command that downloads it.
type Config struct {
	// Labeler serves LABEL_DETECTION.
	Labeler *Labeler
	// Objects serves OBJECT_LOCALIZATION, SafeSearch SAFE_SEARCH_DETECTION.
	Objects    *annotate.ObjectDetector
	SafeSearch *annotate.SafeSearch
	// BlazeFace or Cascade serves FACE_DETECTION (FaceDetector chooses
	// when both are set: annotate.DetectorBlazeFace or DetectorHaar; ""
	// is BlazeFace). The cascade runs with FaceOptions (zero: OpenCV's
	// defaults with a 30-pixel minimum face).
	BlazeFace    *annotate.BlazeFace
	Cascade      *detect.Cascade
	FaceOptions  detect.Options
	FaceDetector string
	// Text serves TEXT_DETECTION.
	Text *annotate.Text
	// Web serves WEB_DETECTION against an image index.
	Web *annotate.Web
	// Emotion gives the faces' joy, sorrow, anger and surprise.
	Emotion *annotate.Emotion
	// Smiles, a classifier with classes "not_smiling" and "smiling",
	// gives the faces' joyLikelihood (instead of Emotion's).
	Smiles *classifier.Model
	// Custom serves CUSTOM_MODEL features, by model name. A
	// classifier.Model serves concurrent requests with one copy of its
	// weights (a session per request).
	Custom map[string]*classifier.Model
	// MinScore drops labels scoring less (0: annotate.DefaultMinScore;
	// negative: keep every label).
	MinScore float64
	// AllowDir, when set, lets image.source.imageUri name image files
	// inside it (and nothing outside it).
	AllowDir string
	// APIKeys, when set, are the keys annotate and metrics requests must
	// carry, as ?key=KEY or the X-Goog-Api-Key header (as Cloud Vision's
	// clients send them). More than one lets keys be rotated.
	APIKeys []string
	Limits  Limits
	// Log receives start-up, shutdown and internal error messages (nil:
	// the standard logger).
	Log *log.Logger
}

// Server is the annotate service. Create it with New.
type Server struct {
	ann      *annotate.Annotator
	custom   map[string]*classifier.Model
	allowDir string
	root     *os.Root
	limits   Limits
	log      *log.Logger

	lim      *limiter
	metrics  *metrics
	draining atomic.Bool
	handler  http.Handler

	mem     *budget
	freeing atomic.Bool
	freed   atomic.Int64 // request memory released since the last hand-back to the OS
	keys    [][sha256.Size]byte

	// beforeWork, when set (tests), runs in each annotate request once it
	// holds a work slot.
	beforeWork func(ctx context.Context)
}

// statusClientClosed is recorded (nginx's convention) for requests whose
// client went away before the answer; the client never sees it.
const statusClientClosed = 499

//go:embed web
var webFiles embed.FS

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		custom: cfg.Custom, limits: lim, log: cfg.Log,
		lim: newLimiter(lim.Concurrency, lim.Queue, lim.QueueTimeout), metrics: newMetrics(),
	}
	if s.log == nil {
		s.log = log.Default()
	}
	for name, p := range s.custom {
		if name == "" || p == nil {
			return nil, fmt.Errorf("vision: custom model %q has no name or no model", name)
		}
	}
	s.ann = &annotate.Annotator{Labels: cfg.Labeler, Objects: cfg.Objects, SafeSearch: cfg.SafeSearch, Web: cfg.Web, Text: cfg.Text, Custom: cfg.Custom, MinScore: cfg.MinScore}
	if cfg.MinScore == 0 {
		s.ann.MinScore = annotate.DefaultMinScore
	} else if cfg.MinScore < 0 {
		s.ann.MinScore = 0
	}
	var smiles *annotate.Smiles
	if cfg.Smiles != nil {
		if smiles, err = annotate.NewSmiles(cfg.Smiles); err != nil {
			return nil, fmt.Errorf("vision: %w", err)
		}
	}
	if cfg.FaceOptions.MinSize == 0 {
		cfg.FaceOptions.MinSize = 30
	}
	if cfg.BlazeFace != nil || cfg.Cascade != nil {
		s.ann.Faces = &annotate.Faces{Detector: cfg.FaceDetector, BlazeFace: cfg.BlazeFace, Cascade: cfg.Cascade,
			CascadeOptions: cfg.FaceOptions, Emotion: cfg.Emotion, Smiles: smiles}
		if err := s.ann.Available(Feature{Type: FaceDetection}); err != nil {
			return nil, fmt.Errorf("vision: %w", err)
		}
	}
	for i, k := range cfg.APIKeys {
		if len(k) < 16 {
			return nil, fmt.Errorf("vision: API key %d is %d characters; use at least 16 (e.g. openssl rand -hex 16)", i+1, len(k))
		}
		s.keys = append(s.keys, sha256.Sum256([]byte(k)))
	}
	// The memory budget: 3/4 of the ceiling (the rest is the garbage
	// collector's headroom), less what is in use now (the models).
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse + ms.StackInuse)
	s.mem = &budget{capacity: lim.MaxMemory*3/4 - base}
	if s.mem.capacity < 16<<20 {
		return nil, fmt.Errorf("vision: a memory ceiling of %s (--max-memory) leaves %s for requests once the %s in use (the models) and the garbage collector's quarter are set aside; raise it",
			mib(lim.MaxMemory), mib(max(s.mem.capacity, 0)), mib(base))
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
		if err := s.checkKey(r); err != nil {
			s.writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w, s)
	})))
	web, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(web)
	mux.Handle("/", m.instrument("page", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Unknown paths get a JSON 404, as every other error here.
		if name := strings.TrimPrefix(path.Clean(r.URL.Path), "/"); name != "" {
			if st, err := fs.Stat(web, name); err != nil || st.IsDir() {
				s.writeError(w, notFoundf("%s: no such path (the API is POST /v1/images:annotate; the page is /)", r.URL.Path))
				return
			}
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
	features, off := s.Features()
	json.NewEncoder(w).Encode(map[string]any{"status": "ok", "features": features, "off": off, "customModels": s.ann.CustomNames(), "smiles": s.ann.Faces != nil && s.ann.Faces.Smiles != nil})
}

// Features lists the feature types this server computes, and for each
// of the others why not (the model it lacks).
func (s *Server) Features() (on []string, off map[string]string) {
	off = map[string]string{}
	for _, t := range FeatureTypes {
		f := Feature{Type: t}
		if t == CustomModel {
			if len(s.custom) > 0 {
				on = append(on, t)
			} else {
				off[t] = "no custom models (--custom NAME=FILE)"
			}
			continue
		}
		if err := s.ann.Available(f); err != nil {
			off[t] = annotate.Reason(err)
		} else {
			on = append(on, t)
		}
	}
	return on, off
}

// annotate serves POST /v1/images:annotate.
//
// The order bounds what a client can hold: the body is read (under a
// deadline and a minimum rate, with its memory reserved as it arrives)
// before a work slot is taken, the images are priced from their headers
// and their memory reserved, and only then does the request queue for a
// slot, which it holds for decoding and inference alone. Everything
// stops when the client goes away or RequestTimeout passes.
func (s *Server) annotate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.drainBody(w, r.Body, r.ContentLength)
		w.Header().Set("Allow", http.MethodPost)
		// grpc-gateway's answer to a method a path does not take.
		s.writeError(w, errorf(codeUnimplemented, "%s %s: use POST with a JSON or multipart/form-data body", r.Method, r.URL.Path))
		return
	}
	if err := s.checkKey(r); err != nil {
		s.drainBody(w, r.Body, r.ContentLength)
		s.writeError(w, err)
		return
	}
	if r.ContentLength > s.limits.MaxBodyBytes {
		s.drainBody(w, r.Body, r.ContentLength)
		s.metrics.count(s.metrics.rejected, "body_too_large")
		s.writeError(w, invalidf("request payload size exceeds the limit: the body is %d bytes, the limit is %d bytes (--max-body)", r.ContentLength, s.limits.MaxBodyBytes))
		return
	}
	// Refuse before reading the body when the queue is already full.
	if s.lim.full() {
		s.drainBody(w, r.Body, r.ContentLength)
		s.metrics.count(s.metrics.rejected, "busy")
		s.writeError(w, s.busyError(s.lim.busy(0).(*errBusy)))
		return
	}
	res := &reservation{s: s}
	defer func() {
		// Hand the garbage of requests back to the OS once enough has
		// been freed (or one large request ends): otherwise the heap
		// stays at twice its peak live size and RSS follows the worst
		// burst, not what is live.
		if s.freed.Add(res.held) >= freeAfterBytes || res.held >= freeAfterBytes/4 {
			s.freed.Store(0)
			s.freeOSMemorySoon()
		}
		res.release()
	}()
	jobs, err := s.readRequest(w, r, res)
	if err != nil {
		// A body cut off for being slow also cancels the request's
		// context (the server saw the read fail): answer it all the same.
		if r.Context().Err() != nil && asAPIError(err).code != codeDeadlineExceeded {
			w.WriteHeader(statusClientClosed)
			return
		}
		s.writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.limits.RequestTimeout)
	defer cancel()
	// Price the images from their headers and reserve the memory of the
	// most expensive one (they are decoded one at a time), on top of the
	// bytes the request holds.
	var held, peak int64
	for i := range jobs {
		held += int64(len(jobs[i].data))
		if jobs[i].err == nil {
			jobs[i].info, jobs[i].cost, jobs[i].err = s.price(jobs[i].data, jobs[i].features)
			peak = max(peak, jobs[i].cost)
		}
	}
	res.shrinkTo(held)
	if err := res.grow(peak); err != nil {
		s.writeError(w, err)
		return
	}
	if err := s.lim.acquire(ctx); err != nil {
		var busy *errBusy
		switch {
		case errors.As(err, &busy):
			s.metrics.count(s.metrics.rejected, "busy")
			s.writeError(w, s.busyError(busy))
		case r.Context().Err() != nil:
			w.WriteHeader(statusClientClosed)
		default:
			s.writeError(w, s.deadlineError())
		}
		return
	}
	defer s.lim.release()
	if s.beforeWork != nil {
		s.beforeWork(ctx)
	}
	resp := BatchResponse{Responses: make([]ImageResponse, len(jobs))}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		resp.Responses[i] = s.annotateOne(ctx, &jobs[i])
		jobs[i].data = nil
	}
	if ctx.Err() != nil {
		if r.Context().Err() != nil {
			w.WriteHeader(statusClientClosed) // the client is gone: stop working for it
			return
		}
		s.writeError(w, s.deadlineError())
		return
	}
	// A well-formed request is answered 200 whatever its images gave,
	// with each image's error in its response, as Cloud Vision does.
	writeJSON(w, http.StatusOK, resp)
}

// drainBody reads and throws away what is left of the body of a request
// that is refused, before the answer is written. A client still sending
// its body when the server closes the connection gets a broken pipe, not
// the answer; a drained connection also stays open for the next request.
// The drain is bounded in bytes (twice --max-body) and time (2 s, so a
// slow client is cut off); past either, the connection is closed.
// length is the announced length (-1: unknown or already partly read).
func (s *Server) drainBody(w http.ResponseWriter, body io.Reader, length int64) {
	limit := 2*s.limits.MaxBodyBytes + 1<<20
	if body == nil || body == http.NoBody || length > limit {
		return
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(2 * time.Second))
	io.CopyN(io.Discard, body, limit)
}

func (s *Server) deadlineError() error {
	return errorf(codeDeadlineExceeded, "the request took longer than %v (--request-timeout)", s.limits.RequestTimeout)
}

// readRequest reads and parses the body, and the files it names.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, res *reservation) (jobs []job, err error) {
	multi := false
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		multi = true
	}
	// A JSON body is held while its strings and the decoded base64 are
	// made (about 3 bytes a body byte); a form streams into the images.
	factor := int64(3)
	if multi {
		factor = 2
	}
	orig := r.Body
	body := s.newBodyReader(w, r, res, factor)
	defer func() {
		// Refused before the whole body was read (too large, out of
		// memory, a bad form): drain the rest so the client reads the
		// answer. A body cut off for being slow is not waited for.
		if err != nil && !body.cut {
			s.drainBody(w, orig, -1)
		}
		body.done()
	}()
	if r.ContentLength > 0 {
		if err := body.expect(r.ContentLength); err != nil {
			return nil, err
		}
	}
	if multi {
		r.Body = io.NopCloser(body)
		return s.decodeMultipart(r, res)
	}
	var data []byte
	if r.ContentLength > 0 {
		data = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, data)
	} else {
		data, err = io.ReadAll(body)
	}
	if err != nil {
		return nil, bodyError(err, s.limits.MaxBodyBytes)
	}
	body.done()
	return s.decodeJSON(data, res)
}

// freeAfterBytes is how much request memory is released (a quarter of it
// in one request) before the server hands freed memory back to the OS: a
// forced collection of the live heap (tens of MB) every few seconds at
// most, for an RSS that tracks what is live.
const freeAfterBytes = 256 << 20

// freeOSMemorySoon returns freed memory to the OS, at most once a second.
func (s *Server) freeOSMemorySoon() {
	if !s.freeing.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(time.Second, func() {
		debug.FreeOSMemory()
		s.freeing.Store(false)
	})
}

// annotateOne decodes one image and computes its features.
func (s *Server) annotateOne(ctx context.Context, j *job) (out ImageResponse) {
	fail := func(err error) ImageResponse {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = errorf(codeDeadlineExceeded, "request cancelled") // the request's answer says why
		}
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
	img, err := s.decodeImage(ctx, j.data)
	if err != nil {
		return fail(err)
	}
	for _, f := range j.features {
		if err := ctx.Err(); err != nil {
			return fail(errorf(codeDeadlineExceeded, "request cancelled"))
		}
		if err := s.ann.Annotate(ctx, img, f, &out); err != nil {
			return fail(featureError(err))
		}
		s.metrics.count(s.metrics.features, f.Type)
	}
	return out
}

// featureError gives a feature's error its google.rpc code: a missing
// model is FAILED_PRECONDITION (the server's set-up), a cancelled
// request DEADLINE_EXCEEDED, anything else INTERNAL.
func featureError(err error) error {
	var mm *annotate.MissingModelError
	switch {
	case errors.As(err, &mm):
		return errorf(codeFailedPrecondition, "%v", err)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return err
}

// writeError answers with a google.rpc.Status-shaped body (Google API
// style: its code is the HTTP status, which the table maps from the rpc
// code).
func (s *Server) writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	if e.code == codeInternal {
		s.log.Printf("vision: internal error: %v", err)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.http(), ErrorBody{Error: Status{Code: e.http(), Message: e.msg, Status: codeName(e.code)}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
