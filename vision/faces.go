package vision

import (
	"context"
	"image"
	"sort"

	"github.com/dlcv-go/dlcv/detect"
)

// Likelihoods are Cloud Vision's likelihood values, least likely first.
var Likelihoods = []string{"UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"}

// Likelihood maps a probability to a likelihood name: below 0.2
// VERY_UNLIKELY, below 0.4 UNLIKELY, below 0.6 POSSIBLE, below 0.8 LIKELY,
// else VERY_LIKELY (equal fifths of [0,1]).
func Likelihood(p float64) string {
	switch {
	case p < 0.2:
		return "VERY_UNLIKELY"
	case p < 0.4:
		return "UNLIKELY"
	case p < 0.6:
		return "POSSIBLE"
	case p < 0.8:
		return "LIKELY"
	default:
		return "VERY_LIKELY"
	}
}

// faces finds up to k faces, most confident first, and, with a smile model, their joy.
func (s *Server) faces(ctx context.Context, img image.Image, k int) ([]FaceAnnotation, error) {
	ds, err := s.cascade.DetectNeighbors(img, s.faceOptions)
	if err != nil {
		return nil, err
	}
	// Most confident first, so that maxResults keeps the best.
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Neighbors > ds[j].Neighbors })
	if len(ds) > k {
		ds = ds[:k]
	}
	out := make([]FaceAnnotation, 0, len(ds))
	for _, d := range ds {
		r := d.Rect
		f := FaceAnnotation{
			BoundingPoly: BoundingPoly{Vertices: []Vertex{
				{r.Min.X, r.Min.Y}, {r.Max.X, r.Min.Y}, {r.Max.X, r.Max.Y}, {r.Min.X, r.Max.Y},
			}},
			DetectionConfidence: 1 - 1/float64(1+d.Neighbors),
			JoyLikelihood:       "UNKNOWN",
		}
		if s.smiles != nil {
			p, err := s.smileProbability(ctx, img, r)
			if err != nil {
				return nil, err
			}
			f.JoyLikelihood = Likelihood(p)
			f.JoyProbability = &p
		}
		out = append(out, f)
	}
	return out, nil
}

// smileProbability classifies the face crop with the smile model (classes
// "not_smiling" and "smiling", as written by 'dlcv smiles train').
func (s *Server) smileProbability(ctx context.Context, img image.Image, box image.Rectangle) (float64, error) {
	crop := detect.Crop(img, box)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ps, err := s.smiles.PredictImage(crop, 0)
	if err != nil {
		return 0, err
	}
	for _, q := range ps {
		if q.Index == s.smileIndex {
			return q.Probability, nil
		}
	}
	return 0, nil
}
