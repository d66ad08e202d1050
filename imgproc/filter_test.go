package imgproc

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/nn"
)

type cvFixture struct {
	OpenCV string `json:"opencv"`
	Images []struct {
		File       string `json:"file"`
		X, Y, W, H int
		RGB        []uint8 `json:"rgb"`
		Gray       []uint8 `json:"gray"`
		Results    []struct {
			Kernel string    `json:"kernel"`
			Border string    `json:"border"`
			Flip   bool      `json:"flip"`
			Data   []float64 `json:"data"`
		} `json:"results"`
	} `json:"images"`
	Kernels map[string]struct {
		W, H int
		Data []float64
	} `json:"kernels"`
}

func loadFixture(t testing.TB) cvFixture {
	t.Helper()
	f, err := os.Open("testdata/filter2d_cv2.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var fx cvFixture
	if err := json.NewDecoder(zr).Decode(&fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Images) == 0 {
		t.Fatal("fixture has no images")
	}
	return fx
}

// TestFilter2DMatchesOpenCV compares every kernel of the bank, each
// border mode and true convolution with cv2.filter2D (CV_32F) on crops of
// real photos: within 1e-3 before clipping.
func TestFilter2DMatchesOpenCV(t *testing.T) {
	fx := loadFixture(t)
	seen := map[string]bool{}
	for _, im := range fx.Images {
		n := im.W * im.H
		if len(im.RGB) != 3*n || len(im.Gray) != n {
			t.Fatalf("%s: fixture sizes rgb %d gray %d for %dx%d", im.File, len(im.RGB), len(im.Gray), im.W, im.H)
		}
		// Gray conversion must equal cv2.cvtColor(RGB2GRAY) exactly.
		src := NewPlane(im.W, im.H)
		for i := range n {
			g := GrayValue(im.RGB[3*i], im.RGB[3*i+1], im.RGB[3*i+2])
			if g != im.Gray[i] {
				t.Fatalf("%s pixel %d: gray %d, OpenCV %d", im.File, i, g, im.Gray[i])
			}
			src.Pix[i] = float32(g)
		}
		for _, r := range im.Results {
			want := fx.Kernels[r.Kernel]
			k := Kernel{Name: r.Kernel, W: want.W, H: want.H, Data: want.Data}
			if r.Kernel != "custom" {
				bk, err := Named(r.Kernel)
				if err != nil {
					t.Fatal(err)
				}
				if bk.W != want.W || bk.H != want.H {
					t.Fatalf("kernel %s: bank %dx%d, fixture %dx%d", r.Kernel, bk.W, bk.H, want.W, want.H)
				}
				for i, v := range bk.Data {
					if math.Abs(v-want.Data[i]) > 1e-12 {
						t.Fatalf("kernel %s weight %d: bank %v, fixture %v", r.Kernel, i, v, want.Data[i])
					}
				}
				k = bk
			}
			b, err := ParseBorder(r.Border)
			if err != nil {
				t.Fatal(err)
			}
			seen[r.Kernel] = true
			for _, threads := range []int{1, 3} {
				got, err := Filter2D(src, k, Options{Border: b, Flip: r.Flip, Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i, v := range got.Pix {
					worst = math.Max(worst, math.Abs(float64(v)-r.Data[i]))
				}
				if worst > 1e-3 {
					t.Errorf("%s %s border=%s flip=%v threads=%d (%v): max |diff| %.3g vs OpenCV %s", im.File, r.Kernel, r.Border, r.Flip, threads, ChooseMethod(k), worst, fx.OpenCV)
				}
			}
		}
	}
	for _, name := range KernelNames() {
		if !seen[name] {
			t.Errorf("kernel %s not covered by the fixture", name)
		}
	}
}

// TestDecoderMatchesFixture checks that our BMP decoding gives the very
// pixels OpenCV read for the fixture crops.
func TestDecoderMatchesFixture(t *testing.T) {
	fx := loadFixture(t)
	for _, im := range fx.Images {
		img, err := Load(testutil.SharedFile(t, im.File))
		if err != nil {
			t.Fatal(err)
		}
		r, g, b := RGBPlanes(img)
		for y := range im.H {
			for x := range im.W {
				i := (im.Y+y)*r.W + im.X + x
				j := 3 * (y*im.W + x)
				got := [3]uint8{uint8(r.Pix[i]), uint8(g.Pix[i]), uint8(b.Pix[i])}
				if want := [3]uint8(im.RGB[j : j+3]); got != want {
					t.Fatalf("%s (%d,%d): decoded %v, OpenCV %v", im.File, im.X+x, im.Y+y, got, want)
				}
			}
		}
	}
}

// naive is the definition: correlation with explicit border lookups.
func naive(src Plane, k Kernel, b Border) Plane {
	out := NewPlane(src.W, src.H)
	for y := range src.H {
		for x := range src.W {
			var s float64
			for m := range k.H {
				for n := range k.W {
					sy, sx := borderIndex(y+m-k.H/2, src.H, b), borderIndex(x+n-k.W/2, src.W, b)
					if sy >= 0 && sx >= 0 {
						s += k.At(m, n) * float64(src.At(sx, sy))
					}
				}
			}
			out.Pix[y*src.W+x] = float32(s)
		}
	}
	return out
}

func randPlane(rng interface{ Float32() float32 }, w, h int) Plane {
	p := NewPlane(w, h)
	for i := range p.Pix {
		p.Pix[i] = float32(int(rng.Float32() * 256))
	}
	return p
}

// TestFastPathsMatchDefinition checks box, separable and direct paths,
// kernels wider than the image and all borders against the naive sum.
func TestFastPathsMatchDefinition(t *testing.T) {
	rng := nn.NewRNG(7)
	g, _ := Gaussian(1.2)
	outer := Kernel{Name: "outer", W: 5, H: 3, Data: make([]float64, 15)}
	for i := range 3 {
		for j := range 5 {
			outer.Data[i*5+j] = float64(i+1) * float64(j-2) // rank 1, zero column
		}
	}
	dense := Kernel{Name: "dense", W: 6, H: 5, Data: make([]float64, 30)}
	for i := range dense.Data {
		dense.Data[i] = math.Sin(float64(i + 1))
	}
	cases := []struct {
		k    Kernel
		want Method
	}{
		{Box("box5", 5), BoxSum}, {Box("box21", 21), BoxSum}, {g, Separable}, {outer, Separable},
		{dense, Direct}, {fromRows("sobel", [][]float64{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}), Direct},
		{fromRows("gauss3", [][]float64{{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}), Direct},
		{fromRows("lap", [][]float64{{0, 1, 0}, {1, -4, 1}, {0, 1, 0}}), Direct},
		{fromRows("row", [][]float64{{1, 2, 3}}), Direct}, {fromRows("one", [][]float64{{2}}), Direct},
	}
	for _, size := range [][2]int{{37, 29}, {3, 2}, {1, 1}, {200, 180}} {
		src := randPlane(rng, size[0], size[1])
		for _, c := range cases {
			if m := ChooseMethod(c.k); m != c.want {
				t.Fatalf("%s: method %v, want %v", c.k.Name, m, c.want)
			}
			for _, b := range []Border{BorderReflect101, BorderReplicate, BorderZero} {
				want := naive(src, c.k, b)
				got, err := Filter2D(src, c.k, Options{Border: b, Threads: 4})
				if err != nil {
					t.Fatal(err)
				}
				for i := range got.Pix {
					if d := math.Abs(float64(got.Pix[i] - want.Pix[i])); d > 1e-3*math.Max(1, math.Abs(float64(want.Pix[i]))) {
						t.Fatalf("%dx%d %s %v: pixel %d = %v, want %v", size[0], size[1], c.k.Name, b, i, got.Pix[i], want.Pix[i])
					}
				}
			}
		}
	}
}

func TestFlipIsConvolution(t *testing.T) {
	src := randPlane(nn.NewRNG(1), 9, 8)
	k := fromRows("k", [][]float64{{1, 2, 3}, {0, 0, 0}, {0, 0, 0}})
	got, _ := Filter2D(src, k, Options{Flip: true, Border: BorderZero})
	want, _ := Filter2D(src, fromRows("f", [][]float64{{0, 0, 0}, {0, 0, 0}, {3, 2, 1}}), Options{Border: BorderZero})
	for i := range got.Pix {
		if got.Pix[i] != want.Pix[i] {
			t.Fatalf("pixel %d: %v vs %v", i, got.Pix[i], want.Pix[i])
		}
	}
}

func TestBorderIndex(t *testing.T) {
	// n = 5: reflect101 gfedcb|abcdefgh|gfedcba, replicate aaa|..|hhh.
	for _, c := range []struct {
		p    int
		b    Border
		want int
	}{
		{-1, BorderReflect101, 1}, {-2, BorderReflect101, 2}, {5, BorderReflect101, 3}, {6, BorderReflect101, 2},
		{-9, BorderReflect101, 1}, {-1, BorderReplicate, 0}, {7, BorderReplicate, 4}, {-1, BorderZero, -1}, {3, BorderZero, 3},
	} {
		if got := borderIndex(c.p, 5, c.b); got != c.want {
			t.Errorf("borderIndex(%d, 5, %v) = %d, want %d", c.p, c.b, got, c.want)
		}
	}
	for p := -50; p < 50; p++ {
		if i := borderIndex(p, 3, BorderReflect101); i < 0 || i >= 3 {
			t.Fatalf("borderIndex(%d, 3) = %d out of range", p, i)
		}
	}
}

func TestFilter2DErrors(t *testing.T) {
	src := NewPlane(4, 4)
	for _, c := range []struct {
		src Plane
		k   Kernel
		opt Options
	}{
		{Plane{}, Box("b", 3), Options{}},
		{Plane{W: 2, H: 2, Pix: make([]float32, 3)}, Box("b", 3), Options{}},
		{src, Kernel{Name: "e"}, Options{}},
		{src, Kernel{Name: "nan", W: 1, H: 1, Data: []float64{math.NaN()}}, Options{}},
		{src, Box("b", 3), Options{Border: 9}},
	} {
		if _, err := Filter2D(c.src, c.k, c.opt); err == nil {
			t.Errorf("Filter2D(%dx%d, %q, %+v): no error", c.src.W, c.src.H, c.k.Name, c.opt)
		}
	}
}

func TestMappings(t *testing.T) {
	p := Plane{W: 4, H: 1, Pix: []float32{-20, 0.5, 127.5, 300}}
	if got := fmt.Sprint(To8(Clip, p)[0]); got != "[0 0 128 255]" {
		t.Errorf("clip: %s", got)
	}
	if got := fmt.Sprint(To8(Rescale, p)[0]); got != "[0 16 118 255]" {
		t.Errorf("rescale: %s", got)
	}
	if got := fmt.Sprint(To8(Rescale, Plane{W: 2, H: 1, Pix: []float32{7, 7}})[0]); got != "[0 0]" {
		t.Errorf("rescale constant: %s", got)
	}
}

func TestNamedKernels(t *testing.T) {
	for _, n := range KernelNames() {
		k, err := Named(n)
		if err != nil || k.Validate() != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	g, err := Named("gaussian:1.5")
	if err != nil || g.W != 11 {
		t.Fatalf("gaussian:1.5: %v %d", err, g.W)
	}
	var sum float64
	for _, v := range g.Data {
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("gaussian sums to %v", sum)
	}
	for _, bad := range []string{"nope", "gaussian:x", "gaussian:0", "gaussian:-1", "gaussian:1e9"} {
		if _, err := Named(bad); err == nil {
			t.Errorf("Named(%q): no error", bad)
		}
	}
}
