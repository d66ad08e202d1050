package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/annotate"
)

const safesearchExamples = `  dlcv models pull nsfw-mobilenet-v2
  dlcv safesearch photo.jpg                    # adult VERY_UNLIKELY, racy VERY_UNLIKELY, ...
  dlcv safesearch photos/ --json
  dlcv safesearch photo.jpg --model path/to/model.json`

func init() {
	register(&command{
		name:    "safesearch",
		summary: "rate photos for adult and racy content (NSFW MobileNetV2; Cloud Vision's SAFE_SEARCH_DETECTION)",
		run:     runSafeSearch,
	})
}

// safeSearchResult is one photo in the --json output.
type safeSearchResult struct {
	File       string                         `json:"file"`
	SafeSearch *annotate.SafeSearchAnnotation `json:"safeSearchAnnotation,omitempty"`
	Error      string                         `json:"error,omitempty"`
}

func runSafeSearch(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("safesearch", "PHOTO|DIR... [--json]", safesearchExamples, stderr)
	model := fs.String("model", "", "NSFW model.json `FILE` (default: the registered nsfw-mobilenet-v2 in the cache)")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo, as Cloud Vision's safeSearchAnnotation)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one PHOTO or DIR")
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	path, err := annotate.ModelPath(*model, annotate.SafeSearchModel, annotate.SafeSearchDetection)
	if err != nil {
		return err
	}
	s, err := annotate.LoadSafeSearch(path)
	if err != nil {
		return err
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv safesearch",
		func(p string) (safeSearchResult, string) {
			r := safeSearchResult{File: p}
			img, err := loadPhoto(p)
			if err != nil {
				r.Error = err.Error()
				return r, r.Error
			}
			if r.SafeSearch, err = s.Detect(context.Background(), img); err != nil {
				r.Error = fmt.Sprintf("%s: %v", p, err)
			}
			return r, r.Error
		}, printSafeSearch)
}

func printSafeSearch(w io.Writer, r safeSearchResult) {
	a := r.SafeSearch
	fmt.Fprintf(w, "%s: adult %s, racy %s, spoof %s, medical %s, violence %s\n", r.File, a.Adult, a.Racy, a.Spoof, a.Medical, a.Violence)
	fmt.Fprintf(w, "  ")
	for i, c := range annotate.NSFWClasses {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %.3f", c, a.ClassScores[c])
	}
	fmt.Fprintln(w)
}
