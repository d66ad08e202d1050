package main

import (
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestSummaryTFJS(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"models/tfjs/human/emotion.json", "Output: Identity [? 7]"},
		{"models/tfjs/nsfw-mobilenet-v2/model.json", "TF.js layers-model (Keras 2.2.4)"},
	} {
		path := testutil.SharedFile(t, c.file)
		code, stdout, stderr := runCLI("summary", path)
		if code != 0 || !strings.Contains(stdout, c.want) || !strings.Contains(stdout, "Total params") {
			t.Errorf("summary %s: exit %d, stdout ends %q, stderr %q", c.file, code, stdout[max(0, len(stdout)-300):], stderr)
		}
	}
}
