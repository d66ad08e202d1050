package vision

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/internal/imagefile"
)

// FuzzDecodeRequest feeds arbitrary bodies to the JSON request decoder and
// the image decoder behind it: they must return a request or an error
// (never panic), and what they accept must respect the limits.
func FuzzDecodeRequest(f *testing.F) {
	img := base64.StdEncoding.EncodeToString(pngBytes(f, twoColors(4, 3, 0.5)))
	for _, seed := range []string{
		`{"requests":[{"image":{"content":"` + img + `"},"features":[{"type":"IMAGE_PROPERTIES","maxResults":3}]}]}`,
		`{"requests":[{"image":{"content":"` + img + `"},"features":[{"type":"CUSTOM_MODEL","model":"digits"}]}]}`,
		`{"requests":[{"image":{"source":{"imageUri":"../etc/passwd"}},"features":[{"type":"IMAGE_PROPERTIES"}]}]}`,
		`{"requests":[{"image":{"content":"R0lGODlhAQABAAAAACw="},"features":[{"type":"LABEL_DETECTION"}]}]}`,
		`{"requests":[]}`, `{"requests":[{}]}`, `[]`, `null`, `{"requests":[{"image":{"content":"%%%"}}]}`,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Config{Custom: map[string]*classifier.Model{"digits": {Classes: []string{"a", "b"}}}, Limits: Limits{MaxImages: 4, MaxPixels: 1 << 16}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		jobs, err := s.decodeJSON(body, nil)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.http() < 400 || ae.http() > 499 || ae.msg == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(jobs) == 0 || len(jobs) > 4 {
			t.Fatalf("%d jobs accepted", len(jobs))
		}
		for _, j := range jobs {
			if len(j.features) == 0 {
				t.Fatal("a job without features")
			}
			for _, ft := range j.features {
				if ft.MaxResults < 1 || ft.MaxResults > maxMaxResults {
					t.Fatalf("maxResults %d", ft.MaxResults)
				}
			}
			if j.err != nil {
				continue
			}
			im, err := imagefile.Decode(context.Background(), j.data, imagefile.Limits{MaxPixels: 1 << 16})
			if err == nil && int64(im.Bounds().Dx())*int64(im.Bounds().Dy()) > 1<<16 {
				t.Fatalf("decoded a %v image over the pixel limit", im.Bounds())
			}
		}
	})
}
