package imgproc

import "fmt"

// Border says how Filter2D reads pixels outside the image.
type Border int

const (
	// BorderReflect101 mirrors without repeating the edge pixel:
	// gfedcb|abcdefgh|gfedcba. OpenCV's default (BORDER_REFLECT_101).
	BorderReflect101 Border = iota
	// BorderReplicate repeats the edge pixel: aaaaaa|abcdefgh|hhhhhhh.
	BorderReplicate
	// BorderZero reads zeros: 000000|abcdefgh|0000000 (BORDER_CONSTANT, 0).
	BorderZero
)

var borderNames = []string{"reflect101", "replicate", "zero"}

func (b Border) String() string {
	if b >= 0 && int(b) < len(borderNames) {
		return borderNames[b]
	}
	return fmt.Sprintf("Border(%d)", int(b))
}

// ParseBorder accepts reflect101 (also reflect-101, default), replicate, zero.
func ParseBorder(s string) (Border, error) {
	switch s {
	case "reflect101", "reflect-101", "reflect_101", "default":
		return BorderReflect101, nil
	case "replicate":
		return BorderReplicate, nil
	case "zero", "constant":
		return BorderZero, nil
	}
	return 0, fmt.Errorf("unknown border %q (want reflect101, replicate or zero)", s)
}

// borderIndex maps coordinate p into [0, n), or returns -1 for a zero
// border. Like OpenCV's borderInterpolate it keeps reflecting when the
// kernel reaches further than the image is wide.
func borderIndex(p, n int, b Border) int {
	if p >= 0 && p < n {
		return p
	}
	switch b {
	case BorderReplicate:
		if p < 0 {
			return 0
		}
		return n - 1
	case BorderZero:
		return -1
	}
	if n == 1 {
		return 0
	}
	for p < 0 || p >= n {
		if p < 0 {
			p = -p
		}
		if p >= n {
			p = 2*n - 2 - p
		}
	}
	return p
}

// padRow fills dst (len(src) + kernel width - 1 values) with src shifted
// right by left, the outside filled according to the border mode.
func padRow(dst, src []float32, left int, b Border) []float32 {
	n := len(src)
	copy(dst[left:left+n], src)
	for x := range dst {
		if x == left {
			x = left + n
			if x >= len(dst) {
				break
			}
		}
		if x >= left && x < left+n {
			continue
		}
		if sx := borderIndex(x-left, n, b); sx >= 0 {
			dst[x] = src[sx]
		} else {
			dst[x] = 0
		}
	}
	return dst
}
