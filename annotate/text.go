package annotate

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tflite"
)

// TextModel is the registry name of TEXT_DETECTION's models: PP-OCRv4
// detection and recognition as ONNX files, with the recogniser's
// dictionary.
const TextModel = "ppocr-v4"

// The files of TextModel, in one folder.
const (
	textDetFile  = "ch_PP-OCRv4_det_infer.onnx"
	textRecFile  = "ch_PP-OCRv4_rec_infer.onnx"
	textKeysFile = "ppocr_keys_v1.txt"
)

// PP-OCR's detection post-processing (DB): pixels over textPixel are
// text; a region is kept when its mean probability is at least textBox;
// its box is grown by textUnclip (PaddleOCR's unclip_ratio: the offset is
// area * ratio / perimeter).
const (
	textPixel  = 0.3
	textBox    = 0.6
	textUnclip = 1.5
	textSide   = 960 // the longer side the detector sees at most
	recHeight  = 48
	recMaxW    = 1280
)

// Text is TEXT_DETECTION: PP-OCRv4's DB detector finds text lines, its
// CTC recogniser reads each. Lines are axis-aligned boxes (connected
// regions of the probability map, grown as PaddleOCR grows them); rotated
// text is not straightened. Safe for concurrent use (each model runs one
// image at a time).
type Text struct {
	det, rec *onnx.Imported
	keys     []string // index 0 is CTC's blank
}

// LoadText loads the three files from dir.
func LoadText(dir string) (*Text, error) {
	det, err := onnx.Load(filepath.Join(dir, textDetFile), nil)
	if err != nil {
		return nil, err
	}
	rec, err := onnx.Load(filepath.Join(dir, textRecFile), nil)
	if err != nil {
		return nil, err
	}
	keysPath := filepath.Join(dir, textKeysFile)
	f, err := os.Open(keysPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := []string{""}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		keys = append(keys, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", keysPath, err)
	}
	keys = append(keys, " ") // PaddleOCR's use_space_char
	return &Text{det: det, rec: rec, keys: keys}, nil
}

// Detect finds and reads the text of img. The first annotation is the
// whole text (lines top to bottom joined by newlines, the boxes of one
// line by spaces) with a box around all of it; then one per box the
// detector found (a line, or a word where the gaps are wide).
func (t *Text) Detect(ctx context.Context, img image.Image) ([]TextAnnotation, string, error) {
	rgb := tflite.ToRGB(img)
	boxes, err := t.lines(rgb)
	if err != nil {
		return nil, "", err
	}
	var out []TextAnnotation
	var b strings.Builder
	var prev image.Rectangle
	full := image.Rectangle{}
	for _, r := range boxes {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		s, err := t.read(rgb, r)
		if err != nil {
			return nil, "", err
		}
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		// Boxes of one line (words apart) join with a space.
		switch {
		case b.Len() == 0:
		case sameLine(prev, r):
			b.WriteByte(' ')
		default:
			b.WriteByte('\n')
		}
		b.WriteString(s)
		prev = r
		full = full.Union(r)
		out = append(out, TextAnnotation{Description: s, BoundingPoly: BoundingPoly{Vertices: boxVertices(r.Min.X, r.Min.Y, r.Max.X, r.Max.Y)}})
	}
	text := b.String()
	if text == "" {
		return nil, "", nil
	}
	all := TextAnnotation{Description: text, BoundingPoly: BoundingPoly{Vertices: boxVertices(full.Min.X, full.Min.Y, full.Max.X, full.Max.Y)}}
	return append([]TextAnnotation{all}, out...), text, nil
}

// nchw turns RGB pixels of r, resized to w x h, into a (1, 3, h, w)
// tensor, (v/255 - mean) / std.
func nchw(rgb *tflite.RGB, r image.Rectangle, w, h int, mean, std [3]float32) *tensor.Tensor {
	cw, ch := r.Dx(), r.Dy()
	src := make([]float32, cw*ch*3)
	for y := range ch {
		row := rgb.Pix[3*((r.Min.Y+y)*rgb.W+r.Min.X):][:3*cw]
		for i, v := range row {
			src[3*y*cw+i] = float32(v)
		}
	}
	hwc := make([]float32, w*h*3)
	kernels.ResizeBilinear(hwc, src, kernels.ResizeGeom{N: 1, H: ch, W: cw, C: 3, OH: h, OW: w, Coord: kernels.HalfPixel})
	x := tensor.New(1, 3, h, w)
	for i := range w * h {
		for c := range 3 {
			x.Data[c*w*h+i] = (hwc[3*i+c]/255 - mean[c]) / std[c]
		}
	}
	return x
}

// lines runs the detector and returns the text boxes in image pixels,
// top to bottom, then left to right.
func (t *Text) lines(rgb *tflite.RGB) ([]image.Rectangle, error) {
	// The detector's input: the longer side at most textSide, both
	// multiples of 32.
	s := min(1, float64(textSide)/float64(max(rgb.W, rgb.H)))
	w := max(32, int(math.Round(float64(rgb.W)*s/32))*32)
	h := max(32, int(math.Round(float64(rgb.H)*s/32))*32)
	x := nchw(rgb, image.Rect(0, 0, rgb.W, rgb.H), w, h, [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225})
	ys, err := t.det.RunNCHW(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", textDetFile, err)
	}
	p := ys[0].Data
	if len(p) != w*h {
		return nil, fmt.Errorf("%s: output shape %v, want (1, 1, %d, %d)", textDetFile, ys[0].Shape, h, w)
	}
	// Connected regions of text pixels (8-neighbourhood).
	seen := make([]bool, w*h)
	var boxes []image.Rectangle
	stack := []int{}
	for i := range p {
		if seen[i] || p[i] <= textPixel {
			continue
		}
		seen[i] = true
		stack = append(stack[:0], i)
		x0, y0, x1, y1 := w, h, 0, 0
		var sum float64
		n := 0
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			px, py := j%w, j/w
			x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px+1), max(y1, py+1)
			sum += float64(p[j])
			n++
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					qx, qy := px+dx, py+dy
					if qx < 0 || qy < 0 || qx >= w || qy >= h {
						continue
					}
					if q := qy*w + qx; !seen[q] && p[q] > textPixel {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
		bw, bh := float64(x1-x0), float64(y1-y0)
		if min(bw, bh) < 3 || sum/float64(n) < textBox {
			continue
		}
		d := bw * bh * textUnclip / (2 * (bw + bh))
		sx, sy := float64(rgb.W)/float64(w), float64(rgb.H)/float64(h)
		r := image.Rect(int(math.Floor((float64(x0)-d)*sx)), int(math.Floor((float64(y0)-d)*sy)),
			int(math.Ceil((float64(x1)+d)*sx)), int(math.Ceil((float64(y1)+d)*sy))).Intersect(image.Rect(0, 0, rgb.W, rgb.H))
		if r.Dx() >= 2 && r.Dy() >= 2 {
			boxes = append(boxes, r)
		}
	}
	slices.SortFunc(boxes, func(a, b image.Rectangle) int {
		if sameLine(a, b) {
			return cmp.Compare(a.Min.X, b.Min.X)
		}
		return cmp.Compare(a.Min.Y+a.Max.Y, b.Min.Y+b.Max.Y)
	})
	return boxes, nil
}

// sameLine: two boxes whose vertical centres are within half the
// smaller height are on one line.
func sameLine(a, b image.Rectangle) bool {
	return 2*abs(a.Min.Y+a.Max.Y-b.Min.Y-b.Max.Y) < min(a.Dy(), b.Dy())
}

func abs(v int) int { return max(v, -v) }

// read recognises one line: the crop resized to 48 pixels high (width in
// proportion), then CTC's greedy decoding (best class per step, repeats
// merged, blanks dropped).
func (t *Text) read(rgb *tflite.RGB, r image.Rectangle) (string, error) {
	w := min(recMaxW, max(8, int(math.Ceil(float64(recHeight)*float64(r.Dx())/float64(r.Dy())))))
	x := nchw(rgb, r, w, recHeight, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.5, 0.5, 0.5})
	ys, err := t.rec.RunNCHW(x)
	if err != nil {
		return "", fmt.Errorf("%s: %w", textRecFile, err)
	}
	y := ys[0]
	if len(y.Shape) != 3 || y.Shape[2] != len(t.keys) {
		return "", fmt.Errorf("%s: output shape %v for a dictionary of %d classes", textRecFile, y.Shape, len(t.keys))
	}
	n := y.Shape[2]
	var b strings.Builder
	prev := -1
	for s := range y.Shape[1] {
		row := y.Data[s*n : (s+1)*n]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best != 0 && best != prev {
			b.WriteString(t.keys[best])
		}
		prev = best
	}
	return b.String(), nil
}
