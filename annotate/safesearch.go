package annotate

import (
	"context"
	"fmt"
	"image"

	"github.com/dlcv-go/dlcv/tensor"
)

// SafeSearchModel is the file SAFE_SEARCH_DETECTION loads: the NSFW
// MobileNetV2 classifier (nsfwjs) as a TF.js layers model.
const SafeSearchModel = "nsfw-mobilenet-v2"

// NSFWClasses are the safe-search classifier's outputs, in order.
var NSFWClasses = []string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}

const nsfwSize = 224

// SafeSearch is SAFE_SEARCH_DETECTION. Its classifier's five classes
// map onto Cloud Vision's categories as follows (Likelihood turns each
// probability into a likelihood):
//
//   - adult: P(Porn) + P(Hentai), explicit content, photographed or drawn;
//   - racy: P(Porn) + P(Hentai) + P(Sexy), everything adult plus
//     suggestive content;
//   - spoof, medical, violence: UNKNOWN. The model was not trained for
//     them, so it says nothing about them (Drawing is not a spoof).
//
// Safe for concurrent use.
type SafeSearch struct {
	g *graphModel
}

// LoadSafeSearch loads the NSFW model.json (and its shard beside it).
func LoadSafeSearch(path string) (*SafeSearch, error) {
	g, err := loadGraphModel(path, []int{-1, nsfwSize, nsfwSize, 3})
	if err != nil {
		return nil, err
	}
	if len(g.m.Outputs) != 1 {
		return nil, fmt.Errorf("%s: %d outputs, want 1 (the five class probabilities)", path, len(g.m.Outputs))
	}
	return &SafeSearch{g: g}, nil
}

// Detect classifies img.
func (s *SafeSearch) Detect(ctx context.Context, img image.Image) (*SafeSearchAnnotation, error) {
	x := resized(img, nsfwSize, nsfwSize)
	defer release(x)
	for i := range x.Data {
		x.Data[i] /= 255
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var p []float64
	err := s.g.run(x, s.g.m.Outputs, func(ys []*tensor.Tensor) error {
		if len(ys[0].Data) != len(NSFWClasses) {
			return fmt.Errorf("%s: output shape %v, want (1, %d)", s.g.path, ys[0].Shape, len(NSFWClasses))
		}
		for _, v := range ys[0].Data {
			p = append(p, float64(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a := &SafeSearchAnnotation{
		Adult:       Likelihood(p[1] + p[3]),
		Racy:        Likelihood(p[1] + p[3] + p[4]),
		Spoof:       Unknown,
		Medical:     Unknown,
		Violence:    Unknown,
		ClassScores: map[string]float64{},
	}
	for i, c := range NSFWClasses {
		a.ClassScores[c] = p[i]
	}
	return a, nil
}
