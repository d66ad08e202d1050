package annotate

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/tensor"
)

// ObjectsModel is the file OBJECT_LOCALIZATION loads: CenterNet on
// MobileNetV3 (COCO, 80 classes) as a TF.js graph model.
const ObjectsModel = "centernet"

// Object detection settings, as the model's own pipeline (the Human
// library) uses them: detections scoring at least ObjectMinScore, greedy
// class-agnostic non-maximum suppression at ObjectIoU, at most
// ObjectMaxResults.
const (
	ObjectMinScore   = 0.2
	ObjectIoU        = 0.4
	ObjectMaxResults = 10
	centernetSize    = 512
)

// ObjectDetector is OBJECT_LOCALIZATION: CenterNet, whose graph decodes
// its heat map into 100 ranked boxes itself (TopK, gathers, all in the
// engine); the detector then keeps the boxes NMS keeps. Safe for
// concurrent use.
type ObjectDetector struct {
	g *graphModel
}

// LoadObjectDetector loads centernet.json (and its .bin beside it).
func LoadObjectDetector(path string) (*ObjectDetector, error) {
	g, err := loadGraphModel(path, []int{-1, centernetSize, centernetSize, 3})
	if err != nil {
		return nil, err
	}
	if g.m.Value("tower_0/detections") == nil {
		return nil, fmt.Errorf("%s: no output tower_0/detections: not the CenterNet model", path)
	}
	return &ObjectDetector{g: g}, nil
}

// Detect finds up to k objects scoring at least minScore (0: ObjectMinScore),
// most confident first.
func (d *ObjectDetector) Detect(ctx context.Context, img image.Image, k int, minScore float64) ([]LocalizedObjectAnnotation, error) {
	if minScore <= 0 {
		minScore = ObjectMinScore
	}
	if k <= 0 {
		k = ObjectMaxResults
	}
	x := resized(img, centernetSize, centernetSize)
	defer release(x)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var dets []detection
	err := d.g.run(x, []string{"tower_0/detections"}, func(ys []*tensor.Tensor) error {
		y := ys[0]
		if len(y.Shape) != 3 || y.Shape[2] != 6 {
			return fmt.Errorf("%s: tower_0/detections has shape %v, want (1, N, 6)", d.g.path, y.Shape)
		}
		for i := 0; i+6 <= len(y.Data); i += 6 {
			r := y.Data[i : i+6]
			c := int(r[5])
			if !(float64(r[4]) > minScore) || c < 0 || c >= len(COCOClasses) || float32(c) != r[5] {
				continue
			}
			dets = append(dets, detection{box: [4]float64{float64(r[0]), float64(r[1]), float64(r[2]), float64(r[3])}, score: float64(r[4]), class: c})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	kept := nms(dets, ObjectIoU, k)
	out := make([]LocalizedObjectAnnotation, len(kept))
	for i, det := range kept {
		b := det.box
		x0, y0 := clamp01(b[0]/centernetSize), clamp01(b[1]/centernetSize)
		x1, y1 := clamp01(b[2]/centernetSize), clamp01(b[3]/centernetSize)
		out[i] = LocalizedObjectAnnotation{
			Name:  COCOClasses[det.class],
			Score: det.score,
			BoundingPoly: BoundingPoly{NormalizedVertices: []NormalizedVertex{
				{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1},
			}},
		}
	}
	return out, nil
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// detection is a scored box (x0, y0, x1, y1) of a class.
type detection struct {
	box   [4]float64
	score float64
	class int
}

// nms is greedy non-maximum suppression, as tf.image.nonMaxSuppression:
// highest score first (ties keep the earlier), a box is dropped when its
// IoU with a kept one exceeds iou; at most k are kept.
func nms(dets []detection, iou float64, k int) []detection {
	slices.SortStableFunc(dets, func(a, b detection) int { return cmp.Compare(b.score, a.score) })
	var kept []detection
	for _, d := range dets {
		if len(kept) == k {
			break
		}
		ok := true
		for _, q := range kept {
			if boxIoU(d.box, q.box) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept
}

// boxIoU is the intersection over union of two boxes (0 when either is
// empty).
func boxIoU(a, b [4]float64) float64 {
	areaA := (a[2] - a[0]) * (a[3] - a[1])
	areaB := (b[2] - b[0]) * (b[3] - b[1])
	if !(areaA > 0) || !(areaB > 0) {
		return 0
	}
	iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	return inter / (areaA + areaB - inter)
}

// COCOClasses are the 80 COCO class names in the order of the usual
// COCO-80 list (the detector's class indices).
var COCOClasses = []string{
	"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
	"fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
	"elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
	"wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
	"broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
	"dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
	"toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
}
