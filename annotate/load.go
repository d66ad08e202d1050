package annotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlcv-go/dlcv/pretrained"
)

// ModelPath resolves a model argument: a file path is used as it is; ""
// means the registered model name, downloaded into the cache with 'dlcv
// models pull NAME'. A registered model that is not in the cache is a
// *MissingModelError for feature.
func ModelPath(arg, name, feature string) (string, error) {
	if arg != "" {
		if _, err := os.Stat(arg); err != nil {
			return "", err
		}
		return arg, nil
	}
	m, err := pretrained.Lookup(name)
	if err != nil {
		return "", err
	}
	for _, f := range m.Files() {
		if !pretrained.Present(f) {
			return "", missingModel(name, feature)
		}
	}
	p, _, err := pretrained.Resolve(name)
	return p, err
}

// Load options: the file of each model ("" the registered model from the
// cache, "none" off).
type LoadOptions struct {
	Objects, SafeSearch, BlazeFace, Emotion string
	// Text is the folder of the PP-OCRv4 files (or a file in it).
	Text string
}

// Off is a feature model that was not loaded, and why.
type Off struct {
	Model string
	Err   error
}

// LoadModels loads the feature models that are present: a model that is
// not downloaded (or "none") is left nil and listed in off; a model file
// that is present but does not load is an error.
func LoadModels(o LoadOptions) (objects *ObjectDetector, safe *SafeSearch, blaze *BlazeFace, emotion *Emotion, text *Text, off []Off, err error) {
	load := func(arg, name, feature string, f func(path string) error) error {
		if arg == "none" {
			off = append(off, Off{name, fmt.Errorf("%s: turned off", name)})
			return nil
		}
		p, err := ModelPath(arg, name, feature)
		var mm *MissingModelError
		if errors.As(err, &mm) {
			off = append(off, Off{name, err})
			return nil
		}
		if err != nil {
			return err
		}
		return f(p)
	}
	err = errors.Join(
		load(o.Objects, ObjectsModel, ObjectLocalization, func(p string) (e error) { objects, e = LoadObjectDetector(p); return }),
		load(o.SafeSearch, SafeSearchModel, SafeSearchDetection, func(p string) (e error) { safe, e = LoadSafeSearch(p); return }),
		load(o.BlazeFace, BlazeFaceModel, FaceDetection, func(p string) (e error) { blaze, e = LoadBlazeFace(p); return }),
		load(o.Text, TextModel, TextDetection, func(p string) (e error) {
			if st, serr := os.Stat(p); serr == nil && !st.IsDir() {
				p = filepath.Dir(p)
			}
			text, e = LoadText(p)
			return
		}),
		load(o.Emotion, EmotionModel, FaceDetection, func(p string) (e error) { emotion, e = LoadEmotion(p); return }),
	)
	return
}
