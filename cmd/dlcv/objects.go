package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dlcv-go/dlcv/annotate"
)

const objectsExamples = `  dlcv models pull centernet
  dlcv objects photo.jpg                       # person 0.71 at (0.01,0.04)-(0.99,1.00), ...
  dlcv objects photos/ --out boxed/            # labelled boxes drawn on copies
  dlcv objects photo.jpg --min-score 0.5 --json
  dlcv objects photo.jpg --model path/to/centernet.json`

func init() {
	register(&command{
		name:    "objects",
		summary: "find and box objects in photos (CenterNet, 80 COCO classes; Cloud Vision's OBJECT_LOCALIZATION)",
		run:     runObjects,
	})
}

// objectsResult is one photo in the --json output.
type objectsResult struct {
	File      string                               `json:"file"`
	Width     int                                  `json:"width,omitempty"`
	Height    int                                  `json:"height,omitempty"`
	Objects   []annotate.LocalizedObjectAnnotation `json:"localizedObjectAnnotations"`
	Annotated string                               `json:"annotated,omitempty"`
	Error     string                               `json:"error,omitempty"`
}

func runObjects(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("objects", "PHOTO|DIR... [--min-score S] [--max N] [--out DIR] [--json]", objectsExamples, stderr)
	model := fs.String("model", "", "CenterNet model.json `FILE` (default: the registered centernet in the cache)")
	minScore := fs.Float64("min-score", annotate.ObjectMinScore, "least detection score kept (0..1)")
	maxObjects := fs.Int("max", annotate.ObjectMaxResults, "most objects per photo, after non-maximum suppression")
	outDir := fs.String("out", "", "write copies with labelled boxes (PNG) to `DIR`")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo, as Cloud Vision's localizedObjectAnnotations)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one PHOTO or DIR")
	}
	if !(*minScore > 0 && *minScore < 1) || *maxObjects < 1 {
		return usageErrorf("--min-score %v must be in (0, 1) and --max at least 1", *minScore)
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	path, err := annotate.ModelPath(*model, annotate.ObjectsModel, annotate.ObjectLocalization)
	if err != nil {
		return err
	}
	d, err := annotate.LoadObjectDetector(path)
	if err != nil {
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv objects",
		func(p string) (objectsResult, string) {
			r := objectsResult{File: p, Objects: []annotate.LocalizedObjectAnnotation{}}
			img, err := loadPhoto(p)
			if err != nil {
				r.Error = err.Error()
				return r, r.Error
			}
			r.Width, r.Height = img.Bounds().Dx(), img.Bounds().Dy()
			objs, err := d.Detect(context.Background(), img, *maxObjects, *minScore)
			if err != nil {
				r.Error = fmt.Sprintf("%s: %v", p, err)
				return r, r.Error
			}
			r.Objects = append(r.Objects, objs...)
			if *outDir != "" {
				out := annotatedPath(*outDir, p, "_objects")
				if err := writePNG(out, annotate.DrawObjects(img, objs)); err != nil {
					r.Error = err.Error()
					return r, r.Error
				}
				r.Annotated = out
			}
			return r, ""
		}, printObjects)
}

func printObjects(w io.Writer, r objectsResult) {
	fmt.Fprintf(w, "%s: %d objects (%dx%d)\n", r.File, len(r.Objects), r.Width, r.Height)
	for _, o := range r.Objects {
		v := o.BoundingPoly.NormalizedVertices
		fmt.Fprintf(w, "  %-14s %.2f  (%.2f,%.2f)-(%.2f,%.2f)\n", o.Name, o.Score, v[0].X, v[0].Y, v[2].X, v[2].Y)
	}
	if r.Annotated != "" {
		fmt.Fprintf(w, "  annotated: %s\n", r.Annotated)
	}
}
