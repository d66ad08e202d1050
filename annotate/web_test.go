package annotate

import (
	"cmp"
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/internal/imagefile"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/nn"
)

func nnRNG(seed uint64) func() float64 { return nn.NewRNG(seed).Float64 }

var (
	embOnce sync.Once
	emb     *Embedder
	embErr  error
)

func sharedEmbedder(t testing.TB) *Embedder {
	path := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	embOnce.Do(func() { emb, embErr = LoadEmbedder(path) })
	if embErr != nil {
		t.Fatal(embErr)
	}
	return emb
}

// animalsSplit links the first `index` photos of each class of
// ../shared/data/animals into a temporary folder (cats/, dogs/, panda/)
// and returns it with the `query` last photos of each class.
func animalsSplit(t testing.TB, index, query int) (dir string, queries map[string][]string) {
	src := testutil.SharedFile(t, "data/animals")
	dir = t.TempDir()
	queries = map[string][]string{}
	for _, c := range []string{"cats", "dogs", "panda"} {
		es, err := os.ReadDir(filepath.Join(src, c))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		slices.Sort(names)
		if len(names) < index+query {
			t.Fatalf("%s/%s: %d photos, want %d", src, c, len(names), index+query)
		}
		os.MkdirAll(filepath.Join(dir, c), 0o755)
		for _, n := range names[:index] {
			// Links, so that nothing is copied; the tests change only
			// the links, never the shared files.
			if err := os.Symlink(filepath.Join(src, c, n), filepath.Join(dir, c, n)); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range names[len(names)-query:] {
			queries[c] = append(queries[c], filepath.Join(src, c, n))
		}
	}
	return dir, queries
}

// retrieval is the share of queries whose top-5 similar images are in
// the majority of the query's class.
func retrieval(t testing.TB, w *Web, queries map[string][]string) (float64, time.Duration) {
	good, n := 0, 0
	var search time.Duration
	for class, qs := range queries {
		for _, q := range qs {
			d, err := w.Detect(context.Background(), readPhoto(t, q), 5)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			v, _ := w.Embedder.Embed(readPhoto(t, q))
			_, _ = w.Index.Search(v, 5)
			search += time.Since(t0)
			same := 0
			for _, m := range d.VisuallySimilarImages {
				if filepath.Dir(m.URL) == class {
					same++
				}
			}
			if same >= 3 {
				good++
			}
			n++
		}
	}
	return float64(good) / float64(n), search / time.Duration(n)
}

func readPhoto(t testing.TB, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagefile.Decode(context.Background(), data, imagefile.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// A small index of the animals (20 photos a class): held-out photos find
// their class, the index round-trips through its file, and re-indexing
// embeds only what changed.
func TestWebIndexAndSearch(t *testing.T) {
	e := sharedEmbedder(t)
	dir, queries := animalsSplit(t, 20, 5)
	x, st, err := BuildIndex(context.Background(), dir, e, IndexOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Entries) != 60 || st.Embedded != 60 || x.Dim != 1280 {
		t.Fatalf("%d entries, stats %+v, dim %d", len(x.Entries), st, x.Dim)
	}
	acc, _ := retrieval(t, &Web{Index: x, Embedder: e}, queries)
	t.Logf("top-5 majority of the query's class: %.0f%% of 15 queries", 100*acc)
	if acc < 0.9 {
		t.Errorf("retrieval %.2f, want >= 0.9", acc)
	}
	// An image of the index is its own full match.
	self := filepath.Join(dir, x.Entries[0].Path)
	d, err := (&Web{Index: x, Embedder: e}).Detect(context.Background(), readPhoto(t, self), 3)
	if err != nil || len(d.FullMatchingImages) == 0 || d.FullMatchingImages[0].URL != x.Entries[0].Path ||
		math.Abs(d.FullMatchingImages[0].Score-1) > 1e-4 || len(d.BestGuessLabels) != 1 || d.WebEntities[0].Description != x.Entries[0].Label {
		t.Fatalf("self query: %v %+v", err, d)
	}

	path := filepath.Join(t.TempDir(), "a.index")
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	y, err := LoadIndex(path)
	if err != nil || len(y.Entries) != 60 || !slices.Equal(y.Vectors, x.Vectors) || y.Backbone != x.Backbone {
		t.Fatalf("reloaded: %v", err)
	}
	// Change one file, remove one, add one: only two are embedded.
	os.Remove(filepath.Join(dir, x.Entries[1].Path))
	// A changed file: the link now points at another photo (BuildIndex
	// stats the file a link names).
	ch := filepath.Join(dir, x.Entries[2].Path)
	os.Remove(ch)
	os.Symlink(queries["dogs"][0], ch)
	os.Symlink(queries["cats"][0], filepath.Join(dir, "cats", "new.jpg"))
	z, st, err := BuildIndex(context.Background(), dir, e, IndexOptions{Previous: y})
	if err != nil || len(z.Entries) != 60 || st.Embedded != 2 || st.Kept != 58 || st.Removed != 1 {
		t.Fatalf("incremental: %v, %d entries, %+v", err, len(z.Entries), st)
	}
	if _, _, err := BuildIndex(context.Background(), dir, &Embedder{Name: "other"}, IndexOptions{Previous: y}); err == nil {
		t.Error("an index of another backbone was updated")
	}
}

// The acceptance run: index the 3,000 animals less 50 held-out
// photos a class, and query those 150. Long (minutes): set
// DLCV_WEB_ACCURACY=1 (bench/vision/web.sh does).
func TestWebRetrievalAnimals(t *testing.T) {
	if os.Getenv("DLCV_WEB_ACCURACY") == "" {
		t.Skip("set DLCV_WEB_ACCURACY=1 to index the 3,000 animals (minutes)")
	}
	e := sharedEmbedder(t)
	dir, queries := animalsSplit(t, 950, 50)
	t0 := time.Now()
	x, _, err := BuildIndex(context.Background(), dir, e, IndexOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("indexed %d photos in %v", len(x.Entries), time.Since(t0).Round(time.Second))
	acc, q := retrieval(t, &Web{Index: x, Embedder: e}, queries)
	t.Logf("top-5 majority of the query's class: %.1f%% of %d queries (embed + search %v a query)", 100*acc, 150, q)
	if acc < 0.9 {
		t.Errorf("retrieval %.3f, want >= 0.9", acc)
	}
}

// BenchmarkSearch is the exact cosine search over N random unit vectors
// of MobileNet v2's 1,280 values (docs/web.md: the size up to which a
// query stays under 50 ms).
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{3000, 30000, 100000, 300000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rng := nnRNG(1)
			x := &Index{Dim: 1280, Entries: make([]IndexEntry, n), Vectors: make([]float32, n*1280)}
			for i := range x.Vectors {
				x.Vectors[i] = float32(rng() - 0.5)
			}
			for i := range n {
				normalize(x.Vectors[i*1280 : (i+1)*1280])
			}
			q := append([]float32(nil), x.Vectors[:1280]...)
			for b.Loop() {
				if _, err := x.Search(q, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTopSimilar(t *testing.T) {
	rng := nnRNG(5)
	sims := make([]float32, 1000)
	for i := range sims {
		sims[i] = float32(int(rng() * 30)) // ties
	}
	idx := make([]int, len(sims))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(sims[b], sims[a]) })
	for _, k := range []int{0, 1, 7, 1000} {
		if got := topSimilar(sims, k); !slices.Equal(got, idx[:k]) {
			t.Fatalf("k=%d: %v, want %v", k, got[:min(k, 10)], idx[:min(k, 10)])
		}
	}
}
