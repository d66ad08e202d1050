package smiles

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"slices"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
)

// Labels of the two classes, as in data.SmilesClasses.
const (
	Smiling    = "smiling"
	NotSmiling = "not_smiling"
)

// Face is one face found in a photo and its classification.
type Face struct {
	// Box is the face in the photo's coordinates.
	Box image.Rectangle
	// Neighbors is how many raw cascade windows were merged into Box.
	Neighbors int
	// Label is Smiling or NotSmiling, Probability the model's probability
	// of it (>= 0.5).
	Label       string
	Probability float64
	// SmileProbability is the probability of Smiling.
	SmileProbability float64
}

// Detector finds faces with a Haar cascade and classifies each one as
// smiling or not. It is not safe for concurrent use (the model reuses
// its buffers).
type Detector struct {
	Model   *classifier.Model
	Cascade *detect.Cascade
	Options detect.Options
	smiling int // index of Smiling in Model.Classes
}

// NewDetector checks that m is a smile classifier (classes not_smiling
// and smiling) and returns a detector using cascade with opt.
func NewDetector(m *classifier.Model, cascade *detect.Cascade, opt detect.Options) (*Detector, error) {
	if m == nil || cascade == nil {
		return nil, fmt.Errorf("smiles: a model and a cascade are needed")
	}
	i := slices.Index(m.Classes, Smiling)
	if len(m.Classes) != 2 || i < 0 || !slices.Contains(m.Classes, NotSmiling) {
		return nil, fmt.Errorf("smiles: the model's classes are %q, want %q and %q", m.Classes, NotSmiling, Smiling)
	}
	return &Detector{Model: m, Cascade: cascade, Options: opt, smiling: i}, nil
}

// Detect finds the faces in img and classifies each one, in the order the
// cascade returns them.
func (d *Detector) Detect(img image.Image) ([]Face, error) {
	ds, err := d.Cascade.DetectNeighbors(img, d.Options)
	if err != nil {
		return nil, err
	}
	faces := make([]Face, 0, len(ds))
	for _, det := range ds {
		f, err := d.Classify(img, det.Rect)
		if err != nil {
			return nil, err
		}
		f.Neighbors = det.Neighbors
		faces = append(faces, f)
	}
	return faces, nil
}

// Classify crops box (clipped to img) out of img, prepares it with the
// model's preprocessing and classifies it.
func (d *Detector) Classify(img image.Image, box image.Rectangle) (Face, error) {
	box = box.Canon().Intersect(img.Bounds())
	if box.Empty() {
		return Face{}, fmt.Errorf("smiles: face box outside the %v image", img.Bounds())
	}
	ps, err := d.Model.PredictImage(detect.Crop(img, box), 0)
	if err != nil {
		return Face{}, err
	}
	f := Face{Box: box}
	for _, p := range ps {
		if p.Index == d.smiling {
			f.SmileProbability = p.Probability
		}
	}
	f.Label, f.Probability = NotSmiling, 1-f.SmileProbability
	if f.SmileProbability >= 0.5 {
		f.Label, f.Probability = Smiling, f.SmileProbability
	}
	return f, nil
}

// Box colours of Annotate.
var (
	SmilingColor    = color.RGBA{0, 200, 0, 255}
	NotSmilingColor = color.RGBA{230, 40, 40, 255}
)

// Annotate returns an RGBA copy of img with each face boxed (green:
// smiling, red: not smiling) and labelled with its class and probability.
func Annotate(img image.Image, faces []Face) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	thick := max(2, min(b.Dx(), b.Dy())/200)
	for _, f := range faces {
		c := NotSmilingColor
		if f.Label == Smiling {
			c = SmilingColor
		}
		detect.DrawBox(out, f.Box, c, thick)
		detect.DrawLabel(out, image.Pt(f.Box.Min.X, f.Box.Min.Y-17), fmt.Sprintf("%s %.2f", f.Label, f.Probability), color.White, c)
	}
	return out
}
