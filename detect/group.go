package detect

import (
	"image"
	"math"
)

// GroupRectangles merges overlapping raw detections like OpenCV's
// groupRectangles: rectangles are similar when every edge differs by at
// most eps*(min width + min height)/2; similarity is closed transitively
// into groups; each group becomes the rounded average of its members and
// is kept when it has more than minNeighbors members. A kept box that
// lies inside another, stronger kept box (edges within eps of its size)
// is dropped. With minNeighbors <= 0 the input is returned unchanged.
func GroupRectangles(rects []image.Rectangle, minNeighbors int, eps float64) []Detection {
	if minNeighbors <= 0 || len(rects) == 0 {
		out := make([]Detection, len(rects))
		for i, r := range rects {
			out[i] = Detection{Rect: r}
		}
		return out
	}
	labels, n := partition(rects, eps)
	type acc struct{ x, y, w, h, n int }
	sums := make([]acc, n)
	for i, r := range rects {
		a := &sums[labels[i]]
		a.x += r.Min.X
		a.y += r.Min.Y
		a.w += r.Dx()
		a.h += r.Dy()
		a.n++
	}
	avg := make([]image.Rectangle, n)
	for i, a := range sums {
		s := float32(1) / float32(a.n)
		x := roundF32(float32(a.x) * s)
		y := roundF32(float32(a.y) * s)
		w := roundF32(float32(a.w) * s)
		h := roundF32(float32(a.h) * s)
		avg[i] = image.Rect(x, y, x+w, y+h)
	}
	var out []Detection
	for i, r1 := range avg {
		n1 := sums[i].n
		if n1 <= minNeighbors {
			continue
		}
		inside := false
		for j, r2 := range avg {
			n2 := sums[j].n
			if j == i || n2 <= minNeighbors {
				continue
			}
			dx := cvRound(float64(r2.Dx()) * eps)
			dy := cvRound(float64(r2.Dy()) * eps)
			if r1.Min.X >= r2.Min.X-dx && r1.Min.Y >= r2.Min.Y-dy &&
				r1.Max.X <= r2.Max.X+dx && r1.Max.Y <= r2.Max.Y+dy &&
				(n2 > max(3, n1) || n1 < 3) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, Detection{Rect: r1, Neighbors: n1})
		}
	}
	return out
}

func roundF32(v float32) int { return int(math.RoundToEven(float64(v))) }

// similar is OpenCV's SimilarRects predicate.
func similar(a, b image.Rectangle, eps float64) bool {
	delta := eps * float64(min(a.Dx(), b.Dx())+min(a.Dy(), b.Dy())) * 0.5
	return math.Abs(float64(a.Min.X-b.Min.X)) <= delta &&
		math.Abs(float64(a.Min.Y-b.Min.Y)) <= delta &&
		math.Abs(float64(a.Max.X-b.Max.X)) <= delta &&
		math.Abs(float64(a.Max.Y-b.Max.Y)) <= delta
}

// partition splits rects into the classes of the transitive closure of
// similar, numbered in order of each class's first member.
func partition(rects []image.Rectangle, eps float64) ([]int, int) {
	parent := make([]int, len(rects))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range rects {
		for j := i + 1; j < len(rects); j++ {
			if similar(rects[i], rects[j], eps) {
				ri, rj := find(i), find(j)
				if ri != rj {
					parent[max(ri, rj)] = min(ri, rj)
				}
			}
		}
	}
	labels := make([]int, len(rects))
	id := make(map[int]int)
	for i := range rects {
		r := find(i)
		l, ok := id[r]
		if !ok {
			l = len(id)
			id[r] = l
		}
		labels[i] = l
	}
	return labels, len(id)
}
