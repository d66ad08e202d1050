package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// resizeMatrix is the (out x in) interpolation matrix of one axis, from
// the ONNX formulas written out directly.
func resizeMatrix(mode, coord, nearest string, in, out int, scale float64) [][]float64 {
	m := make([][]float64, out)
	for x := range out {
		m[x] = make([]float64, in)
		var v float64
		xf := float64(x)
		switch coord {
		case "asymmetric":
			v = xf / scale
		case "align_corners":
			if out > 1 {
				v = xf * float64(in-1) / float64(out-1)
			}
		case "pytorch_half_pixel":
			if out > 1 {
				v = (xf+0.5)/scale - 0.5
			}
		default:
			v = (xf+0.5)/scale - 0.5
		}
		clamp := func(i int) int { return min(max(i, 0), in-1) }
		if mode == "bilinear" {
			v = math.Min(math.Max(v, 0), float64(in-1))
			i := int(math.Floor(v))
			f := v - float64(i)
			m[x][clamp(i)] += 1 - f
			m[x][clamp(i+1)] += f
			continue
		}
		var i int
		switch nearest {
		case "round_prefer_ceil":
			i = int(math.Floor(v + 0.5))
		case "floor":
			i = int(math.Floor(v))
		case "ceil":
			i = int(math.Ceil(v))
		default: // round_prefer_floor
			i = int(math.Round(v))
			if v-math.Floor(v) == 0.5 {
				i = int(math.Floor(v))
			}
		}
		m[x][clamp(i)] = 1
	}
	return m
}

func refResize(x *tensor.Tensor, ry, rx [][]float64, dy []float32) (y, dx []float64) {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := len(ry), len(rx)
	y = make([]float64, n*oh*ow*c)
	dx = make([]float64, len(x.Data))
	for b := range n {
		for oy := range oh {
			for ox := range ow {
				for iy := range h {
					for ix := range w {
						k := ry[oy][iy] * rx[ox][ix]
						if k == 0 {
							continue
						}
						for ch := range c {
							o := ((b*oh+oy)*ow+ox)*c + ch
							i := ((b*h+iy)*w+ix)*c + ch
							y[o] += k * float64(x.Data[i])
							dx[i] += k * float64(dy[o])
						}
					}
				}
			}
		}
	}
	return y, dx
}

func TestResizeAgainstReference(t *testing.T) {
	type size struct{ h, w, c int }
	for _, c := range []struct {
		op Resize
		in size
	}{
		{Resize{Mode: "nearest", CoordinateMode: "asymmetric", NearestMode: "floor", Scales: []float32{2, 2}}, size{3, 4, 2}},
		{Resize{Mode: "nearest", CoordinateMode: "asymmetric", NearestMode: "floor", Sizes: []int{7, 3}}, size{5, 6, 1}},
		{Resize{Mode: "nearest", Scales: []float32{2, 3}}, size{3, 2, 3}},                              // ONNX defaults: half_pixel, round_prefer_floor
		{Resize{Mode: "nearest", NearestMode: "round_prefer_ceil", Sizes: []int{6, 9}}, size{4, 3, 2}}, // TensorFlow 2
		{Resize{Mode: "nearest", CoordinateMode: "align_corners", NearestMode: "ceil", Sizes: []int{5, 2}}, size{3, 7, 1}},
		{Resize{Mode: "bilinear", Scales: []float32{2, 2}}, size{4, 5, 3}},
		{Resize{Mode: "bilinear", Sizes: []int{3, 4}}, size{7, 9, 2}}, // downsampling
		{Resize{Mode: "bilinear", CoordinateMode: "align_corners", Sizes: []int{7, 1}}, size{3, 4, 5}},
		{Resize{Mode: "bilinear", CoordinateMode: "asymmetric", Scales: []float32{1.5, 0.5}}, size{4, 6, 2}},
		{Resize{Mode: "bilinear", CoordinateMode: "pytorch_half_pixel", Sizes: []int{1, 5}}, size{4, 3, 2}},
		{Resize{Mode: "linear", Scales: []float32{3, 1}}, size{2, 3, 9}},
		{Resize{Mode: "bilinear", Scales: []float32{4, 4}}, size{9, 8, 1}},   // several rows per unit
		{Resize{Mode: "bilinear", Scales: []float32{2, 2}}, size{32, 32, 8}}, // several units
		{Resize{Mode: "nearest", Scales: []float32{2, 2}}, size{32, 32, 8}},
	} {
		t.Run(fmt.Sprintf("%s_%s_%s_%v_%v_%v", c.op.Mode, c.op.CoordinateMode, c.op.NearestMode, c.op.Scales, c.op.Sizes, c.in), func(t *testing.T) {
			op := c.op
			x := psRand(1, 2, c.in.h, c.in.w, c.in.c)
			out, err := op.Shapes([][]int{x.Shape})
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := out[0][1], out[0][2]
			sh, sw := float64(oh)/float64(c.in.h), float64(ow)/float64(c.in.w)
			if op.Scales != nil {
				sh, sw = float64(op.Scales[0]), float64(op.Scales[1])
				if oh != int(float64(c.in.h)*sh) || ow != int(float64(c.in.w)*sw) {
					t.Fatalf("output %v", out[0])
				}
			}
			mode := "nearest"
			if op.Mode != "nearest" {
				mode = "bilinear"
			}
			ry := resizeMatrix(mode, op.CoordinateMode, op.NearestMode, c.in.h, oh, sh)
			rx := resizeMatrix(mode, op.CoordinateMode, op.NearestMode, c.in.w, ow, sw)
			dy := psRand(2, out[0]...)
			wy, wdx := refResize(x, ry, rx, dy.Data)
			ys, dxs := psRun(t, &op, []*tensor.Tensor{x}, []*tensor.Tensor{dy})
			psClose(t, "y", ys[0].Data, wy, 1e-6)
			psClose(t, "dx", dxs[0].Data, wdx, 1e-5)
		})
	}
}

func TestResizeGrad(t *testing.T) {
	gradCheckOp(t, NewResize("bilinear", 2, 2), [][]int{{2, 3, 4, 2}}, gradOpts{Tol: 1e-3, Seed: 1})
	gradCheckOp(t, &Resize{Mode: "bilinear", CoordinateMode: "align_corners", Sizes: []int{5, 3}}, [][]int{{2, 4, 5, 3}}, gradOpts{Tol: 1e-3, Seed: 2})
	gradCheckOp(t, NewResizeTo("nearest", 5, 7), [][]int{{2, 3, 4, 2}}, gradOpts{Tol: 1e-3, Seed: 3})
	gradCheckOp(t, &Resize{Mode: "nearest", CoordinateMode: "asymmetric", NearestMode: "floor", Scales: []float32{0.5, 0.5}}, [][]int{{1, 5, 7, 3}}, gradOpts{Tol: 1e-3, Seed: 4})
}

func TestResizeShapesAndErrors(t *testing.T) {
	psShapes(t, NewResize("nearest", 2, 2), [][]int{{-1, 7, 5, 3}}, []int{-1, 14, 10, 3})
	psShapes(t, NewResize("bilinear", 0.5, 1.5), [][]int{{-1, 7, 5, 3}}, []int{-1, 3, 7, 3})
	psShapes(t, NewResize("bilinear", 2, 2), [][]int{{-1, -1, -1, 3}}, []int{-1, -1, -1, 3})
	psShapes(t, NewResizeTo("nearest", 32, 48), [][]int{{-1, -1, -1, 3}}, []int{-1, 32, 48, 3})
	psShapeErrors(t, []psErrCase{
		{NewResize("cubic", 2, 2), [][]int{{-1, 4, 4, 3}}, []string{`unknown mode "cubic"`}},
		{&Resize{Scales: []float32{2, 2}, CoordinateMode: "tf_crop_and_resize"}, [][]int{{-1, 4, 4, 3}}, []string{`unknown coordinate mode "tf_crop_and_resize"`}},
		{&Resize{Scales: []float32{2, 2}, NearestMode: "round"}, [][]int{{-1, 4, 4, 3}}, []string{`unknown nearest mode "round"`}},
		{&Resize{}, [][]int{{-1, 4, 4, 3}}, []string{"either scales or sizes"}},
		{&Resize{Scales: []float32{2, 2}, Sizes: []int{3, 3}}, [][]int{{-1, 4, 4, 3}}, []string{"either scales or sizes"}},
		{&Resize{Scales: []float32{1, 2, 2, 1}}, [][]int{{-1, 4, 4, 3}}, []string{"scales [1 2 2 1]", "(height, width)"}},
		{&Resize{Scales: []float32{2, -1}}, [][]int{{-1, 4, 4, 3}}, []string{"positive"}},
		{&Resize{Sizes: []int{0, 3}}, [][]int{{-1, 4, 4, 3}}, []string{"sizes [0 3]"}},
		{NewResize("nearest", 0.1, 1), [][]int{{-1, 4, 4, 3}}, []string{"scale 0.1", "axis of 4", "0 pixels", "(?, 4, 4, 3)"}},
		{NewResize("nearest", 2, 2), [][]int{{-1, 4, 3}}, []string{"(?, 4, 3)", "(batch, height, width, channels)"}},
	})
}
