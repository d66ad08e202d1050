package vision

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the latency histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics counts requests for GET /metrics (Prometheus text format 0.0.4).
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram // by handler
	features map[string]uint64     // images annotated, by feature type
	rejected map[string]uint64     // by reason
	inFlight atomic.Int64
	start    time.Time
}

type reqKey struct {
	handler string
	code    int
}

type histogram struct {
	counts []uint64 // per bucket (not cumulative), +Inf last
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}, features: map[string]uint64{}, rejected: map[string]uint64{}, start: time.Now()}
}

func (m *metrics) observe(handler string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{handler, code}]++
	h := m.latency[handler]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[handler] = h
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

func (m *metrics) count(table map[string]uint64, key string) {
	m.mu.Lock()
	table[key]++
	m.mu.Unlock()
}

// instrument wraps a handler to count its requests and time them.
func (m *metrics) instrument(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() { m.observe(name, sw.code, time.Since(t)) }()
		h.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// write prints every metric in the Prometheus text format.
func (m *metrics) write(w io.Writer, s *Server) {
	lim := s.lim
	m.mu.Lock()
	defer m.mu.Unlock()
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# HELP dlcv_vision_requests_total HTTP requests served, by handler and status code.\n")
	p("# TYPE dlcv_vision_requests_total counter\n")
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.handler, b.handler); c != 0 {
			return c
		}
		return a.code - b.code
	})
	for _, k := range keys {
		p("dlcv_vision_requests_total{handler=%q,code=\"%d\"} %d\n", k.handler, k.code, m.requests[k])
	}

	p("# HELP dlcv_vision_request_duration_seconds Time from receiving a request to the end of its response.\n")
	p("# TYPE dlcv_vision_request_duration_seconds histogram\n")
	for _, name := range sortedKeys(m.latency) {
		h := m.latency[name]
		var cum uint64
		for i, ub := range latencyBuckets {
			cum += h.counts[i]
			p("dlcv_vision_request_duration_seconds_bucket{handler=%q,le=%q} %d\n", name, strconv.FormatFloat(ub, 'g', -1, 64), cum)
		}
		p("dlcv_vision_request_duration_seconds_bucket{handler=%q,le=\"+Inf\"} %d\n", name, h.n)
		p("dlcv_vision_request_duration_seconds_sum{handler=%q} %g\n", name, h.sum)
		p("dlcv_vision_request_duration_seconds_count{handler=%q} %d\n", name, h.n)
	}

	p("# HELP dlcv_vision_in_flight_requests Requests being served now (including queued ones).\n")
	p("# TYPE dlcv_vision_in_flight_requests gauge\n")
	p("dlcv_vision_in_flight_requests %d\n", m.inFlight.Load())
	p("# HELP dlcv_vision_busy_slots Annotate requests holding a work slot.\n")
	p("# TYPE dlcv_vision_busy_slots gauge\n")
	p("dlcv_vision_busy_slots %d\n", lim.inUse())
	p("# HELP dlcv_vision_queued_requests Annotate requests waiting for a work slot.\n")
	p("# TYPE dlcv_vision_queued_requests gauge\n")
	p("dlcv_vision_queued_requests %d\n", lim.waiting.Load())

	p("# HELP dlcv_vision_memory_budget_bytes Memory the requests in flight may hold (from --max-memory).\n")
	p("# TYPE dlcv_vision_memory_budget_bytes gauge\n")
	p("dlcv_vision_memory_budget_bytes %d\n", s.mem.capacity)
	p("# HELP dlcv_vision_memory_reserved_bytes Memory reserved by the requests in flight (bodies, decoded images, working buffers).\n")
	p("# TYPE dlcv_vision_memory_reserved_bytes gauge\n")
	p("dlcv_vision_memory_reserved_bytes %d\n", s.mem.used.Load())
	p("# HELP dlcv_vision_memory_reserved_peak_bytes The most memory reserved at once since the start.\n")
	p("# TYPE dlcv_vision_memory_reserved_peak_bytes gauge\n")
	p("dlcv_vision_memory_reserved_peak_bytes %d\n", s.mem.peak.Load())

	p("# HELP dlcv_vision_rejected_requests_total Annotate requests refused before any work, by reason.\n")
	p("# TYPE dlcv_vision_rejected_requests_total counter\n")
	for _, k := range sortedKeys(m.rejected) {
		p("dlcv_vision_rejected_requests_total{reason=%q} %d\n", k, m.rejected[k])
	}
	p("# HELP dlcv_vision_annotations_total Images annotated, by feature type.\n")
	p("# TYPE dlcv_vision_annotations_total counter\n")
	for _, k := range sortedKeys(m.features) {
		p("dlcv_vision_annotations_total{feature=%q} %d\n", k, m.features[k])
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p("# HELP go_memstats_heap_inuse_bytes Bytes in in-use heap spans.\n# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes %d\n", ms.HeapInuse)
	p("# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	if rss, ok := residentBytes(); ok {
		p("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\n", rss)
	}
	p("# HELP process_start_time_seconds Start time of the server since the Unix epoch.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %d\n", m.start.Unix())
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// residentBytes reads the process's resident set size (Linux only).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
