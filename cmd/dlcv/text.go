package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dlcv-go/dlcv/annotate"
)

const textExamples = `  dlcv models pull ppocr-v4
  dlcv text scan.png                           # the text, line by line
  dlcv text photos/ --json                     # Cloud Vision's textAnnotations per photo
  dlcv text scan.png --model path/to/paddleocr/`

func init() {
	register(&command{
		name:    "text",
		summary: "read the text in photos (PP-OCRv4 detection + recognition; Cloud Vision's TEXT_DETECTION)",
		run:     runText,
	})
}

type textResult struct {
	File            string                    `json:"file"`
	Text            string                    `json:"text"`
	TextAnnotations []annotate.TextAnnotation `json:"textAnnotations"`
	Error           string                    `json:"error,omitempty"`
}

func runText(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("text", "PHOTO|DIR... [--json]", textExamples, stderr)
	model := fs.String("model", "", "`DIR` of the PP-OCRv4 files (default: the registered ppocr-v4 in the cache)")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo, with Cloud Vision's textAnnotations)")
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
	dir := *model
	if dir == "" {
		p, err := annotate.ModelPath("", annotate.TextModel, annotate.TextDetection)
		if err != nil {
			return err
		}
		dir = filepath.Dir(p)
	} else if st, err := os.Stat(dir); err != nil {
		return err
	} else if !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	tx, err := annotate.LoadText(dir)
	if err != nil {
		return err
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv text",
		func(p string) (textResult, string) {
			r := textResult{File: p, TextAnnotations: []annotate.TextAnnotation{}}
			img, err := loadPhoto(p)
			if err != nil {
				r.Error = err.Error()
				return r, r.Error
			}
			anns, text, err := tx.Detect(context.Background(), img)
			if err != nil {
				r.Error = fmt.Sprintf("%s: %v", p, err)
				return r, r.Error
			}
			r.Text = text
			r.TextAnnotations = append(r.TextAnnotations, anns...)
			return r, ""
		}, func(w io.Writer, r textResult) {
			if r.Text == "" {
				fmt.Fprintf(w, "%s: no text\n", r.File)
				return
			}
			fmt.Fprintf(w, "%s:\n%s\n", r.File, r.Text)
		})
}
