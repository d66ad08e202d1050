package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

const facesExamples = `  dlcv models pull blazeface && dlcv models pull emotion
  dlcv faces photo.jpg                        # BlazeFace boxes, landmarks, expressions
  dlcv faces frames/ --out annotated          # every image in a directory
  dlcv faces a.jpg b.png --json > faces.json
  dlcv faces photo.jpg --detector haar        # the Viola-Jones cascade, as OpenCV
  dlcv faces photo.jpg --detector haar --min-size 0 --min-neighbors 5 --scale-factor 1.05
  dlcv faces photo.jpg --detector haar --cascade haarcascade_frontalface_alt2.xml`

func init() {
	register(&command{
		name:    "faces",
		summary: "find faces in photos: BlazeFace boxes, landmarks and expressions, or a Haar cascade",
		run:     runFaces,
	})
}

// facesResult is one photo in the --json output.
type facesResult struct {
	File      string                    `json:"file"`
	Width     int                       `json:"width,omitempty"`
	Height    int                       `json:"height,omitempty"`
	Faces     []annotate.FaceAnnotation `json:"faces"`
	Annotated string                    `json:"annotated,omitempty"`
	Error     string                    `json:"error,omitempty"`
}

func runFaces(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("faces", "PHOTO|DIR... [--detector blazeface|haar] [--out DIR] [--json]", facesExamples, stderr)
	detector := fs.String("detector", annotate.DetectorBlazeFace, "face detector: blazeface (boxes and 6 landmarks) or haar (Viola-Jones cascade)")
	blazePath := fs.String("blazeface-model", "", "BlazeFace model.json `FILE` (default: the registered blazeface in the cache)")
	emotionPath := fs.String("emotion-model", "", "expression model.json `FILE` (default: the registered emotion model if downloaded; none: no expressions)")
	cascadePath := fs.String("cascade", "", "Haar cascade XML `FILE`; implies --detector haar (default: "+detect.DebianCascadeDir+"/haarcascade_frontalface_default.xml from the opencv-data package)")
	scale := fs.Float64("scale-factor", 1.1, "haar: size step between pyramid levels (> 1; smaller is slower and finds more)")
	neighbors := fs.Int("min-neighbors", 3, "haar: raw detections a face needs beyond itself (0: no grouping, print every raw window)")
	minSize := fs.Int("min-size", 30, "haar: smallest face side in pixels")
	maxSize := fs.Int("max-size", 0, "haar: largest face side in pixels (0: no limit)")
	maxFaces := fs.Int("max", 100, "most faces per photo, most confident first")
	outDir := fs.String("out", "", "write annotated copies (PNG, boxes numbered as printed) to `DIR`")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo, faces as Cloud Vision's faceAnnotations) instead of text")
	threads := fs.Int("threads", 0, "haar: goroutines (0: all CPUs)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one PHOTO or DIR")
	}
	if !slices.Contains(annotate.FaceDetectors, *detector) {
		return usageErrorf("--detector %q: want blazeface or haar", *detector)
	}
	if !(*scale > 1) {
		return usageErrorf("--scale-factor %v must be greater than 1", *scale)
	}
	if *neighbors < 0 || *minSize < 0 || *maxSize < 0 || *threads < 0 || *maxFaces < 1 {
		return usageErrorf("--min-neighbors, --min-size, --max-size and --threads must not be negative, --max at least 1")
	}
	// A cascade file means the Haar detector unless told otherwise.
	setDetector := false
	fs.Visit(func(fl *flag.Flag) { setDetector = setDetector || fl.Name == "detector" })
	if *cascadePath != "" && !setDetector {
		*detector = annotate.DetectorHaar
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	f := &annotate.Faces{Detector: *detector}
	if *detector == annotate.DetectorHaar {
		path := *cascadePath
		if path == "" {
			path = detect.DefaultCascadePath()
		}
		if f.Cascade, err = detect.LoadCascade(path); err != nil {
			return err
		}
		f.CascadeOptions = detect.Options{ScaleFactor: *scale, MinNeighbors: *neighbors, MinSize: *minSize, MaxSize: *maxSize, Workers: *threads}
		if *neighbors == 0 {
			f.CascadeOptions.MinNeighbors = -1 // OpenCV's minNeighbors=0: no grouping
		}
	} else {
		p, err := annotate.ModelPath(*blazePath, annotate.BlazeFaceModel, annotate.FaceDetection)
		if err != nil {
			return fmt.Errorf("%w (or use --detector haar)", err)
		}
		if f.BlazeFace, err = annotate.LoadBlazeFace(p); err != nil {
			return err
		}
	}
	if *emotionPath != "none" {
		p, err := annotate.ModelPath(*emotionPath, annotate.EmotionModel, annotate.FaceDetection)
		switch {
		case err == nil:
			if f.Emotion, err = annotate.LoadEmotion(p); err != nil {
				return err
			}
		case *emotionPath != "":
			return err
		default:
			fmt.Fprintf(stderr, "dlcv faces: no expressions: %v\n", err)
		}
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv faces",
		func(p string) (facesResult, string) {
			r := facesOne(f, p, *maxFaces, *outDir)
			return r, r.Error
		}, printFaces)
}

func facesOne(f *annotate.Faces, path string, k int, outDir string) facesResult {
	r := facesResult{File: path, Faces: []annotate.FaceAnnotation{}}
	img, err := loadPhoto(path)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b := img.Bounds()
	r.Width, r.Height = b.Dx(), b.Dy()
	faces, err := f.Detect(context.Background(), img, k)
	if err != nil {
		r.Error = fmt.Sprintf("%s: %v", path, err)
		return r
	}
	r.Faces = append(r.Faces, faces...)
	if outDir != "" {
		out := annotatedPath(outDir, path, "_faces")
		if err := writePNG(out, annotate.DrawFaces(img, faces)); err != nil {
			r.Error = err.Error()
			return r
		}
		r.Annotated = out
	}
	return r
}

// annotatedPath names the annotated copy of photo in dir.
func annotatedPath(dir, photo, suffix string) string {
	return filepath.Join(dir, strings.TrimSuffix(filepath.Base(photo), filepath.Ext(photo))+suffix+".png")
}

// writePNG writes img as a PNG, atomically.
func writePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		if err := png.Encode(w, img); err != nil {
			return fmt.Errorf("writing %s: %v", path, err)
		}
		return nil
	})
}

func printFaces(w io.Writer, r facesResult) {
	noun := "faces"
	if len(r.Faces) == 1 {
		noun = "face"
	}
	fmt.Fprintf(w, "%s: %d %s (%dx%d)\n", r.File, len(r.Faces), noun, r.Width, r.Height)
	for i, f := range r.Faces {
		v := f.FdBoundingPoly.Vertices
		fmt.Fprintf(w, "  %d: x=%d y=%d w=%d h=%d confidence=%.2f", i+1, v[0].X, v[0].Y, v[2].X-v[0].X, v[2].Y-v[0].Y, f.DetectionConfidence)
		if len(f.Landmarks) > 0 {
			fmt.Fprintf(w, " roll=%.1f°", f.RollAngle)
		}
		if f.JoyLikelihood != annotate.Unknown || f.SorrowLikelihood != annotate.Unknown {
			fmt.Fprintf(w, " joy=%s sorrow=%s anger=%s surprise=%s", f.JoyLikelihood, f.SorrowLikelihood, f.AngerLikelihood, f.SurpriseLikelihood)
		}
		fmt.Fprintln(w)
		for _, l := range f.Landmarks {
			fmt.Fprintf(w, "     %-17s %.0f,%.0f\n", l.Type, l.Position.X, l.Position.Y)
		}
	}
	if r.Annotated != "" {
		fmt.Fprintf(w, "  annotated: %s\n", r.Annotated)
	}
}
