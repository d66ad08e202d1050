package plot

import (
	"fmt"
	"image/color"
	"io"

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
// "Training Loss and Accuracy".
func TrainingCurves(h History, path, title string) error {
	n := len(h.Epochs)
	if n == 0 {
		return fmt.Errorf("plot: %s: history has no epochs", path)
	}
	series := []struct {
		name string
		v    []float64
		c    color.RGBA
	}{
		{"train_loss", h.Loss, color.RGBA{31, 119, 180, 255}},
		{"val_loss", h.ValLoss, color.RGBA{255, 127, 14, 255}},
		{"train_acc", h.Acc, color.RGBA{44, 160, 44, 255}},
		{"val_acc", h.ValAcc, color.RGBA{214, 39, 40, 255}},
	}
	if title == "" {
		title = "Training Loss and Accuracy"
	}
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = "Epoch #"
	p.Y.Label.Text = "Loss/Accuracy"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
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
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plot: %s: %s: %w", path, s.name, err)
		}
		l.Color = s.c
		l.Width = vg.Points(2)
		p.Add(l)
		p.Legend.Add(s.name, l)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("plot: %s: history has no loss or accuracy values", path)
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0 // losses and accuracies are read against zero
	}
	return savePNG(p, path, CurvesWidth, CurvesHeight)
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
