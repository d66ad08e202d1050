package tfjs

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
)

// StridedSlice with constant begin, end and strides. The masks are
// resolved against the input's rank as TensorFlow's ValidateStridedSliceOp
// does (an implicit ellipsis at the end, new axes, shrunk axes), which
// gives every input axis a start, a size and a step: one nn.Slice, then a
// Reshape where axes are added or removed.

// denseSlice is the slice of one input axis.
type denseSlice struct {
	begin, size, stride int
}

// sliceSpec resolves a StridedSlice for an input shape: the slice of
// every input axis and the output shape.
func sliceSpec(shape, begin, end, strides []int, beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask int) ([]denseSlice, []int, error) {
	if len(begin) != len(end) || len(begin) != len(strides) {
		return nil, nil, fmt.Errorf("begin %v, end %v and strides %v differ in length", begin, end, strides)
	}
	if len(begin) > 30 {
		return nil, nil, fmt.Errorf("%d slice entries (at most 30)", len(begin))
	}
	sparse := len(begin)
	ellipsisSeen := false
	for i := range sparse {
		if ellipsisMask&(1<<i) != 0 {
			if ellipsisSeen {
				return nil, nil, fmt.Errorf("ellipsis_mask %#x has more than one bit set", ellipsisMask)
			}
			ellipsisSeen = true
		}
	}
	if !ellipsisSeen { // an implicit ellipsis after the given entries
		ellipsisMask |= 1 << sparse
		sparse++
	}
	// New axes after the ellipsis shift where the ellipsis ends.
	newAfter := 0
	for i, seen := 0, false; i < sparse; i++ {
		if ellipsisMask&(1<<i) != 0 {
			seen = true
		} else if seen && newAxisMask&(1<<i) != 0 {
			newAfter++
		}
	}
	r := len(shape)
	dense := make([]denseSlice, r)
	const newAxis, shrunk = -1, -2
	var gather []int // per output axis: an input axis, newAxis or shrunk
	full := 0
	for i := range sparse {
		bit := 1 << i
		switch {
		case ellipsisMask&bit != 0:
			next := min(r-(sparse-i)+1+newAfter, r)
			for ; full < next; full++ {
				dense[full] = denseSlice{begin: 0, size: shape[full], stride: 1}
				gather = append(gather, full)
			}
		case newAxisMask&bit != 0:
			gather = append(gather, newAxis)
		default:
			if full >= r {
				return nil, nil, fmt.Errorf("slice entry %d is beyond the input's rank %d", i, r)
			}
			d := shape[full]
			b, e, s := begin[i], end[i], strides[i]
			if s == 0 {
				return nil, nil, fmt.Errorf("stride 0 at entry %d", i)
			}
			if shrinkMask&bit != 0 {
				if d < 0 {
					return nil, nil, unsupported("shrinking axis %d of %v, whose size is unknown until run time", full, shape)
				}
				if b < 0 {
					b += d
				}
				if b < 0 || b >= d {
					return nil, nil, fmt.Errorf("index %d is out of range for axis %d of %v", begin[i], full, shape)
				}
				dense[full] = denseSlice{begin: b, size: 1, stride: 1}
				gather = append(gather, shrunk)
			} else {
				if d < 0 {
					if beginMask&bit == 0 && b != 0 || endMask&bit == 0 || s != 1 {
						return nil, nil, unsupported("slicing axis %d of %v, whose size is unknown until run time", full, shape)
					}
					dense[full] = denseSlice{begin: 0, size: -1, stride: 1}
				} else {
					// Masked ends take the whole axis in the stride's
					// direction; given ones count from the end when
					// negative and are clamped to the axis.
					lo, hi := 0, d
					if s < 0 {
						lo, hi = -1, d-1
					}
					if beginMask&bit != 0 {
						b = lo
						if s < 0 {
							b = hi
						}
					} else {
						if b < 0 {
							b += d
						}
						b = max(lo, min(hi, b))
					}
					if endMask&bit != 0 {
						e = hi
						if s < 0 {
							e = lo
						}
					} else {
						if e < 0 {
							e += d
						}
						e = max(lo, min(hi, e))
					}
					size := 0
					if s > 0 && e > b {
						size = (e - b + s - 1) / s
					} else if s < 0 && b > e {
						size = (b - e - s - 1) / -s
					}
					if size == 0 {
						return nil, nil, unsupported("the slice of axis %d of %v is empty (dlcv has no zero-size tensors)", full, shape)
					}
					if size == 1 {
						s = 1 // one element: the direction does not matter
					}
					dense[full] = denseSlice{begin: b, size: size, stride: s}
				}
				gather = append(gather, full)
			}
			full++
		}
	}
	var out []int
	for _, k := range gather {
		switch k {
		case newAxis:
			out = append(out, 1)
		case shrunk:
		default:
			out = append(out, dense[k].size)
		}
	}
	return dense, out, nil
}

func stridedSliceOp(c *gconv, n *tfNode) ([]*nn.Value, error) {
	if err := nInputs(n, 4); err != nil {
		return nil, err
	}
	x, err := c.in(n, 0)
	if err != nil {
		return nil, err
	}
	var args [3][]int
	for i, what := range []string{"begin", "end", "strides"} {
		if args[i], err = c.intsIn(n, i+1); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	var masks [5]int
	for i, m := range []string{"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"} {
		if masks[i], err = n.attrInt(m, 0); err != nil {
			return nil, err
		}
	}
	shape := x.Shape()
	dense, out, err := sliceSpec(shape, args[0], args[1], args[2], masks[0], masks[1], masks[2], masks[3], masks[4])
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, unsupported("a slice to a scalar (dlcv values keep a batch axis)")
	}
	var starts, ends, axes, strides []int
	cur := slices.Clone(shape)
	for k, d := range dense {
		if d.size == -1 || (d.begin == 0 && d.size == shape[k] && d.stride == 1) {
			continue
		}
		end := d.begin + d.size*d.stride
		if end < 0 { // a reversed run through index 0: past the start
			end = math.MinInt32
		}
		starts, ends = append(starts, d.begin), append(ends, end)
		axes, strides = append(axes, k), append(strides, d.stride)
		cur[k] = d.size
	}
	var steps []nn.Op
	if len(axes) > 0 {
		steps = append(steps, nn.NewSlice(starts, ends, axes, strides))
	}
	if !slices.Equal(cur, out) {
		unknown := 0
		for _, d := range out {
			if d < 0 {
				unknown++
			}
		}
		if unknown > 1 {
			return nil, unsupported("output shape %v has more than one axis of unknown size", out)
		}
		steps = append(steps, nn.NewReshape(out...))
	}
	if len(steps) == 0 {
		return one(x)
	}
	y := x
	if len(steps) == 2 {
		y = c.extra(n, "slice", steps[0], y)
		steps = steps[1:]
	}
	return one(c.node(n.Name, steps[0], y))
}
