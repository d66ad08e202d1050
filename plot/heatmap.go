package plot

import (
	"fmt"
	"image/color"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// HeatmapSize is the width and height, in pixels, of a confusion heat map.
const HeatmapSize = 700

// ConfusionHeatmap draws a confusion matrix (rows = true class, as
// metrics.ConfusionMatrix returns it) as a white-to-blue heat map with the
// count written in every cell, true classes top to bottom and predicted
// classes left to right, and writes it as a PNG to path.
func ConfusionHeatmap(cm [][]int, classNames []string, path string) error {
	n := len(cm)
	if n == 0 {
		return fmt.Errorf("plot: %s: empty confusion matrix", path)
	}
	if len(classNames) != n {
		return fmt.Errorf("plot: %s: %d class names for a %dx%d confusion matrix", path, len(classNames), n, n)
	}
	maxV := 0
	for i, row := range cm {
		if len(row) != n {
			return fmt.Errorf("plot: %s: confusion matrix row %d has %d values, want %d", path, i, len(row), n)
		}
		for _, v := range row {
			if v < 0 {
				return fmt.Errorf("plot: %s: negative count %d in row %d", path, v, i)
			}
			maxV = max(maxV, v)
		}
	}
	g := grid{cm: cm}
	hm := plotter.NewHeatMap(g, blues{})
	hm.Min, hm.Max = 0, float64(max(maxV, 1))
	p := gplot.New()
	p.Title.Text = "Confusion matrix"
	p.X.Label.Text = "Predicted label"
	p.Y.Label.Text = "True label"
	p.Add(hm)

	var xy plotter.XYLabels
	var styles []text.Style
	fontSize := vg.Points(max(6, min(14, 160/float64(n))))
	for i := range n {
		for j := range n {
			xy.XYs = append(xy.XYs, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
			xy.Labels = append(xy.Labels, strconv.Itoa(cm[i][j]))
			s := text.Style{Font: p.X.Label.TextStyle.Font, Handler: p.X.Label.TextStyle.Handler, XAlign: -0.5, YAlign: -0.5}
			s.Font.Size = fontSize
			s.Color = color.Black
			if float64(cm[i][j]) > 0.5*float64(maxV) {
				s.Color = color.White
			}
			styles = append(styles, s)
		}
	}
	labels, err := plotter.NewLabels(xy)
	if err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	labels.TextStyle = styles
	p.Add(labels)

	xt := make([]gplot.Tick, n)
	yt := make([]gplot.Tick, n)
	for i := range n {
		xt[i] = gplot.Tick{Value: float64(i), Label: classNames[i]}
		yt[i] = gplot.Tick{Value: float64(n - 1 - i), Label: classNames[i]}
	}
	p.X.Tick.Marker = gplot.ConstantTicks(xt)
	p.Y.Tick.Marker = gplot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return savePNG(p, path, HeatmapSize, HeatmapSize)
}

// grid presents cm as a GridXYZ with true class 0 at the top.
type grid struct{ cm [][]int }

func (g grid) Dims() (c, r int)   { return len(g.cm), len(g.cm) }
func (g grid) Z(c, r int) float64 { return float64(g.cm[len(g.cm)-1-r][c]) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// blues runs from white to dark blue, like matplotlib's "Blues".
type blues struct{}

func (blues) Colors() []color.Color {
	const n = 256
	c := make([]color.Color, n)
	for i := range c {
		t := float64(i) / (n - 1)
		c[i] = color.RGBA{lerp(247, 8, t), lerp(251, 48, t), lerp(255, 107, t), 255}
	}
	return c
}

func lerp(a, b, t float64) uint8 { return uint8(a + (b-a)*t + 0.5) }
