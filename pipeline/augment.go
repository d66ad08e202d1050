package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/data"
)

// ParseAugment reads an augmentation spec such as
// "flip,shift=0.1,rotate=30,zoom=0.2": flip (horizontal), shift (width
// and height fraction), wshift, hshift, rotate (degrees), zoom (fraction).
func ParseAugment(spec string) (*data.Augment, error) {
	a := &data.Augment{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, hasVal := strings.Cut(part, "=")
		var v float64
		if hasVal {
			var err error
			if v, err = strconv.ParseFloat(val, 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("augment %q: %q is not a finite number", key, val)
			}
		} else if key != "flip" {
			return nil, fmt.Errorf("augment %q needs a value, e.g. %s=0.1", key, key)
		}
		switch key {
		case "flip":
			a.FlipHorizontal = true
		case "shift":
			a.WidthShift, a.HeightShift = v, v
		case "wshift":
			a.WidthShift = v
		case "hshift":
			a.HeightShift = v
		case "rotate":
			a.Rotation = v
		case "zoom":
			a.Zoom = v
		default:
			return nil, fmt.Errorf("unknown augmentation %q (use flip, shift, wshift, hshift, rotate, zoom)", key)
		}
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}
