package annotate

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/imagefile"
	"github.com/dlcv-go/dlcv/internal/testutil"
)

// refs is testdata/refs.json, written by testdata/gen_refs.js from
// TensorFlow.js (wasm backend) running the same model files.
type refs struct {
	TFJS    string `json:"tfjs"`
	Backend string `json:"backend"`
	Photos  map[string]struct {
		Objects []struct {
			Class int        `json:"class"`
			Score float64    `json:"score"`
			Box   [4]float64 `json:"box"`
		} `json:"objects"`
		NSFW []float64 `json:"nsfw"`
	} `json:"photos"`
}

func readRefs(t testing.TB) refs {
	t.Helper()
	b, err := os.ReadFile("testdata/refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var r refs
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("testdata/refs.json: %v", err)
	}
	return r
}

// sharedPhoto decodes one of ../shared/models/coral/*.bmp.
func sharedPhoto(t testing.TB, name string) image.Image {
	t.Helper()
	path := testutil.SharedFile(t, filepath.Join("models/coral", name+".bmp"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagefile.Decode(context.Background(), data, imagefile.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

var photoNames = []string{"cat", "bird", "grace_hopper"}

// Models load once per test binary.
var (
	objOnce  sync.Once
	objDet   *ObjectDetector
	objErr   error
	safeOnce sync.Once
	safeDet  *SafeSearch
	safeErr  error
)

func sharedObjects(t testing.TB) *ObjectDetector {
	path := testutil.SharedFile(t, "models/tfjs/human/centernet.json")
	objOnce.Do(func() { objDet, objErr = LoadObjectDetector(path) })
	if objErr != nil {
		t.Fatal(objErr)
	}
	return objDet
}

func sharedSafeSearch(t testing.TB) *SafeSearch {
	path := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	safeOnce.Do(func() { safeDet, safeErr = LoadSafeSearch(path) })
	if safeErr != nil {
		t.Fatal(safeErr)
	}
	return safeDet
}

var (
	faceOnce sync.Once
	blaze    *BlazeFace
	emo      *Emotion
	faceErr  error
)

func sharedFaceModels(t testing.TB) (*BlazeFace, *Emotion) {
	bp := testutil.SharedFile(t, "models/tfjs/human/blazeface.json")
	ep := testutil.SharedFile(t, "models/tfjs/human/emotion.json")
	faceOnce.Do(func() {
		if blaze, faceErr = LoadBlazeFace(bp); faceErr == nil {
			emo, faceErr = LoadEmotion(ep)
		}
	})
	if faceErr != nil {
		t.Fatal(faceErr)
	}
	return blaze, emo
}

func sharedCascade(t testing.TB) *detect.Cascade {
	c, err := detect.LoadCascade(testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
