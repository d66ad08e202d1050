package annotate

import (
	"context"
	"math"
	"testing"
)

// Safe search against TensorFlow.js running the same NSFW file with the
// same resize: probabilities within 0.01, adult VERY_UNLIKELY on the
// three photos, and the categories the model cannot judge UNKNOWN.
func TestSafeSearchMatchesTFJS(t *testing.T) {
	s := sharedSafeSearch(t)
	r := readRefs(t)
	for _, name := range photoNames {
		a, err := s.Detect(context.Background(), sharedPhoto(t, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", name, a)
		for i, c := range NSFWClasses {
			if d := math.Abs(a.ClassScores[c] - r.Photos[name].NSFW[i]); d > 0.01 {
				t.Errorf("%s: P(%s) = %.4f, TF.js %.4f", name, c, a.ClassScores[c], r.Photos[name].NSFW[i])
			}
		}
		if a.Adult != VeryUnlikely || a.Racy != VeryUnlikely {
			t.Errorf("%s: adult %s racy %s, want VERY_UNLIKELY", name, a.Adult, a.Racy)
		}
		if a.Spoof != Unknown || a.Medical != Unknown || a.Violence != Unknown {
			t.Errorf("%s: spoof/medical/violence %s/%s/%s, want UNKNOWN", name, a.Spoof, a.Medical, a.Violence)
		}
	}
}
