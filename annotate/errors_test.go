package annotate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// A model file that is not the feature's model, or not a model at all,
// is an error naming the file and what is wrong, never a panic.
func TestWrongModelFiles(t *testing.T) {
	h := testutil.SharedFile(t, "models/tfjs/human")
	nsfw := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	junk := filepath.Join(t.TempDir(), "model.json")
	os.WriteFile(junk, []byte(`{"format": "graph-model", "modelTopology": {"node": [`), 0o644)
	for _, c := range []struct {
		name string
		load func() error
		want string
	}{
		{"objects from blazeface", func() error { _, err := LoadObjectDetector(filepath.Join(h, "blazeface.json")); return err }, "blazeface.json: input shape"},
		{"safe search from centernet", func() error { _, err := LoadSafeSearch(filepath.Join(h, "centernet.json")); return err }, "centernet.json: input shape"},
		{"blazeface from emotion", func() error { _, err := LoadBlazeFace(filepath.Join(h, "emotion.json")); return err }, "emotion.json: input shape"},
		{"emotion from nsfw", func() error { _, err := LoadEmotion(nsfw); return err }, "model.json: input shape"},
		{"truncated json", func() error { _, err := LoadObjectDetector(junk); return err }, "model.json"},
		{"missing file", func() error { _, err := LoadSafeSearch(filepath.Join(t.TempDir(), "none.json")); return err }, "none.json"},
		{"text without its files", func() error { _, err := LoadText(t.TempDir()); return err }, "ch_PP-OCRv4_det_infer.onnx"},
		{"index from a model", func() error { _, err := LoadIndex(nsfw); return err }, "model.json: not an image index"},
	} {
		err := c.load()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
