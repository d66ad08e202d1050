package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyCascade is a valid 4x4 cascade: one stage with two stumps, one
// feature upright and one tilted.
const tinyCascade = `<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>4</height>
  <width>4</width>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-1.5e-01</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 0 1.0e-02</internalNodes>
          <leafValues>
            -5.0e-01 5.0e-01</leafValues></_>
        <_>
          <internalNodes>
            0 -1 1 -2.0e-02</internalNodes>
          <leafValues>
            3.0e-01 -3.0e-01</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_>
      <rects>
        <_>
          0 0 4 4 -1.</_>
        <_>
          0 0 2 4 2.</_></rects></_>
    <_>
      <rects>
        <_>
          2 0 2 2 -1.</_>
        <_>
          2 0 1 1 4.</_></rects>
      <tilted>1</tilted></_></features></cascade>
</opencv_storage>
`

func TestParseTinyCascade(t *testing.T) {
	c, err := ParseCascade([]byte(tinyCascade))
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 4 || c.Height != 4 || c.Stages() != 1 {
		t.Fatalf("got %dx%d, %d stages", c.Width, c.Height, c.Stages())
	}
	if n, tilted := c.Features(); n != 2 || !tilted {
		t.Fatalf("features %d tilted %v", n, tilted)
	}
	if got, want := c.stages[0].threshold, float32(-0.15)-thresholdEps; got != want {
		t.Errorf("stage threshold %v, want %v", got, want)
	}
	if !c.stumps || c.trees[1].leaves[1] != float32(-0.3) || c.features[0].weight[1] != 2 {
		t.Errorf("parsed %+v %+v", c.trees, c.features)
	}
}

func TestLoadSharedCascades(t *testing.T) {
	for _, tc := range []struct {
		name         string
		w, h, stages int
		tilted       bool
	}{
		{"haarcascade_frontalface_default.xml", 24, 24, 25, false},
		{"haarcascade_eye.xml", 20, 20, 24, false},
		{"haarcascade_smile.xml", 36, 18, 20, true},
	} {
		c := sharedCascade(t, tc.name)
		_, tilted := c.Features()
		if c.Width != tc.w || c.Height != tc.h || c.Stages() != tc.stages || tilted != tc.tilted {
			t.Errorf("%s: %dx%d %d stages tilted %v", tc.name, c.Width, c.Height, c.Stages(), tilted)
		}
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(tinyCascade, old) {
			t.Fatalf("%q not in the tiny cascade", old)
		}
		return strings.Replace(tinyCascade, old, new, 1)
	}
	cases := []struct {
		name, xml, want string
	}{
		{"empty", "", "empty XML document"},
		{"not xml", "hello <", "broken XML"},
		{"truncated", tinyCascade[:len(tinyCascade)/2], "element <leafValues> (opencv_storage/cascade/stages/_[0]/weakClassifiers/_[0]/leafValues) is not closed"},
		{"truncated after tag", tinyCascade[:strings.Index(tinyCascade, "</cascade>")], "element <cascade> (opencv_storage/cascade) is not closed"},
		{"truncated in element", tinyCascade[:strings.Index(tinyCascade, "<leafValues>")+15], "leafValues"},
		{"mismatched tag", replace("</leafValues></_>", "</leafValue></_>"), "leafValues"},
		{"no cascade", "<opencv_storage><x>1</x></opencv_storage>", "missing <cascade>"},
		{"old format", `<opencv_storage><haar type_id="opencv-haar-classifier"><size>24 24</size></haar></opencv_storage>`, "old OpenCV 1.x"},
		{"lbp", replace("<featureType>HAAR", "<featureType>LBP"), `feature type "LBP"`},
		{"bad width", replace("<width>4</width>", "<width>four</width>"), "<width>"},
		{"no stages", strings.NewReplacer("<stages>", "<stagez>", "</stages>", "</stagez>").Replace(tinyCascade), "missing <stages>"},
		{"stage count", replace("<stageNum>1", "<stageNum>2"), "stageNum"},
		{"threshold", replace("-1.5e-01", "abc"), "stageThreshold"},
		{"nan threshold", replace("-1.5e-01", "nan"), "not a finite number"},
		{"node count", replace("0 -1 0 1.0e-02", "0 -1 0"), "groups of 4"},
		{"leaf count", replace("-5.0e-01 5.0e-01", "-5.0e-01"), "want 2 leaf values"},
		{"feature index", replace("0 -1 1 -2.0e-02", "0 -1 7 -2.0e-02"), "feature index 7 out of range"},
		{"child", replace("0 -1 0 1.0e-02", "0 -5 0 1.0e-02"), "child -5 out of range"},
		{"loop", replace("0 -1 0 1.0e-02", "1 -1 0 1.0e-02"), "child 1 out of range"},
		{"rect outside", replace("0 0 4 4 -1.", "1 0 4 4 -1."), "does not fit the 4x4 window"},
		{"tilted outside", replace("2 0 2 2 -1.", "1 0 2 2 -1."), "does not fit"},
		{"rect numbers", replace("0 0 2 4 2.", "0 0 2 2."), "want 5 numbers"},
		{"tilted flag", replace("<tilted>1", "<tilted>yes"), "want 0 or 1"},
		{"no features", strings.NewReplacer("<features>", "<featurez>", "</features>", "</featurez>").Replace(tinyCascade), "missing <features>"},
	}
	for _, tc := range cases {
		_, err := ParseCascade([]byte(tc.xml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadCascadeErrors(t *testing.T) {
	_, err := LoadCascade("")
	if !errors.Is(err, ErrNoCascade) || !strings.Contains(err.Error(), "apt-get install opencv-data") {
		t.Errorf("empty path: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope.xml")
	_, err = LoadCascade(missing)
	if !errors.Is(err, ErrNoCascade) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "--cascade") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(tinyCascade[:300]), 0o644)
	if _, err = LoadCascade(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated file: %v", err)
	}
}

func TestDefaultCascadePath(t *testing.T) {
	p := DefaultCascadePath()
	if _, err := os.Stat(DebianCascadeDir + "/haarcascade_frontalface_default.xml"); err != nil {
		if p != "" {
			t.Errorf("DefaultCascadePath() = %q though the file is absent", p)
		}
		return
	}
	if !strings.HasSuffix(p, "haarcascade_frontalface_default.xml") {
		t.Errorf("DefaultCascadePath() = %q", p)
	}
}

// FuzzParseCascade checks that no input makes the parser panic or hang,
// and that whatever it accepts can run on an image.
func FuzzParseCascade(f *testing.F) {
	f.Add([]byte(tinyCascade))
	f.Add([]byte(tinyCascade[:len(tinyCascade)/3]))
	f.Add([]byte(strings.Replace(tinyCascade, "0 -1 0 1.0e-02", "1 -1 0 1.0e-02", 1)))
	f.Add([]byte(`<opencv_storage><cascade><featureType>HAAR</featureType></cascade></opencv_storage>`))
	f.Add([]byte("<a><b><c>"))
	f.Add([]byte(treeCascade(5)))
	img := uniformGray(12, 9, 0)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCascade(data)
		if err != nil {
			return
		}
		if c.Width > 64 || c.Height > 64 {
			return // keep each input fast
		}
		if _, err := c.Detect(img, Options{MinNeighbors: -1, Workers: 1}); err != nil {
			t.Fatal(err)
		}
	})
}
