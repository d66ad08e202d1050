package annotate

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
)

// DefaultMinScore is the least score a label needs to be returned (Cloud
// Vision returns no labels of score zero).
const DefaultMinScore = 0.01

// Annotator computes the features of one image with whichever models are
// loaded (any field may be nil). It is safe for concurrent use.
type Annotator struct {
	Labels     *Labeler
	Objects    *ObjectDetector
	SafeSearch *SafeSearch
	Faces      *Faces
	Web        *Web
	Text       *Text
	// Custom serves CUSTOM_MODEL features, by model name.
	Custom map[string]*classifier.Model
	// MinScore drops labels (LABEL_DETECTION and CUSTOM_MODEL) scoring
	// less; 0 keeps every label, the service's default is
	// DefaultMinScore.
	MinScore float64
}

// Available reports whether a feature can run: nil, or a
// *MissingModelError (or another error) saying why not.
func (a *Annotator) Available(f Feature) error {
	switch f.Type {
	case LabelDetection:
		if a.Labels == nil {
			return missingModel("mobilenet-v2", f.Type)
		}
	case ImageProperties:
	case ObjectLocalization:
		if a.Objects == nil {
			return missingModel(ObjectsModel, f.Type)
		}
	case SafeSearchDetection:
		if a.SafeSearch == nil {
			return missingModel(SafeSearchModel, f.Type)
		}
	case WebDetectionType:
		if a.Web == nil {
			return &MissingModelError{Model: "image index", Feature: f.Type, hint: "make one with 'dlcv index DIR --out INDEX' and start the server with --index INDEX"}
		}
	case TextDetection:
		if a.Text == nil {
			return missingModel(TextModel, f.Type)
		}
	case FaceDetection:
		if a.Faces == nil {
			return missingModel(BlazeFaceModel, f.Type)
		}
		_, err := a.Faces.detector()
		return err
	case CustomModel:
		if a.Custom[f.Model] == nil {
			return fmt.Errorf("unknown custom model %q (loaded: %s)", f.Model, strings.Join(a.CustomNames(), ", "))
		}
	default:
		return fmt.Errorf("unknown feature type %q: want one of %s", f.Type, strings.Join(FeatureTypes, ", "))
	}
	return nil
}

// CustomNames lists the custom models, sorted.
func (a *Annotator) CustomNames() []string {
	names := make([]string, 0, len(a.Custom))
	for n := range a.Custom {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Annotate computes one feature of img into out (MaxResults 0: 10).
func (a *Annotator) Annotate(ctx context.Context, img image.Image, f Feature, out *ImageResponse) error {
	if err := a.Available(f); err != nil {
		return err
	}
	k := f.MaxResults
	if k <= 0 {
		k = 10
	}
	var err error
	switch f.Type {
	case LabelDetection:
		out.LabelAnnotations, err = a.Labels.Label(img, k, a.MinScore)
	case ImageProperties:
		out.ImagePropertiesAnnotation = Properties(img, k)
	case ObjectLocalization:
		out.LocalizedObjectAnnotations, err = a.Objects.Detect(ctx, img, k, 0)
	case SafeSearchDetection:
		out.SafeSearchAnnotation, err = a.SafeSearch.Detect(ctx, img)
	case FaceDetection:
		out.FaceAnnotations, err = a.Faces.Detect(ctx, img, k)
	case WebDetectionType:
		out.WebDetection, err = a.Web.Detect(ctx, img, k)
	case TextDetection:
		var text string
		if out.TextAnnotations, text, err = a.Text.Detect(ctx, img); err == nil && text != "" {
			out.FullTextAnnotation = &FullTextAnnotation{Text: text}
		}
	case CustomModel:
		ps, perr := a.Custom[f.Model].PredictImage(img, k)
		if perr != nil {
			return perr
		}
		c := CustomAnnotation{Model: f.Model, Labels: []EntityAnnotation{}}
		for _, p := range ps {
			if p.Probability >= a.MinScore {
				c.Labels = append(c.Labels, EntityAnnotation{Description: p.Label, Score: p.Probability, Topicality: p.Probability})
			}
		}
		out.CustomAnnotations = append(out.CustomAnnotations, c)
	}
	return err
}
