package data

import (
	"encoding/json"
	"image"
	"image/color"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
)

func TestResizeMatchesOpenCV(t *testing.T) {
	b, err := os.ReadFile("testdata/resize.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Src    []float32 `json:"src"`
			Shape  []int     `json:"shape"`
			Size   []int     `json:"size"`
			Interp string    `json:"interp"`
			Want   []float32 `json:"want"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		got := make([]float32, len(c.Want))
		Resize(got, c.Size[0], c.Size[1], c.Src, c.Shape[0], c.Shape[1], c.Shape[2], c.Interp)
		worst := 0.0
		for i := range got {
			worst = max(worst, math.Abs(float64(got[i]-c.Want[i])))
		}
		if worst > 1e-5 {
			t.Errorf("%s %v -> %v: max difference from cv2.resize %g", c.Interp, c.Shape, c.Size, worst)
		}
	}
}

// quadrants is a w x h RGBA image: red left half, blue right half, with a
// green top row.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			if y == 0 {
				c = color.RGBA{0, 255, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func TestToFloatChannels(t *testing.T) {
	img := quadrants(4, 2)
	rgb := ToFloat(img, 3)
	if rgb[(1*4+0)*3+0] != 1 || rgb[(1*4+3)*3+2] != 1 || rgb[1] != 1 {
		t.Errorf("RGB values %v", rgb)
	}
	gray := ToFloat(img, 1)
	// luma of pure red, 0.299, as color.GrayModel rounds it
	want := float32(color.GrayModel.Convert(color.RGBA{255, 0, 0, 255}).(color.Gray).Y) / 255
	if math.Abs(float64(gray[4]-want)) > 1.0/255 || len(gray) != 8 {
		t.Errorf("gray %v, want red as %v", gray, want)
	}
	// The generic path (NRGBA) agrees with the fast paths.
	n := image.NewNRGBA(img.Bounds())
	for y := range 2 {
		for x := range 4 {
			n.Set(x, y, img.At(x, y))
		}
	}
	if g2 := ToFloat(n, 1); !reflect.DeepEqual(g2, gray) {
		t.Errorf("generic gray %v, fast %v", g2, gray)
	}
	if r2 := ToFloat(n, 3); !reflect.DeepEqual(r2, rgb) {
		t.Errorf("generic rgb %v, fast %v", r2, rgb)
	}
}

func TestPreprocessAspectAwareCrop(t *testing.T) {
	// 40x20 (landscape) into 10x10: scale by 0.5 to 20x10, crop the middle
	// 10 columns, which straddle the red/blue boundary at column 5.
	p := Preprocess{Width: 10, Height: 10, Channels: 3, AspectAware: true, Interpolation: Area}
	out, err := p.Apply(quadrants(40, 20))
	if err != nil {
		t.Fatal(err)
	}
	at := func(y, x, c int) float32 { return out[(y*10+x)*3+c] }
	if at(5, 0, 0) != 1 || at(5, 4, 0) != 1 || at(5, 5, 2) != 1 || at(5, 9, 2) != 1 {
		t.Errorf("crop not centred: row 5 = %v", out[5*30:6*30])
	}
	// Plain resize keeps the whole width: the boundary is at column 5 too
	// but the outer columns come from the image edges.
	p.AspectAware = false
	out2, _ := p.Apply(quadrants(40, 20))
	if len(out2) != 300 || out2[(5*10+0)*3] != 1 {
		t.Errorf("plain resize: %v", out2[5*30:6*30])
	}
	// Mean subtraction.
	p.Mean = []float32{0.5, 0.25, 0}
	out3, _ := p.Apply(quadrants(40, 20))
	if out3[(5*10+0)*3] != 0.5 || out3[(5*10+0)*3+1] != -0.25 {
		t.Errorf("mean not subtracted: %v", out3[5*30:5*30+3])
	}
}

func TestPreprocessJSONAndValidate(t *testing.T) {
	p := Preprocess{Width: 28, Height: 28, Channels: 1, AspectAware: true, Interpolation: Area, Mean: []float32{0.13}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"width":28,"height":28,"channels":1,"aspect_aware":true,"interpolation":"area","mean":[0.13]}` {
		t.Errorf("JSON %s", b)
	}
	var q Preprocess
	if err := json.Unmarshal(b, &q); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("round trip %v %+v", err, q)
	}
	for _, bad := range []Preprocess{
		{Width: 0, Height: 5, Channels: 1},
		{Width: 5, Height: 5, Channels: 2},
		{Width: 5, Height: 5, Channels: 3, Mean: []float32{1}},
		{Width: 5, Height: 5, Channels: 3, Interpolation: "cubic"},
	} {
		if _, err := bad.Apply(quadrants(4, 4)); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// BenchmarkResize shrinks a 128x128 RGB float image to 32x32 (the animals
// preprocessing); compare with cv2.resize on the same sizes (docs/bench).
func BenchmarkResize(b *testing.B) {
	src := ramp(128, 128, 3)
	dst := make([]float32, 32*32*3)
	for _, interp := range []string{Bilinear, Area} {
		b.Run(interp, func(b *testing.B) {
			for b.Loop() {
				Resize(dst, 32, 32, src, 128, 128, 3, interp)
			}
		})
	}
}

func BenchmarkAugment(b *testing.B) {
	a := Augment{FlipHorizontal: true, WidthShift: 0.1, HeightShift: 0.1, Rotation: 30, Zoom: 0.2}
	src := ramp(32, 32, 3)
	dst := make([]float32, len(src))
	rng := nn.NewRNG(1)
	for b.Loop() {
		a.Apply(dst, src, 32, 32, 3, rng)
	}
}

// The fast and direct area resizes agree, on every size pair tried.
func TestResizeAreaForms(t *testing.T) {
	for _, s := range [][4]int{{7, 9, 3, 2}, {2, 2, 1, 1}, {13, 5, 4, 5}, {30, 31, 7, 3}, {3, 1, 2, 1}} {
		sh, sw, dh, dw := s[0], s[1], s[2], s[3]
		src := ramp(sh, sw, 2)
		a, b := make([]float32, dh*dw*2), make([]float32, dh*dw*2)
		Resize(a, dh, dw, src, sh, sw, 2, Area)
		resizeAreaSmall(b, dh, dw, src, sh, sw, 2)
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 1e-5 {
				t.Fatalf("%v: value %d: %v vs %v", s, i, a[i], b[i])
			}
		}
	}
}
