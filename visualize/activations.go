package visualize

import (
	"fmt"
	"image"
	"strings"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// DefaultMaxMaps caps the activation maps Activations draws.
const DefaultMaxMaps = 64

// ActivationOptions tune Activations; the zero value is fine.
type ActivationOptions struct {
	// Scale is the size in pixels of one activation; 0 makes maps about
	// 64 px.
	Scale int
	// Norm is NormTile (default: each channel on its own min..max) or
	// NormGlobal (one min..max for all maps drawn, so weak channels look
	// dark).
	Norm string
	// MaxMaps caps the channels drawn (the first ones); 0 means
	// DefaultMaxMaps.
	MaxMaps int
	// Cols is the number of columns; 0 makes the grid about square.
	Cols int
	// Source names the image in the header ("digit.png").
	Source string
}

// ActivationResult is a drawn grid of activation maps and what it shows.
type ActivationResult struct {
	Image *image.RGBA
	Layer int
	Label string // "re_lu (ReLU, layer 1)"
	// Output is the layer's output for the image, shape (1, H, W, C).
	Output   *tensor.Tensor
	Maps     int // channels drawn (<= C)
	Zero     int // channels that are 0 everywhere (dead for this image), of all C
	Scale    int
	Norm     string
	Min, Max float32 // range of the whole output

	g *grid // layout, for tests
}

// Summary describes the picture in one or two lines.
func (r *ActivationResult) Summary() string {
	var b strings.Builder
	s := r.Output.Shape
	fmt.Fprintf(&b, "%s: output %dx%dx%d (HxWxC), values %.3g..%.3g, %d of %d channels zero everywhere\n",
		r.Label, s[1], s[2], s[3], r.Min, r.Max, r.Zero, s[3])
	fmt.Fprintf(&b, "drew the preprocessed input and %d of %d maps as %dx%d grayscale tiles (x%d nearest), %s\n",
		r.Maps, s[3], s[2]*r.Scale, s[1]*r.Scale, r.Scale, normText(r.Norm, "channel"))
	return b.String()
}

// Activations preprocesses img exactly as m's Preprocess says, runs the
// network up to and including layer, and draws that layer's output: the
// preprocessed input first, then one grayscale map per channel. The
// layer must output feature maps (H, W, C); Dense, Flatten and Softmax
// outputs are an error naming the layers that qualify.
func Activations(m *classifier.Model, img image.Image, layer int, o ActivationOptions) (*ActivationResult, error) {
	net := m.Net
	layers := Layers(net)
	if layer < 0 || layer >= len(layers) {
		return nil, layerErrorf("layer %d out of range (0..%d)", layer, len(layers)-1)
	}
	norm, err := checkNorm(o.Norm)
	if err != nil {
		return nil, err
	}
	p := m.Preprocess
	in, err := p.Apply(img)
	if err != nil {
		return nil, err
	}
	x, err := tensor.FromSlice(in, 1, p.Height, p.Width, p.Channels)
	if err != nil {
		return nil, err
	}
	maps4 := func(i int) bool { return len(layers[i].Outputs[0].Shape()) == 4 }
	if !maps4(layer) {
		return nil, layerErrorf("layer %d %s is a %s with output %s, not feature maps (height, width, channels); layers with maps: %s",
			layer, layers[layer].Name, layers[layer].Op.Kind(), shapeText(layers[layer].Outputs[0].Shape()[1:]),
			listLayers(net, maps4))
	}
	// The graph as built, not the fused one the model trains with: each
	// layer computes exactly its own function here, so a Conv2D's maps are
	// shown before the ReLU that follows it.
	ys, err := net.Graph().NewSession().RunValues(false, []*tensor.Tensor{x.Clone()}, []*nn.Value{layers[layer].Outputs[0]})
	if err != nil {
		return nil, fmt.Errorf("visualize: %s: %w", LayerLabel(net, layer), err)
	}
	y := ys[0].Clone() // the session owns its output
	h, w, c := y.Shape[1], y.Shape[2], y.Shape[3]
	res := &ActivationResult{Layer: layer, Label: LayerLabel(net, layer), Output: y, Norm: norm}
	res.Min, res.Max = minMax(y.Data)
	maxMaps := o.MaxMaps
	if maxMaps <= 0 {
		maxMaps = DefaultMaxMaps
	}
	res.Maps = min(c, maxMaps)
	maps := make([][]float32, c)
	for ch := range c {
		maps[ch] = make([]float32, h*w)
		zero := true
		for i := range h * w {
			v := y.Data[i*c+ch]
			maps[ch][i] = v
			zero = zero && v == 0
		}
		if zero {
			res.Zero++
		}
	}
	var shown []float32
	for ch := range res.Maps {
		shown = append(shown, maps[ch]...)
	}
	glo, ghi := minMax(shown)

	scale := o.Scale
	if scale <= 0 {
		scale = autoScale(max(h, w), 64)
	}
	res.Scale = scale
	g := &grid{scale: scale}
	// The input is drawn at about the maps' size, whatever the layer's
	// stride and pooling did to them.
	inTile := fitTile(x.Data, p.Height, p.Width, p.Channels, max(h, w)*scale)
	ilo, ihi := minMax(inTile.pix)
	normalize(inTile.pix, ilo, ihi)
	inTile.label = "input"
	g.tiles = append(g.tiles, inTile)
	for ch := range res.Maps {
		t := tile{h: h, w: w, c: 1, pix: maps[ch], label: fmt.Sprint(ch)}
		if norm == NormGlobal {
			normalize(t.pix, glo, ghi)
		} else {
			lo, hi := minMax(t.pix)
			normalize(t.pix, lo, hi)
		}
		g.tiles = append(g.tiles, t)
	}
	g.cols = o.Cols
	if g.cols <= 0 {
		g.cols = autoCols(len(g.tiles))
	}
	src := "image"
	if o.Source != "" {
		src = o.Source
	}
	g.header = []string{
		fmt.Sprintf("%s output %s", res.Label, tensor.ShapeString(y.Shape[1:])),
		fmt.Sprintf("%s preprocessed to %dx%dx%d", src, p.Height, p.Width, p.Channels),
	}
	if res.Maps < c {
		g.header = append(g.header, fmt.Sprintf("first %d of %d channels", res.Maps, c))
	}
	g.header = append(g.header, fmt.Sprintf("%s, x%d nearest", normText(norm, "channel"), scale))
	res.Image, res.g = g.render(), g
	return res, nil
}

// fitTile makes a tile of an h x w x c image whose longer side is about
// side pixels: enlarged by an integer factor, or shrunk by
// nearest-neighbour sampling when larger.
func fitTile(pix []float32, h, w, c, side int) tile {
	long := max(h, w)
	if long <= side {
		return tile{h: h, w: w, c: c, pix: append([]float32(nil), pix...), scale: side / long}
	}
	th, tw := max(1, h*side/long), max(1, w*side/long)
	t := tile{h: th, w: tw, c: c, pix: make([]float32, th*tw*c), scale: 1}
	for y := range th {
		for x := range tw {
			copy(t.pix[(y*tw+x)*c:(y*tw+x+1)*c], pix[((y*h/th)*w+x*w/tw)*c:])
		}
	}
	return t
}
