package main

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/detect"
)

const facesExamples = `  dlcv faces photo.jpg
  dlcv faces frames/ --out annotated          # every image in a directory
  dlcv faces a.jpg b.png --json > faces.json
  dlcv faces photo.jpg --min-size 0 --min-neighbors 5 --scale-factor 1.05
  dlcv faces photo.jpg --cascade haarcascade_frontalface_alt2.xml`

func init() {
	register(&command{
		name:    "faces",
		summary: "find faces in photos with a Haar cascade (Viola-Jones, like OpenCV)",
		run:     runFaces,
	})
}

// facesResult is one photo in the --json output.
type facesResult struct {
	File      string     `json:"file"`
	Width     int        `json:"width,omitempty"`
	Height    int        `json:"height,omitempty"`
	Faces     []faceJSON `json:"faces"`
	Annotated string     `json:"annotated,omitempty"`
	Error     string     `json:"error,omitempty"`
}

type faceJSON struct {
	X         int `json:"x"`
	Y         int `json:"y"`
	W         int `json:"w"`
	H         int `json:"h"`
	Neighbors int `json:"neighbors"`
}

func runFaces(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("faces", "PHOTO|DIR... [--cascade FILE] [--out DIR] [--json]", facesExamples, stderr)
	cascadePath := fs.String("cascade", "", "Haar cascade XML `FILE` (default: "+detect.DebianCascadeDir+"/haarcascade_frontalface_default.xml from the opencv-data package)")
	scale := fs.Float64("scale-factor", 1.1, "size step between pyramid levels (> 1; smaller is slower and finds more)")
	neighbors := fs.Int("min-neighbors", 3, "raw detections a face needs beyond itself (0: no grouping, print every raw window)")
	minSize := fs.Int("min-size", 30, "smallest face side in pixels")
	maxSize := fs.Int("max-size", 0, "largest face side in pixels (0: no limit)")
	outDir := fs.String("out", "", "write annotated copies (PNG, boxes numbered as printed) to `DIR`")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo) instead of text")
	threads := fs.Int("threads", 0, "goroutines (0: all CPUs)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one PHOTO or DIR")
	}
	if !(*scale > 1) {
		return usageErrorf("--scale-factor %v must be greater than 1", *scale)
	}
	if *neighbors < 0 || *minSize < 0 || *maxSize < 0 || *threads < 0 {
		return usageErrorf("--min-neighbors, --min-size, --max-size and --threads must not be negative")
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	path := *cascadePath
	if path == "" {
		path = detect.DefaultCascadePath()
	}
	cascade, err := detect.LoadCascade(path)
	if err != nil {
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	opt := detect.Options{ScaleFactor: *scale, MinNeighbors: *neighbors, MinSize: *minSize, MaxSize: *maxSize, Workers: *threads}
	if *neighbors == 0 {
		opt.MinNeighbors = -1 // OpenCV's minNeighbors=0: no grouping
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv faces",
		func(p string) (facesResult, string) {
			r := facesOne(cascade, p, opt, *outDir)
			return r, r.Error
		}, printFaces)
}

func facesOne(c *detect.Cascade, path string, opt detect.Options, outDir string) facesResult {
	r := facesResult{File: path, Faces: []faceJSON{}}
	img, err := loadPhoto(path)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b := img.Bounds()
	r.Width, r.Height = b.Dx(), b.Dy()
	ds, err := c.DetectNeighbors(img, opt)
	if err != nil {
		r.Error = fmt.Sprintf("%s: %v", path, err)
		return r
	}
	for _, d := range ds {
		r.Faces = append(r.Faces, faceJSON{d.Rect.Min.X, d.Rect.Min.Y, d.Rect.Dx(), d.Rect.Dy(), d.Neighbors})
	}
	if outDir != "" {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + "_faces.png"
		out := filepath.Join(outDir, name)
		if err := writePNG(out, detect.Annotate(img, ds)); err != nil {
			r.Error = err.Error()
			return r
		}
		r.Annotated = out
	}
	return r
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return f.Close()
}

func printFaces(w io.Writer, r facesResult) {
	noun := "faces"
	if len(r.Faces) == 1 {
		noun = "face"
	}
	fmt.Fprintf(w, "%s: %d %s (%dx%d)\n", r.File, len(r.Faces), noun, r.Width, r.Height)
	for i, f := range r.Faces {
		fmt.Fprintf(w, "  %d: x=%d y=%d w=%d h=%d neighbors=%d\n", i+1, f.X, f.Y, f.W, f.H, f.Neighbors)
	}
	if r.Annotated != "" {
		fmt.Fprintf(w, "  annotated: %s\n", r.Annotated)
	}
}
