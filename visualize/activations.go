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
	layers := net.Layers()
	if layer < 0 || layer >= len(layers) || len(net.LayerNames()) != len(layers) {
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
	y, dims, err := forwardTo(net, x.Clone(), layer)
	if err != nil {
		return nil, err
	}
	if y.Dims() != 4 {
		return nil, layerErrorf("layer %d %s is a %s with output %s, not feature maps (height, width, channels); layers with maps: %s",
			layer, net.LayerNames()[layer], layers[layer].Kind(), tensor.ShapeString(y.Shape[1:]),
			listLayers(net, func(i int) bool { return i < len(dims) && dims[i] == 4 }))
	}
	y = y.Clone() // the layer owns its output
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

// forwardTo runs x through layers[0..upto] in inference mode and returns
// layer upto's output. dims[i] is the rank of layer i's output for the
// layers it ran; when layer upto's output is not 4-D the rest of the
// network is run too, so that dims covers every layer for error messages.
func forwardTo(net *nn.Sequential, x *tensor.Tensor, upto int) (*tensor.Tensor, []int, error) {
	var out *tensor.Tensor
	var dims []int
	var err error
	// Each layer must compute exactly its own function here: unfused, a
	// Conv2D's maps are shown before the ReLU that follows it.
	net.SetFusion(false)
	defer net.SetFusion(true)
	for i, l := range net.Layers() {
		if x, err = l.Forward(x, false); err != nil {
			if out != nil {
				return out, dims, nil
			}
			return nil, nil, fmt.Errorf("visualize: %s: %w", LayerLabel(net, i), err)
		}
		dims = append(dims, x.Dims())
		if i == upto {
			if x.Dims() == 4 {
				return x, dims, nil
			}
			out = x.Clone()
		}
	}
	return out, dims, nil
}
