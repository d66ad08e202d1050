package visualize

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

// Normalisation modes: each tile on its own range, or one range for all.
const (
	NormTile   = "tile"   // per filter (Filters) or per channel (Activations)
	NormGlobal = "global" // one min..max over everything shown
)

// tile is one picture of a grid: h x w pixels of c (1 or 3) interleaved
// channels, already mapped to [0, 1].
type tile struct {
	h, w, c int
	pix     []float32
	label   string // drawn under the tile; "" for none
	scale   int    // enlargement; 0 means the grid's
}

// size is the tile's size in pixels in grid g.
func (t tile) size(g *grid) (w, h int) {
	s := g.scale
	if t.scale > 0 {
		s = t.scale
	}
	return t.w * s, t.h * s
}

// grid lays tiles out row by row, each enlarged scale times, under a
// header of text lines. Row and column labels (optional) go to the left
// of each row and above each column.
type grid struct {
	header    []string
	tiles     []tile
	cols      int
	scale     int
	rowLabels []string
	colLabels []string
}

// Layout in pixels. The 7x13 bitmap font has an ascent of 11.
const (
	gap    = 4
	margin = 8
	lineH  = 15
	ascent = 11
	labelH = 14
)

var face = basicfont.Face7x13

func textWidth(s string) int { return font.MeasureString(face, s).Ceil() }

// cell is the size of every grid cell (the largest tile or label).
func (g *grid) cell() (w, h int) {
	for _, t := range g.tiles {
		tw, th := t.size(g)
		w, h = max(w, tw, textWidth(t.label)), max(h, th)
	}
	for _, l := range g.colLabels {
		w = max(w, textWidth(l))
	}
	return w, h
}

// hasTileLabels reports whether any tile carries a label.
func (g *grid) hasTileLabels() bool {
	for _, t := range g.tiles {
		if t.label != "" {
			return true
		}
	}
	return false
}

// geometry returns the cell size, the top-left corner of the first cell
// and the step from one cell to the next.
func (g *grid) geometry() (cw, ch int, origin image.Point, stepX, stepY int) {
	cw, ch = g.cell()
	left := margin
	for _, l := range g.rowLabels {
		left = max(left, margin+textWidth(l)+gap)
	}
	top := margin + len(g.header)*lineH
	if len(g.header) > 0 {
		top += gap
	}
	if len(g.colLabels) > 0 {
		top += labelH
	}
	stepY = ch + gap
	if g.hasTileLabels() {
		stepY += labelH
	}
	return cw, ch, image.Pt(left, top), cw + gap, stepY
}

// origin is the top-left pixel of tile i.
func (g *grid) origin(i int) image.Point {
	_, _, o, sx, sy := g.geometry()
	return o.Add(image.Pt((i%g.cols)*sx, (i/g.cols)*sy))
}

// render draws the grid on a white background.
func (g *grid) render() *image.RGBA {
	g.cols = max(1, min(g.cols, len(g.tiles)))
	cw, ch, o, sx, sy := g.geometry()
	rows := (len(g.tiles) + g.cols - 1) / g.cols
	w := o.X + g.cols*sx - gap + margin
	for _, l := range g.header {
		w = max(w, 2*margin+textWidth(l))
	}
	h := o.Y + rows*sy - gap + margin
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, l := range g.header {
		drawText(img, margin, margin+i*lineH+ascent, l)
	}
	for i, l := range g.colLabels {
		drawText(img, o.X+i*sx+(cw-textWidth(l))/2, o.Y-labelH+ascent, l)
	}
	for i, l := range g.rowLabels {
		drawText(img, o.X-gap-textWidth(l), o.Y+i*sy+ascent, l)
	}
	for i, t := range g.tiles {
		p := o.Add(image.Pt((i%g.cols)*sx, (i/g.cols)*sy))
		s := g.scale
		if t.scale > 0 {
			s = t.scale
		}
		drawTile(img, p, t, s)
		if t.label != "" {
			drawText(img, p.X, p.Y+ch+ascent+1, t.label)
		}
	}
	return img
}

func drawText(img draw.Image, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// drawTile paints t at p, each value a scale x scale square
// (nearest-neighbour enlargement).
func drawTile(img *image.RGBA, p image.Point, t tile, scale int) {
	for y := range t.h * scale {
		for x := range t.w * scale {
			v := t.pix[((y/scale)*t.w+x/scale)*t.c:]
			var c color.RGBA
			if t.c == 3 {
				c = color.RGBA{to8(v[0]), to8(v[1]), to8(v[2]), 255}
			} else {
				g := to8(v[0])
				c = color.RGBA{g, g, g, 255}
			}
			img.SetRGBA(p.X+x, p.Y+y, c)
		}
	}
}

// to8 maps [0, 1] to 0..255, rounding.
func to8(v float32) uint8 {
	return uint8(min(max(v, 0), 1)*255 + 0.5)
}

// minMax is the range of the finite values of v (0, 0 when there are none).
func minMax(v []float32) (lo, hi float32) {
	first := true
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		if first {
			lo, hi, first = x, x, false
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// normalize maps v from lo..hi to [0, 1] in place. A constant range maps
// everything to 0 (black) and non-finite values to 0 too.
func normalize(v []float32, lo, hi float32) {
	r := hi - lo
	for i, x := range v {
		if r <= 0 || math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			v[i] = 0
			continue
		}
		v[i] = (x - lo) / r
	}
}

// autoCols is the column count that makes n tiles roughly square.
func autoCols(n int) int {
	return max(1, int(math.Ceil(math.Sqrt(float64(n)))))
}

// autoScale is the enlargement that makes a side of n pixels about target
// pixels (at least 1).
func autoScale(n, target int) int {
	return max(1, target/max(n, 1))
}

// WritePNG writes img to path atomically.
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
