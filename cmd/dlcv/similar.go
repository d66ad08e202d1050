package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/annotate"
)

const similarExamples = `  dlcv similar query.jpg --index photos.index
  dlcv similar a.jpg b.jpg --index photos.index --top 10 --json`

func init() {
	register(&command{
		name:    "similar",
		summary: "find the indexed images most like a photo (exact cosine search; see 'dlcv index')",
		run:     runSimilar,
	})
}

type similarResult struct {
	File         string                 `json:"file"`
	WebDetection *annotate.WebDetection `json:"webDetection,omitempty"`
	Error        string                 `json:"error,omitempty"`
}

func runSimilar(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("similar", "PHOTO... --index INDEX [--top K] [--json]", similarExamples, stderr)
	indexPath := fs.String("index", "", "index `FILE` made by 'dlcv index'")
	top := fs.Int("top", 5, "most similar images to list")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo, as Cloud Vision's webDetection)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *indexPath == "" {
		return usageErrorf("want at least one PHOTO and --index INDEX")
	}
	if *top < 1 {
		return usageErrorf("--top %d: want at least 1", *top)
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	x, err := annotate.LoadIndex(*indexPath)
	if err != nil {
		return err
	}
	e, err := annotate.LoadEmbedder(x.Backbone)
	if err != nil {
		return fmt.Errorf("the index's backbone: %w", err)
	}
	w := &annotate.Web{Index: x, Embedder: e}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv similar",
		func(p string) (similarResult, string) {
			r := similarResult{File: p}
			img, err := loadPhoto(p)
			if err != nil {
				r.Error = err.Error()
				return r, r.Error
			}
			if r.WebDetection, err = w.Detect(context.Background(), img, *top); err != nil {
				r.Error = fmt.Sprintf("%s: %v", p, err)
			}
			return r, r.Error
		}, func(out io.Writer, r similarResult) {
			d := r.WebDetection
			fmt.Fprintf(out, "%s:\n", r.File)
			for _, m := range d.VisuallySimilarImages {
				kind := ""
				switch {
				case m.Score >= annotate.FullMatchSimilarity:
					kind = "  (full match)"
				case m.Score >= annotate.PartialMatchSimilarity:
					kind = "  (partial match)"
				}
				fmt.Fprintf(out, "  %.3f  %s%s\n", m.Score, m.URL, kind)
			}
			for _, en := range d.WebEntities {
				fmt.Fprintf(out, "  entity %s %.2f\n", en.Description, en.Score)
			}
		})
}
