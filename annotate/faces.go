package annotate

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/tensor"
	"golang.org/x/image/draw"
)

// Face models: the file names FACE_DETECTION loads.
const (
	BlazeFaceModel = "blazeface"
	EmotionModel   = "emotion"
)

// Face detectors.
const (
	DetectorBlazeFace = "blazeface"
	DetectorHaar      = "haar"
)

// FaceDetectors lists the detectors Faces can run.
var FaceDetectors = []string{DetectorBlazeFace, DetectorHaar}

// Faces is FACE_DETECTION: a detector (BlazeFace, or the Haar cascade),
// then for each face its expressions: the emotion model's joy, sorrow,
// anger and surprise, and joy from the smile classifier when one is set
// (it replaces the emotion model's joy). Any of the models may be nil
// except the detector's.
type Faces struct {
	// Detector is DetectorBlazeFace or DetectorHaar ("": BlazeFace when
	// loaded, else Haar).
	Detector  string
	BlazeFace *BlazeFace
	// Cascade runs with CascadeOptions (zero: OpenCV's defaults).
	Cascade        *detect.Cascade
	CascadeOptions detect.Options
	Emotion        *Emotion
	Smiles         *Smiles
}

// detector is the detector f runs, or an error saying what is missing.
func (f *Faces) detector() (string, error) {
	d := f.Detector
	if d == "" {
		d = DetectorHaar
		if f.BlazeFace != nil {
			d = DetectorBlazeFace
		}
	}
	switch d {
	case DetectorBlazeFace:
		if f.BlazeFace == nil {
			return "", missingModel(BlazeFaceModel, FaceDetection)
		}
	case DetectorHaar:
		if f.Cascade == nil {
			return "", fmt.Errorf("FACE_DETECTION with the Haar detector needs a cascade file: %w", detect.ErrNoCascade)
		}
	default:
		return "", fmt.Errorf("unknown face detector %q: want one of %v", d, FaceDetectors)
	}
	return d, nil
}

// Detect finds up to k faces, most confident first, with their
// expressions.
func (f *Faces) Detect(ctx context.Context, img image.Image, k int) ([]FaceAnnotation, error) {
	det, err := f.detector()
	if err != nil {
		return nil, err
	}
	var faces []FaceAnnotation
	if det == DetectorBlazeFace {
		faces, err = f.BlazeFace.Detect(ctx, img, k)
	} else {
		faces, err = haarFaces(img, f.Cascade, f.CascadeOptions, k)
	}
	if err != nil {
		return nil, err
	}
	for i := range faces {
		fa := &faces[i]
		fa.JoyLikelihood, fa.SorrowLikelihood, fa.AngerLikelihood, fa.SurpriseLikelihood = Unknown, Unknown, Unknown, Unknown
		box := polyRect(fa.FdBoundingPoly)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if f.Emotion != nil {
			p, err := f.Emotion.Classify(img, box)
			if err != nil {
				return nil, err
			}
			fa.Emotions = map[string]float64{}
			for c, name := range EmotionClasses {
				fa.Emotions[name] = p[c]
			}
			fa.AngerLikelihood = Likelihood(p[0])
			fa.JoyLikelihood = Likelihood(p[3])
			fa.SorrowLikelihood = Likelihood(p[4])
			fa.SurpriseLikelihood = Likelihood(p[5])
		}
		if f.Smiles != nil {
			p, err := f.Smiles.Probability(img, box)
			if err != nil {
				return nil, err
			}
			fa.JoyLikelihood = Likelihood(p)
			fa.JoyProbability = &p
		}
	}
	return faces, nil
}

// polyRect is the rectangle of a box's vertices.
func polyRect(p BoundingPoly) image.Rectangle {
	if len(p.Vertices) < 3 {
		return image.Rectangle{}
	}
	return image.Rect(p.Vertices[0].X, p.Vertices[0].Y, p.Vertices[2].X, p.Vertices[2].Y)
}

// haarMaxSide bounds the longer side of the image the Haar detector
// scans; larger photos are scanned downscaled and the boxes scaled back.
const haarMaxSide = 1280

// haarFaces runs the cascade, most confident first.
func haarFaces(img image.Image, c *detect.Cascade, opt detect.Options, k int) ([]FaceAnnotation, error) {
	b := img.Bounds()
	scale := 1.0
	scan := img
	if side := max(b.Dx(), b.Dy()); side > haarMaxSide {
		scale = float64(side) / haarMaxSide
		small := image.NewRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())/scale)), max(1, int(float64(b.Dy())/scale))))
		draw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
		scan = small
	}
	ds, err := c.DetectNeighbors(scan, opt)
	if err != nil {
		return nil, err
	}
	// Most confident first, so that maxResults keeps the best.
	slices.SortStableFunc(ds, func(a, b detect.Detection) int { return cmp.Compare(b.Neighbors, a.Neighbors) })
	if len(ds) > k {
		ds = ds[:k]
	}
	out := make([]FaceAnnotation, 0, len(ds))
	for _, d := range ds {
		r := d.Rect
		if scale != 1 {
			sc := func(v, lim int) int { return min(lim, int(float64(v)*scale+0.5)) }
			r = image.Rect(sc(r.Min.X, b.Dx()), sc(r.Min.Y, b.Dy()), sc(r.Max.X, b.Dx()), sc(r.Max.Y, b.Dy())).Add(b.Min)
		}
		poly := BoundingPoly{Vertices: boxVertices(r.Min.X, r.Min.Y, r.Max.X, r.Max.Y)}
		out = append(out, FaceAnnotation{
			BoundingPoly: poly, FdBoundingPoly: poly,
			DetectionConfidence: 1 - 1/float64(1+d.Neighbors),
		})
	}
	return out, nil
}

// Smiles gives joy from a smile classifier with classes "not_smiling"
// and "smiling" (as 'dlcv smiles train' writes it).
type Smiles struct {
	model *classifier.Model
	index int
}

// NewSmiles checks the classifier's classes.
func NewSmiles(m *classifier.Model) (*Smiles, error) {
	i := slices.Index(m.Classes, "smiling")
	if len(m.Classes) != 2 || i < 0 || !slices.Contains(m.Classes, "not_smiling") {
		return nil, fmt.Errorf("the smile model's classes are %q, want \"not_smiling\" and \"smiling\"", m.Classes)
	}
	return &Smiles{model: m, index: i}, nil
}

// Probability is the probability that the face in box smiles.
func (s *Smiles) Probability(img image.Image, box image.Rectangle) (float64, error) {
	ps, err := s.model.PredictImage(detect.Crop(img, box), 0)
	if err != nil {
		return 0, err
	}
	for _, q := range ps {
		if q.Index == s.index {
			return q.Probability, nil
		}
	}
	return 0, nil
}

// BlazeFace is the BlazeFace detector (256x256, back-camera anchors):
// 896 anchors, each a face score, a box and six landmarks. Safe for
// concurrent use.
type BlazeFace struct {
	g       *graphModel
	anchors [][2]float64
	// MinScore is the least face probability kept; IoU the NMS threshold.
	MinScore, IoU float64
}

const blazeSize = 256

// BlazeFace's defaults: MediaPipe's back-camera detector keeps faces
// scoring at least 0.5 after suppression at IoU 0.3.
const (
	BlazeFaceMinScore = 0.5
	BlazeFaceIoU      = 0.3
)

// LoadBlazeFace loads blazeface.json (and its .bin beside it).
func LoadBlazeFace(path string) (*BlazeFace, error) {
	g, err := loadGraphModel(path, []int{-1, blazeSize, blazeSize, 3})
	if err != nil {
		return nil, err
	}
	for _, n := range blazeOutputs {
		if g.m.Value(n) == nil {
			return nil, fmt.Errorf("%s: no output %s: not the BlazeFace model", path, n)
		}
	}
	b := &BlazeFace{g: g, MinScore: BlazeFaceMinScore, IoU: BlazeFaceIoU}
	// Anchors at the cell centres of a 16x16 grid (2 each) and an 8x8
	// grid (6 each), in input pixels, the outputs' order.
	for _, l := range []struct{ stride, n int }{{16, 2}, {32, 6}} {
		cells := blazeSize / l.stride
		for y := range cells {
			for x := range cells {
				for range l.n {
					b.anchors = append(b.anchors, [2]float64{float64(l.stride) * (float64(x) + 0.5), float64(l.stride) * (float64(y) + 0.5)})
				}
			}
		}
	}
	return b, nil
}

// blazeOutputs: the 512 fine anchors' scores and regressions, then the
// 384 coarse ones'.
var blazeOutputs = []string{"Identity", "Identity_2", "Identity_1", "Identity_3"}

// blazeLandmarks are the Cloud Vision types of BlazeFace's six
// keypoints, in its order. BlazeFace names them from the subject's side
// (its "right eye" is on the image's left); Cloud Vision's left and
// right are as seen in the image.
var blazeLandmarks = []string{"LEFT_EYE", "RIGHT_EYE", "NOSE_TIP", "MOUTH_CENTER", "LEFT_EAR_TRAGION", "RIGHT_EAR_TRAGION"}

// blazeFace is one raw detection in input pixels.
type blazeFace struct {
	detection
	points [6][2]float64
}

// Detect finds up to k faces, most confident first.
func (b *BlazeFace) Detect(ctx context.Context, img image.Image, k int) ([]FaceAnnotation, error) {
	x := resized(img, blazeSize, blazeSize)
	defer release(x)
	for i := range x.Data {
		x.Data[i] = x.Data[i]/127.5 - 1
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var dets []detection
	var raw []blazeFace
	err := b.g.run(x, blazeOutputs, func(ys []*tensor.Tensor) error {
		a := 0
		for l := 0; l < 2; l++ {
			scores, regs := ys[2*l], ys[2*l+1]
			n := len(scores.Data)
			if len(regs.Data) != 16*n || a+n > len(b.anchors) {
				return fmt.Errorf("%s: outputs of shapes %v and %v, want (1, N, 1) and (1, N, 16)", b.g.path, scores.Shape, regs.Shape)
			}
			for i := range n {
				logit := min(max(float64(scores.Data[i]), -100), 100)
				p := 1 / (1 + math.Exp(-logit))
				an := b.anchors[a+i]
				if p >= b.MinScore {
					r := regs.Data[16*i : 16*i+16]
					cx, cy := float64(r[0])+an[0], float64(r[1])+an[1]
					w, h := float64(r[2]), float64(r[3])
					f := blazeFace{detection: detection{box: [4]float64{cx - w/2, cy - h/2, cx + w/2, cy + h/2}, score: p, class: len(raw)}}
					for j := range 6 {
						f.points[j] = [2]float64{float64(r[4+2*j]) + an[0], float64(r[5+2*j]) + an[1]}
					}
					raw = append(raw, f)
					dets = append(dets, f.detection)
				}
			}
			a += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	bd := img.Bounds()
	sx, sy := float64(bd.Dx())/blazeSize, float64(bd.Dy())/blazeSize
	var out []FaceAnnotation
	for _, d := range nms(dets, b.IoU, k) {
		f := raw[d.class]
		x0, y0 := d.box[0]*sx, d.box[1]*sy
		x1, y1 := d.box[2]*sx, d.box[3]*sy
		clip := func(v float64, lim int) int { return min(max(int(math.Round(v)), 0), lim) }
		fd := BoundingPoly{Vertices: boxVertices(bd.Min.X+clip(x0, bd.Dx()), bd.Min.Y+clip(y0, bd.Dy()), bd.Min.X+clip(x1, bd.Dx()), bd.Min.Y+clip(y1, bd.Dy()))}
		// The head: the face box enlarged 1.4 times about its centre
		// (the Human library's crop around a BlazeFace box), which
		// holds the ears.
		cx, cy, hw, hh := (x0+x1)/2, (y0+y1)/2, 0.7*(x1-x0), 0.7*(y1-y0)
		head := BoundingPoly{Vertices: boxVertices(bd.Min.X+clip(cx-hw, bd.Dx()), bd.Min.Y+clip(cy-hh, bd.Dy()), bd.Min.X+clip(cx+hw, bd.Dx()), bd.Min.Y+clip(cy+hh, bd.Dy()))}
		fa := FaceAnnotation{BoundingPoly: head, FdBoundingPoly: fd, DetectionConfidence: d.score}
		for j, t := range blazeLandmarks {
			fa.Landmarks = append(fa.Landmarks, Landmark{Type: t, Position: Position{
				X: float64(bd.Min.X) + f.points[j][0]*sx, Y: float64(bd.Min.Y) + f.points[j][1]*sy,
			}})
		}
		l, r := fa.Landmarks[0].Position, fa.Landmarks[1].Position
		fa.RollAngle = math.Atan2(r.Y-l.Y, r.X-l.X) * 180 / math.Pi
		out = append(out, fa)
	}
	return out, nil
}

// EmotionClasses are the emotion model's outputs (FER-2013's order).
var EmotionClasses = []string{"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}

const emotionSize = 64

// Emotion is the facial-expression classifier: a 64x64 grayscale face
// crop to FER-2013's seven classes. Safe for concurrent use.
type Emotion struct {
	g *graphModel
}

// LoadEmotion loads emotion.json (and its .bin beside it).
func LoadEmotion(path string) (*Emotion, error) {
	g, err := loadGraphModel(path, []int{-1, emotionSize, emotionSize, 1})
	if err != nil {
		return nil, err
	}
	if len(g.m.Outputs) != 1 {
		return nil, fmt.Errorf("%s: %d outputs, want 1 (the seven class probabilities)", path, len(g.m.Outputs))
	}
	return &Emotion{g: g}, nil
}

// Classify returns the seven probabilities for the face in box: the box
// made square about its centre, resized to 64x64, gray as the Human
// library computes it (0.2989 R + 0.587 G + 0.114 B of 0..1 values),
// scaled to -1..1.
func (e *Emotion) Classify(img image.Image, box image.Rectangle) ([]float64, error) {
	c := box.Min.Add(box.Max).Div(2)
	half := max(box.Dx(), box.Dy()) / 2
	sq := image.Rect(c.X-half, c.Y-half, c.X+half, c.Y+half).Intersect(img.Bounds())
	if sq.Dx() < 2 || sq.Dy() < 2 {
		return nil, fmt.Errorf("face box %v is too small for the emotion model", box)
	}
	rgb := resized(detect.Crop(img, sq), emotionSize, emotionSize)
	defer release(rgb)
	x := tensor.New(1, emotionSize, emotionSize, 1)
	for i := range x.Data {
		r, g, b := rgb.Data[3*i], rgb.Data[3*i+1], rgb.Data[3*i+2]
		gray := (0.2989*r + 0.587*g + 0.114*b) / 255
		x.Data[i] = (gray - 0.5) * 2
	}
	var p []float64
	err := e.g.run(x, e.g.m.Outputs, func(ys []*tensor.Tensor) error {
		if len(ys[0].Data) != len(EmotionClasses) {
			return fmt.Errorf("%s: output shape %v, want (1, %d)", e.g.path, ys[0].Shape, len(EmotionClasses))
		}
		for _, v := range ys[0].Data {
			p = append(p, float64(v))
		}
		return nil
	})
	return p, err
}
