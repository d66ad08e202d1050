package classifier

import (
	"image"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
)

// FuzzFromMeta feeds arbitrary class, preprocessing, training and logits
// metadata to FromMeta: it must return a model or an error, and a
// model it returns must classify an image (any size) without failing.
func FuzzFromMeta(f *testing.F) {
	f.Add(`["cat","dog"]`, `{"width":4,"height":3,"channels":1}`, `{"dataset":"mnist","seed":42}`, ``)
	f.Add(`["a","b"]`, `{"width":4,"height":3,"channels":3,"mean":[0.5,0.4,0.3],"aspect_aware":true}`, ``, ``)
	f.Add(`["a","b"]`, `{"width":4,"height":3,"channels":1,"interpolation":"nearest"}`, `[]`, ``)
	f.Add(`null`, `{"width":4,"height":3,"channels":3}`, ``, `true`)
	f.Add(`["a","b"]`, `{"width":4,"height":3,"channels":3}`, ``, `yes`)
	nets := map[int]nn.Model{}
	for _, c := range []int{1, 3} {
		m := nn.NewSequential(nn.NewFlatten(), nn.NewDense(2), nn.NewSoftmax())
		if err := m.Build([]int{3, 4, c}, 1); err != nil {
			f.Fatal(err)
		}
		nets[c] = m
	}
	f.Fuzz(func(t *testing.T, classes, preprocess, training, logits string) {
		for _, net := range nets {
			meta := map[string]string{MetaClasses: classes, MetaPreprocess: preprocess}
			if training != "" {
				meta[MetaTraining] = training
			}
			if logits != "" {
				meta[MetaLogits] = logits
			}
			m, err := FromMeta(net, meta)
			if err != nil {
				continue
			}
			if len(m.Classes) != 2 && len(m.Classes) != 0 {
				t.Fatalf("a 2-output network accepted with classes %q", m.Classes)
			}
			for _, size := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 7, 2)} {
				ps, err := m.PredictImage(image.NewRGBA(size), 0)
				if err != nil {
					t.Fatalf("%s: %v", preprocess, err)
				}
				if len(ps) != 2 {
					t.Fatalf("%d predictions", len(ps))
				}
			}
		}
	})
}
