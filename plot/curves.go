package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// History is what a training run records once per epoch. ValLoss and
// ValAcc may be empty when there was no validation set; otherwise every
// slice has len(Epochs) values.
type History struct {
	Epochs  []int     `json:"epochs"`
	Loss    []float64 `json:"loss"`
	Acc     []float64 `json:"acc"`
	ValLoss []float64 `json:"val_loss,omitempty"`
	ValAcc  []float64 `json:"val_acc,omitempty"`
}

// Size of the PNG files, in pixels.
const (
	CurvesWidth, CurvesHeight = 800, 600
)

// TrainingCurves draws train_loss, val_loss, train_acc and val_acc against
// the epoch on one chart (the classic Keras "Training Loss and Accuracy"
// plot) and writes it as a PNG to path. An empty title means
// "Training Loss and Accuracy". The legend sits to the right of the chart,
// where it hides no curve; every epoch is marked, so that a one-epoch run
// shows its points; the y axis has a tick about every tenth of its range.
func TrainingCurves(h History, path, title string) error {
	n := len(h.Epochs)
	if n == 0 {
		return fmt.Errorf("plot: %s: history has no epochs", path)
	}
	series := []struct {
		name  string
		v     []float64
		c     color.RGBA
		glyph draw.GlyphDrawer
	}{
		{"train_loss", h.Loss, color.RGBA{31, 119, 180, 255}, draw.CircleGlyph{}},
		{"val_loss", h.ValLoss, color.RGBA{255, 127, 14, 255}, draw.SquareGlyph{}},
		{"train_acc", h.Acc, color.RGBA{44, 160, 44, 255}, draw.TriangleGlyph{}},
		{"val_acc", h.ValAcc, color.RGBA{214, 39, 40, 255}, draw.PyramidGlyph{}},
	}
	if title == "" {
		title = "Training Loss and Accuracy"
	}
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = "Epoch #"
	p.Y.Label.Text = "Loss/Accuracy"
	p.Add(plotter.NewGrid())
	legend := gplot.NewLegend()
	legend.Top, legend.Left = true, true
	drawn := 0
	for _, s := range series {
		if len(s.v) == 0 {
			continue
		}
		if len(s.v) != n {
			return fmt.Errorf("plot: %s: %s has %d values for %d epochs", path, s.name, len(s.v), n)
		}
		xy := make(plotter.XYs, n)
		for i := range xy {
			xy[i].X, xy[i].Y = float64(h.Epochs[i]), s.v[i]
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("plot: %s: %s: %w", path, s.name, err)
		}
		l.Color, l.Width = s.c, vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = s.c, s.glyph, vg.Points(3)
		p.Add(l, pts)
		legend.Add(s.name, l, pts)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("plot: %s: history has no loss or accuracy values", path)
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0 // losses and accuracies are read against zero
	}
	if n == 1 { // a single epoch: some room either side of its points
		p.X.Min, p.X.Max = p.X.Min-1, p.X.Max+1
	}
	p.X.Tick.Marker = integerTicks{}
	p.Y.Tick.Marker = tenthTicks{}
	return savePNGLegend(p, &legend, path, CurvesWidth, CurvesHeight)
}

// legendWidth is the strip right of the chart that holds its legend.
const legendWidth = 120

// savePNGLegend is savePNG with legend drawn in a strip to the right of
// the chart.
func savePNGLegend(p *gplot.Plot, legend *gplot.Legend, path string, w, h int) error {
	const dpi = 96
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	strip := vg.Length(legendWidth) * vg.Inch / dpi
	p.Draw(draw.Crop(dc, 0, -strip, 0, 0))
	// Level with the top of the chart's data area, below the title.
	top := p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding + vg.Points(8)
	legend.Draw(draw.Crop(dc, dc.Max.X-strip+vg.Points(6), 0, 0, -top))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}

// tenthTicks labels the axis about every tenth of its range, at 1, 2, 2.5
// or 5 times a power of ten (0.1 steps for accuracies and small losses).
type tenthTicks struct{}

func (tenthTicks) Ticks(lo, hi float64) []gplot.Tick { return niceTicks(lo, hi, false) }

// integerTicks marks whole epochs, about ten of them.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []gplot.Tick { return niceTicks(lo, hi, true) }

// niceTicks labels lo..hi about every tenth of the range at a round step
// (whole steps when integer).
func niceTicks(lo, hi float64, integer bool) []gplot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	// The round step whose tick count is closest to ten.
	pow := math.Pow(10, math.Floor(math.Log10((hi-lo)/10)))
	step, best := 0.0, math.Inf(1)
	for _, m := range []float64{1, 2, 2.5, 5, 10, 20} {
		if d := math.Abs((hi-lo)/(m*pow) - 10); d < best && !(integer && m == 2.5) {
			step, best = m*pow, d
		}
	}
	if integer {
		step = max(step, 1)
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if r := step / math.Pow(10, -float64(decimals)); math.Abs(r-math.Round(r)) > 1e-6 {
		decimals++ // 0.25
	}
	var ts []gplot.Tick
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		v := i * step
		if v == 0 {
			v = 0 // not -0
		}
		ts = append(ts, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return ts
}

// savePNG renders p at w x h pixels and writes it atomically.
func savePNG(p *gplot.Plot, path string, w, h int) error {
	const dpi = 96
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi))
	p.Draw(draw.New(c))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}
