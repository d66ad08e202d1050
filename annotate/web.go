package annotate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/atomicfile"
	"github.com/dlcv-go/dlcv/internal/imagefile"
	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/pipeline"
	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

// WEB_DETECTION, local: Cloud Vision matches a photo against the web;
// dlcv matches it against a collection the user indexes. Every image is
// embedded as a pretrained backbone's pooled features, L2-normalised, and
// a query is an exact cosine search over all of them (dot products with
// the SIMD kernels).

// Web detection thresholds on cosine similarity. They are heuristics for
// MobileNet v2's pooled features, not calibrated probabilities, set from
// measurements (TestMatchThresholds and docs/web.md): grace_hopper.bmp
// re-encoded as JPEG (quality 60) scores 0.990 against the original,
// resized to half 0.967, cropped to 55% of its area 0.824; the nearest
// different photos of one class scored 0.73-0.79 in the two panda
// queries of docs/web.md and docs/service.md.
const (
	FullMatchSimilarity    = 0.95
	PartialMatchSimilarity = 0.80
	// DefaultBackbone embeds images for the index.
	DefaultBackbone = "mobilenet-v2"
)

// Embedder turns an image into a unit-length feature vector. Safe for
// concurrent use.
type Embedder struct {
	Name string
	pre  data.Preprocess
	p    *nn.Predictor
	dim  int
}

// LoadEmbedder loads a backbone (a registered name such as mobilenet-v2,
// or a model file; see pipeline.LoadBackbone) cut at its pooled features.
func LoadEmbedder(spec string) (*Embedder, error) {
	b, err := pipeline.LoadBackbone(spec, "")
	if err != nil {
		return nil, err
	}
	p, err := nn.NewPredictor(b.Graph, 0)
	if err != nil {
		return nil, err
	}
	e := &Embedder{Name: spec, p: p, pre: data.Preprocess{Height: b.Input[0], Width: b.Input[1], Channels: b.Input[2]}}
	if s := b.Graph.OutputShape(); len(s) > 0 {
		e.dim = tensor.Numel(s)
	}
	return e, nil
}

// Embed returns img's features, L2-normalised.
func (e *Embedder) Embed(img image.Image) ([]float32, error) {
	x, err := e.pre.Apply(img)
	if err != nil {
		return nil, err
	}
	t, err := tensor.FromSlice(x, 1, e.pre.Height, e.pre.Width, e.pre.Channels)
	if err != nil {
		return nil, err
	}
	var v []float32
	err = e.p.Do(func(s *nn.Session) error {
		ys, err := s.Run(false, t)
		if err != nil {
			return fmt.Errorf("backbone %s: %w", e.Name, err)
		}
		v = append([]float32(nil), ys[0].Data...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	normalize(v)
	return v, nil
}

func normalize(v []float32) {
	n := math.Sqrt(float64(kernels.Dot(v, v)))
	if n > 0 {
		kernels.Scal(float32(1/n), v)
	}
}

// IndexEntry is one indexed image: its path relative to the indexed
// folder, the size and modification time it was embedded at, and its
// label (the name of the folder it is in; "" at the top).
type IndexEntry struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"` // Unix nanoseconds
	Label   string `json:"label,omitempty"`
}

// Index is an embedded image collection: Entries[i]'s unit vector is
// row i of Vectors (len(Entries) x Dim).
type Index struct {
	Root     string // the indexed folder, as given
	Backbone string
	Dim      int
	Entries  []IndexEntry
	Vectors  []float32
}

// indexMeta is the safetensors metadata of an index file.
type indexMeta struct {
	Format   string       `json:"format"`
	Root     string       `json:"root"`
	Backbone string       `json:"backbone"`
	Entries  []IndexEntry `json:"entries"`
}

const indexFormat = "dlcv-image-index-1"

// Save writes the index atomically: a safetensors file, the vectors as
// tensor "vectors" and the entries as JSON metadata.
func (x *Index) Save(path string) error {
	meta, err := json.Marshal(indexMeta{Format: indexFormat, Root: x.Root, Backbone: x.Backbone, Entries: x.Entries})
	if err != nil {
		return err
	}
	f := &safetensors.File{
		Metadata: map[string]string{"dlcv.index": string(meta)},
		Tensors:  map[string]safetensors.Tensor{"vectors": {Shape: []int{len(x.Entries), x.Dim}, Data: x.Vectors}},
	}
	return atomicfile.Write(path, func(w io.Writer) error { return safetensors.Encode(w, f) })
}

// LoadIndex reads an index file.
func LoadIndex(path string) (*Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := ParseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// ParseIndex decodes an index file's bytes, checking that its entries
// and vectors agree.
func ParseIndex(b []byte) (*Index, error) {
	f, err := safetensors.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("not an image index: %w", err)
	}
	var m indexMeta
	if err := json.Unmarshal([]byte(f.Metadata["dlcv.index"]), &m); err != nil || m.Format != indexFormat {
		return nil, fmt.Errorf("not an image index (no %s metadata; make one with 'dlcv index DIR --out INDEX')", indexFormat)
	}
	v, ok := f.Tensors["vectors"]
	if !ok || len(v.Shape) != 2 || v.Shape[0] != len(m.Entries) {
		return nil, fmt.Errorf("image index: the vectors tensor has shape %v for %d entries", v.Shape, len(m.Entries))
	}
	x := &Index{Root: m.Root, Backbone: m.Backbone, Dim: v.Shape[1], Entries: m.Entries, Vectors: v.Data}
	if x.Dim < 1 && len(m.Entries) > 0 {
		return nil, fmt.Errorf("image index: vectors of %d values", x.Dim)
	}
	seen := map[string]bool{}
	for i, e := range m.Entries {
		if e.Path == "" || seen[e.Path] || filepath.IsAbs(e.Path) || strings.HasPrefix(filepath.Clean(e.Path), "..") {
			return nil, fmt.Errorf("image index: entry %d has a bad or repeated path %q", i, e.Path)
		}
		seen[e.Path] = true
		row := x.Vectors[i*x.Dim : (i+1)*x.Dim]
		if n := kernels.Dot(row, row); !(math.Abs(float64(n)-1) < 1e-3) {
			return nil, fmt.Errorf("image index: the vector of %s has squared norm %v, not 1", e.Path, n)
		}
	}
	return x, nil
}

// IndexOptions configures BuildIndex.
type IndexOptions struct {
	// Previous, when set, is an earlier index of the same folder with
	// the same backbone: images whose size and modification time are
	// unchanged keep their vectors, so only new and changed files are
	// embedded.
	Previous *Index
	// Progress, when set, is called after each image with the number
	// done and the number to embed.
	Progress func(done, total int)
	// Workers embed images in parallel (0: 1; the backbone itself uses
	// every core).
	Workers int
}

// IndexStats says what BuildIndex did.
type IndexStats struct {
	Embedded, Kept, Removed int
	Failed                  []string // files that could not be read, with why
}

// BuildIndex embeds every image under root (data.IsImageFile names).
// Images that cannot be decoded are left out and listed in the stats.
func BuildIndex(ctx context.Context, root string, e *Embedder, o IndexOptions) (*Index, IndexStats, error) {
	var st IndexStats
	var files []IndexEntry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !data.IsImageFile(d.Name()) {
			return nil
		}
		// Stat, not Lstat: a linked image is indexed by the file it
		// names, so a change to that file is noticed.
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		label := filepath.Base(filepath.Dir(rel))
		if label == "." {
			label = ""
		}
		files = append(files, IndexEntry{Path: filepath.ToSlash(rel), Size: info.Size(), ModTime: info.ModTime().UnixNano(), Label: label})
		return nil
	})
	if err != nil {
		return nil, st, fmt.Errorf("indexing %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, st, fmt.Errorf("%s holds no images (%s)", root, strings.Join(data.ImageExtensions, " "))
	}
	old := map[string]int{}
	if p := o.Previous; p != nil {
		if p.Backbone != e.Name {
			return nil, st, fmt.Errorf("the index was made with backbone %q, not %q: write a new index", p.Backbone, e.Name)
		}
		for i, en := range p.Entries {
			old[en.Path] = i
		}
	}
	x := &Index{Root: root, Backbone: e.Name, Dim: e.dim}
	vecs := make([][]float32, len(files))
	var todo []int
	for i, f := range files {
		if j, ok := old[f.Path]; ok && o.Previous.Entries[j].Size == f.Size && o.Previous.Entries[j].ModTime == f.ModTime {
			d := o.Previous.Dim
			vecs[i] = o.Previous.Vectors[j*d : (j+1)*d]
			st.Kept++
			continue
		}
		todo = append(todo, i)
	}
	if o.Previous != nil {
		now := map[string]bool{}
		for _, f := range files {
			now[f.Path] = true
		}
		for _, en := range o.Previous.Entries {
			if !now[en.Path] {
				st.Removed++
			}
		}
	}
	var mu sync.Mutex
	done := 0
	errs := make([]error, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(o.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				vecs[i], errs[i] = embedFile(filepath.Join(root, filepath.FromSlash(files[i].Path)), e)
				mu.Lock()
				done++
				if o.Progress != nil {
					o.Progress(done, len(todo))
				}
				mu.Unlock()
			}
		}()
	}
	for _, i := range todo {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}
	for i, f := range files {
		if errs[i] != nil {
			st.Failed = append(st.Failed, errs[i].Error())
			continue
		}
		if vecs[i] == nil {
			continue
		}
		if x.Dim == 0 {
			x.Dim = len(vecs[i])
		}
		if len(vecs[i]) != x.Dim {
			return nil, st, fmt.Errorf("%s: a %d-value vector in an index of %d", f.Path, len(vecs[i]), x.Dim)
		}
		x.Entries = append(x.Entries, f)
		x.Vectors = append(x.Vectors, vecs[i]...)
	}
	st.Embedded = len(todo) - len(st.Failed)
	return x, st, nil
}

// indexLimits bound the images an index reads (as the CLI's photos).
var indexLimits = imagefile.Limits{MaxPixels: 100e6, MaxBytes: 512 << 20}

func embedFile(path string, e *Embedder) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := imagefile.Decode(context.Background(), b, indexLimits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e.Embed(img)
}

// Match is an indexed image and its cosine similarity to the query.
type Match struct {
	IndexEntry
	Similarity float64
}

// Search returns the k entries most similar to the unit vector q, most
// similar first: an exact search, one dot product per entry, split over
// the cores.
func (x *Index) Search(q []float32, k int) ([]Match, error) {
	if len(q) != x.Dim {
		return nil, fmt.Errorf("a %d-value query for an index of %d-value vectors (backbone %s)", len(q), x.Dim, x.Backbone)
	}
	n := len(x.Entries)
	sims := make([]float32, n)
	kernels.ParallelFunc(n, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sims[i] = kernels.Dot(q, x.Vectors[i*x.Dim:(i+1)*x.Dim])
		}
	})
	k = min(k, n)
	idx := topSimilar(sims, k)
	out := make([]Match, k)
	for i := range k {
		out[i] = Match{IndexEntry: x.Entries[idx[i]], Similarity: float64(sims[idx[i]])}
	}
	return out, nil
}

// topSimilar returns the indices of the k largest sims, largest first
// (equal ones in index order): a min-heap of the best k so far, so the
// selection costs n comparisons, not a sort of all n.
func topSimilar(sims []float32, k int) []int {
	// worse: entry i ranks after entry j.
	worse := func(i, j int) bool { return sims[i] < sims[j] || sims[i] == sims[j] && i > j }
	h := make([]int, 0, k)
	down := func(r int) {
		for {
			c := 2*r + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && worse(h[c+1], h[c]) {
				c++
			}
			if !worse(h[c], h[r]) {
				return
			}
			h[r], h[c] = h[c], h[r]
			r = c
		}
	}
	for i := range sims {
		if len(h) < k {
			h = append(h, i)
			for c := len(h) - 1; c > 0 && worse(h[c], h[(c-1)/2]); c = (c - 1) / 2 {
				h[c], h[(c-1)/2] = h[(c-1)/2], h[c]
			}
		} else if k > 0 && worse(h[0], i) {
			h[0] = i
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b int) int {
		if worse(b, a) {
			return -1
		}
		return 1
	})
	return h
}

// Web is WEB_DETECTION against an index.
type Web struct {
	Index    *Index
	Embedder *Embedder
	// Labels, when set, gives bestGuessLabels its top label.
	Labels *Labeler
}

// Detect finds the images of the index most like img (up to k).
func (w *Web) Detect(ctx context.Context, img image.Image, k int) (*WebDetection, error) {
	q, err := w.Embedder.Embed(img)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ms, err := w.Index.Search(q, k)
	if err != nil {
		return nil, err
	}
	d := &WebDetection{}
	votes := map[string]float64{}
	var total float64
	for _, m := range ms {
		wi := WebImage{URL: m.Path, Score: m.Similarity}
		switch {
		case m.Similarity >= FullMatchSimilarity:
			d.FullMatchingImages = append(d.FullMatchingImages, wi)
		case m.Similarity >= PartialMatchSimilarity:
			d.PartialMatchingImages = append(d.PartialMatchingImages, wi)
		}
		d.VisuallySimilarImages = append(d.VisuallySimilarImages, wi)
		if m.Label != "" {
			votes[m.Label] += max(m.Similarity, 0)
		}
		total += max(m.Similarity, 0)
	}
	for l, v := range votes {
		d.WebEntities = append(d.WebEntities, WebEntity{EntityID: l, Description: l, Score: v / total})
	}
	slices.SortFunc(d.WebEntities, func(a, b WebEntity) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Description, b.Description))
	})
	if w.Labels != nil {
		ls, err := w.Labels.Label(img, 1, 0)
		if err != nil {
			return nil, err
		}
		if len(ls) > 0 {
			d.BestGuessLabels = []WebLabel{{Label: ls[0].Description}}
		}
	} else if len(d.WebEntities) > 0 {
		d.BestGuessLabels = []WebLabel{{Label: d.WebEntities[0].Description}}
	}
	return d, nil
}
