package visualize

import (
	"fmt"
	"image"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// Filter drawing modes.
const (
	ModeGray     = "gray"     // one grayscale tile per filter (1 input channel)
	ModeRGB      = "rgb"      // one colour tile per filter (first layer on RGB input)
	ModeChannels = "channels" // rows = filters, columns = input channels
)

// Default caps on what Filters draws.
const (
	DefaultMaxFilters  = 64
	DefaultMaxChannels = 32
)

// FilterOptions tune Filters; the zero value is fine.
type FilterOptions struct {
	// Scale is the size in pixels of one weight; 0 makes tiles about
	// 40 px (one tile per filter) or 24 px (per-channel grid).
	Scale int
	// Norm is NormTile (default: each filter on the min..max of its own
	// weights, all input channels together) or NormGlobal (one min..max
	// for every weight drawn).
	Norm string
	// MaxFilters caps the filters drawn (the first ones); 0 means
	// DefaultMaxFilters.
	MaxFilters int
	// MaxChannels caps the input channels drawn per filter in the
	// per-channel grid; 0 means DefaultMaxChannels.
	MaxChannels int
	// Cols is the number of columns for one-tile-per-filter modes; 0 makes
	// the grid about square.
	Cols int
}

// FilterResult is a drawn kernel grid and what it shows.
type FilterResult struct {
	Image      *image.RGBA
	Layer      int
	Label      string // "conv2d (Conv2D, layer 0)"
	Kernel     []int  // (KH, KW, Cin, Filters)
	Mode       string // ModeGray, ModeRGB or ModeChannels
	Filters    int    // filters drawn (<= Kernel[3])
	Channels   int    // input channels drawn per filter (ModeChannels), else Kernel[2]
	Scale      int
	Norm       string
	Min, Max   float32 // range of all the layer's kernel weights
	TileWidth  int     // pixels
	TileHeight int

	g *grid // layout, for tests
}

// Capped reports whether some filters or input channels were left out.
func (r *FilterResult) Capped() bool {
	return r.Filters < r.Kernel[3] || r.Channels < r.Kernel[2]
}

// Summary describes the picture in one or two lines.
func (r *FilterResult) Summary() string {
	var b strings.Builder
	kh, kw, cin, f := r.Kernel[0], r.Kernel[1], r.Kernel[2], r.Kernel[3]
	fmt.Fprintf(&b, "%s: %d filters of %dx%dx%d (weights %.3g..%.3g)\n", r.Label, f, kh, kw, cin, r.Min, r.Max)
	switch r.Mode {
	case ModeChannels:
		fmt.Fprintf(&b, "drew %d of %d filters (rows) x %d of %d input channels (columns) as %dx%d grayscale tiles (x%d nearest), %s\n",
			r.Filters, f, r.Channels, cin, r.TileWidth, r.TileHeight, r.Scale, normText(r.Norm, "filter"))
	default:
		kind := "grayscale"
		if r.Mode == ModeRGB {
			kind = "RGB"
		}
		fmt.Fprintf(&b, "drew %d of %d filters as %dx%d %s tiles (x%d nearest), %s\n",
			r.Filters, f, r.TileWidth, r.TileHeight, kind, r.Scale, normText(r.Norm, "filter"))
	}
	return b.String()
}

func normText(norm, unit string) string {
	if norm == NormGlobal {
		return "global min-max"
	}
	return "per-" + unit + " min-max"
}

// Filters draws the kernels of the Conv2D layer at index layer of net:
// one tile per filter when the kernels have one input channel, or three
// for the first Conv2D of a model whose input is RGB (drawn in colour);
// otherwise a grid with one grayscale tile per (filter, input channel)
// kernel, a row per filter. The bias is not drawn.
func Filters(net nn.Model, layer int, o FilterOptions) (*FilterResult, error) {
	layers := Layers(net)
	if layer < 0 || layer >= len(layers) {
		return nil, layerErrorf("layer %d out of range (0..%d)", layer, len(layers)-1)
	}
	conv, ok := layers[layer].Op.(*nn.Conv2D)
	if !ok {
		return nil, layerErrorf("layer %d %s is a %s, not a Conv2D: it has no kernels to draw; Conv2D layers: %s",
			layer, layers[layer].Name, layers[layer].Op.Kind(), listLayers(net, func(i int) bool { return isConv(layers[i]) }))
	}
	norm, err := checkNorm(o.Norm)
	if err != nil {
		return nil, err
	}
	kernel := conv.Kernel()
	if kernel == nil || kernel.Value.Dims() != 4 {
		return nil, fmt.Errorf("visualize: %s has no (KH, KW, Cin, F) kernel", LayerLabel(net, layer))
	}
	kh, kw, cin, nf := kernel.Value.Shape[0], kernel.Value.Shape[1], kernel.Value.Shape[2], kernel.Value.Shape[3]
	w := kernel.Value.Data
	at := func(ky, kx, c, f int) float32 { return w[((ky*kw+kx)*cin+c)*nf+f] }

	mode := ModeChannels
	switch {
	case cin == 1:
		mode = ModeGray
	case cin == 3 && firstConv(layers) == layer && len(net.InputShape()) == 3 && net.InputShape()[2] == 3:
		mode = ModeRGB
	}
	maxF := o.MaxFilters
	if maxF <= 0 {
		maxF = DefaultMaxFilters
	}
	maxC := o.MaxChannels
	if maxC <= 0 {
		maxC = DefaultMaxChannels
	}
	shownF, shownC := min(nf, maxF), cin
	if mode == ModeChannels {
		shownC = min(cin, maxC)
	}
	scale := o.Scale
	if scale <= 0 {
		target := 40
		if mode == ModeChannels {
			target = 24
		}
		scale = autoScale(max(kh, kw), target)
	}

	// Per-filter ranges cover all of a filter's weights; the global one
	// covers everything drawn.
	ranges := make([][2]float32, shownF)
	var all []float32
	for f := range shownF {
		vals := make([]float32, 0, kh*kw*cin)
		for ky := range kh {
			for kx := range kw {
				for c := range cin {
					vals = append(vals, at(ky, kx, c, f))
					if c < shownC {
						all = append(all, at(ky, kx, c, f))
					}
				}
			}
		}
		ranges[f][0], ranges[f][1] = minMax(vals)
	}
	glo, ghi := minMax(all)
	rangeOf := func(f int) (float32, float32) {
		if norm == NormGlobal {
			return glo, ghi
		}
		return ranges[f][0], ranges[f][1]
	}

	g := &grid{scale: scale}
	res := &FilterResult{Layer: layer, Label: LayerLabel(net, layer), Kernel: []int{kh, kw, cin, nf},
		Mode: mode, Filters: shownF, Channels: shownC, Scale: scale, Norm: norm,
		TileWidth: kw * scale, TileHeight: kh * scale}
	res.Min, res.Max = minMax(w)
	g.header = []string{
		fmt.Sprintf("%s: %d filters %dx%dx%d", res.Label, nf, kh, kw, cin),
	}
	if mode == ModeChannels {
		g.cols = shownC
		for f := range shownF {
			g.rowLabels = append(g.rowLabels, fmt.Sprintf("f%d", f))
			lo, hi := rangeOf(f)
			for c := range shownC {
				t := tile{h: kh, w: kw, c: 1, pix: make([]float32, kh*kw)}
				for ky := range kh {
					for kx := range kw {
						t.pix[ky*kw+kx] = at(ky, kx, c, f)
					}
				}
				normalize(t.pix, lo, hi)
				g.tiles = append(g.tiles, t)
			}
		}
		for c := range shownC {
			g.colLabels = append(g.colLabels, fmt.Sprint(c))
		}
		g.header = append(g.header, fmt.Sprintf("rows: filters %d of %d; columns: input channels %d of %d", shownF, nf, shownC, cin))
	} else {
		g.cols = o.Cols
		if g.cols <= 0 {
			g.cols = autoCols(shownF)
		}
		for f := range shownF {
			t := tile{h: kh, w: kw, c: cin, pix: make([]float32, kh*kw*cin), label: fmt.Sprint(f)}
			for ky := range kh {
				for kx := range kw {
					for c := range cin {
						t.pix[(ky*kw+kx)*cin+c] = at(ky, kx, c, f)
					}
				}
			}
			lo, hi := rangeOf(f)
			normalize(t.pix, lo, hi)
			g.tiles = append(g.tiles, t)
		}
		if shownF < nf {
			g.header = append(g.header, fmt.Sprintf("first %d of %d filters", shownF, nf))
		}
	}
	g.header = append(g.header, fmt.Sprintf("%s, x%d nearest", normText(norm, "filter"), scale))
	res.Image, res.g = g.render(), g
	return res, nil
}

// firstConv is the index of the first Conv2D (-1 when none).
func firstConv(layers []*nn.Node) int {
	for i, l := range layers {
		if isConv(l) {
			return i
		}
	}
	return -1
}

func checkNorm(n string) (string, error) {
	switch n {
	case "", NormTile:
		return NormTile, nil
	case NormGlobal:
		return NormGlobal, nil
	}
	return "", fmt.Errorf("normalisation %q: want %q or %q", n, NormTile, NormGlobal)
}
