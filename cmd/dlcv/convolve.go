package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/imgproc"
)

// stringList is a repeatable flag; each use may also hold a comma list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

const convolveExamples = `  dlcv convolve photo.jpg --kernel sobel-x --kernel sobel-y --out edges
  dlcv convolve photo.jpg --all --out lesson          # every kernel + contact sheet
  dlcv convolve photo.jpg --kernel gaussian:3 --color
  dlcv convolve photo.jpg --kernel-values "0 -1 0; -1 5 -1; 0 -1 0" --map rescale
  dlcv convolve --matrix m.txt --kernel laplacian --stride 2 --padding 1 --explain
  dlcv pixels photo.jpg --region 100,80,8,8 | dlcv convolve --matrix - --kernel sobel-x`

func init() {
	register(&command{
		name:    "convolve",
		summary: "filter an image (or a matrix) with classic kernels and show the results",
		run:     runConvolve,
	})
}

func runConvolve(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("convolve", "IMAGE [--kernel NAME ...|--all] [--out DIR]\n       dlcv convolve --matrix FILE|- --kernel NAME|--kernel-file FILE [--stride S] [--padding P]", convolveExamples, stderr)
	var kernels stringList
	fs.Var(&kernels, "kernel", "kernel `NAME` (repeatable or comma list): "+strings.Join(imgproc.KernelNames(), ", ")+", gaussian:SIGMA")
	all := fs.Bool("all", false, "apply every kernel of the bank")
	kernelFile := fs.String("kernel-file", "", "custom kernel from `FILE`: rows of numbers, one row a line")
	kernelValues := fs.String("kernel-values", "", "custom kernel from the flag: rows separated by ';', e.g. \"0 -1 0; -1 5 -1; 0 -1 0\"")
	outDir := fs.String("out", "convolve-out", "output `DIR` for the filtered images and the contact sheet")
	color := fs.Bool("color", false, "filter R, G and B separately (default: grayscale, OpenCV RGB2GRAY weights)")
	border := fs.String("border", "reflect101", "border handling: reflect101 (OpenCV default), replicate or zero")
	mapping := fs.String("map", "clip", "output mapping to 0..255: clip (round and clamp) or rescale (min..max)")
	flip := fs.Bool("flip", false, "flip the kernel (true convolution) instead of correlation")
	threads := fs.Int("threads", 0, "goroutines over rows (0: all CPUs)")
	cols := fs.Int("sheet-cols", 4, "contact sheet columns")
	tile := fs.Int("sheet-size", 256, "contact sheet tile size (longer side, pixels)")
	matrix := fs.String("matrix", "", "matrix mode: read a matrix from `FILE` (- for stdin) and print the result")
	stride := fs.Int("stride", 1, "matrix mode: stride S")
	padding := fs.Int("padding", 0, "matrix mode: zero padding P on each side (0 = 'valid')")
	explain := fs.Bool("explain", false, "matrix mode: print the output-size arithmetic and the first sum on stdout")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	ks, err := convolveKernels(kernels, *all, *kernelFile, *kernelValues)
	if err != nil {
		return err
	}
	if *matrix != "" {
		if len(pos) > 0 {
			return usageErrorf("--matrix takes no IMAGE argument (got %q)", pos[0])
		}
		if len(ks) != 1 {
			return usageErrorf("--matrix needs exactly one kernel (--kernel NAME, --kernel-file or --kernel-values), got %d", len(ks))
		}
		return convolveMatrix(*matrix, ks[0], *stride, *padding, *flip, *explain, stdout, stderr)
	}
	if len(pos) != 1 {
		return usageErrorf("want one IMAGE argument (or --matrix FILE), got %d", len(pos))
	}
	if len(ks) == 0 {
		return usageErrorf("no kernel: use --kernel NAME, --all, --kernel-file or --kernel-values")
	}
	b, err := imgproc.ParseBorder(*border)
	if err != nil {
		return usageErrorf("--border: %v", err)
	}
	m, err := imgproc.ParseMapping(*mapping)
	if err != nil {
		return usageErrorf("--map: %v", err)
	}
	opt := imgproc.Options{Border: b, Flip: *flip, Threads: *threads}
	return convolveImage(pos[0], ks, opt, m, *color, *outDir, *cols, *tile, stdout)
}

// parseFlagsAnyOrder parses flags placed before or after the positional
// arguments and returns the positional ones.
func parseFlagsAnyOrder(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

func convolveKernels(names []string, all bool, file, values string) ([]imgproc.Kernel, error) {
	if all {
		names = append(imgproc.KernelNames(), names...)
	}
	var ks []imgproc.Kernel
	for _, n := range names {
		k, err := imgproc.Named(n)
		if err != nil {
			return nil, usageErrorf("--kernel: %v", err)
		}
		ks = append(ks, k)
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		k, err := imgproc.ParseKernel(file, f)
		if err != nil {
			return nil, err
		}
		k.Name = "custom-" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		ks = append(ks, k)
	}
	if values != "" {
		k, err := imgproc.ParseKernel("--kernel-values", strings.NewReader(values))
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		k.Name = "custom"
		ks = append(ks, k)
	}
	return ks, nil
}

func convolveMatrix(path string, k imgproc.Kernel, stride, padding int, flip, explain bool, stdout, stderr io.Writer) error {
	var r io.Reader = os.Stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, path
	}
	m, err := imgproc.ReadMatrix(r, name)
	if err != nil {
		return err
	}
	arith := fmt.Sprintf("input %dx%d (HxW), kernel %s %dx%d, stride S=%d, padding P=%d\n", m.Rows, m.Cols, k.Name, k.H, k.W, stride, padding) +
		imgproc.Explain(m, k, stride, padding)
	out, err := imgproc.ConvMatrix(m, k, stride, padding, flip)
	if explain {
		fmt.Fprint(stdout, arith)
		if err == nil {
			fmt.Fprintf(stdout, "S(0,0) = %s\n\n", imgproc.FirstSum(m, k, padding, flip))
		}
	} else {
		fmt.Fprint(stderr, arith)
	}
	if err != nil {
		return err
	}
	return imgproc.WriteMatrix(stdout, out)
}

func convolveImage(path string, ks []imgproc.Kernel, opt imgproc.Options, m imgproc.Mapping, color bool, outDir string, cols, tile int, stdout io.Writer) error {
	img, err := imgproc.Load(path)
	if err != nil {
		return err
	}
	var planes []imgproc.Plane
	if color {
		r, g, b := imgproc.RGBPlanes(img)
		planes = []imgproc.Plane{r, g, b}
	} else {
		planes = []imgproc.Plane{imgproc.GrayPlane(img)}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	orig, _ := imgproc.ToImage(imgproc.Clip, planes...)
	tiles := []imgproc.Tile{{Label: "original", Image: orig}}
	mode := "gray"
	if color {
		mode = "color"
	}
	fmt.Fprintf(stdout, "%s: %dx%d %s, border %v, output %v, %s\n", path, planes[0].W, planes[0].H, mode, opt.Border, m, map[bool]string{false: "correlation", true: "convolution (flipped kernel)"}[opt.Flip])
	for _, k := range ks {
		start := time.Now()
		res, err := imgproc.FilterPlanes(planes, k, opt)
		if err != nil {
			return err
		}
		elapsed := time.Since(start)
		out, err := imgproc.ToImage(m, res...)
		if err != nil {
			return err
		}
		file := filepath.Join(outDir, base+"_"+strings.NewReplacer(":", "-", "/", "-").Replace(k.Name)+".png")
		if err := imgproc.SavePNG(file, out); err != nil {
			return err
		}
		lo, hi := imgproc.MinMax(res...)
		fmt.Fprintf(stdout, "  %-14s %3dx%-3d %-9v values %8.1f..%-8.1f %6.1f ms  %s\n", k.Name, k.W, k.H, imgproc.ChooseMethod(k), lo, hi, float64(elapsed.Microseconds())/1000, file)
		tiles = append(tiles, imgproc.Tile{Label: k.Name, Image: out})
	}
	sheet := filepath.Join(outDir, base+"_sheet.png")
	if err := imgproc.SavePNG(sheet, imgproc.ContactSheet(tiles, cols, tile)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "contact sheet: %s\n", sheet)
	return nil
}
