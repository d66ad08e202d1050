package imgproc

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kernel is a small filter, H rows of W weights, row-major.
type Kernel struct {
	Name string
	W, H int
	Data []float64
}

// At returns the weight in row m, column n.
func (k Kernel) At(m, n int) float64 { return k.Data[m*k.W+n] }

// Flipped returns the kernel rotated by 180 degrees: correlating with it
// is true convolution with k.
func (k Kernel) Flipped() Kernel {
	f := Kernel{Name: k.Name, W: k.W, H: k.H, Data: make([]float64, len(k.Data))}
	for i, v := range k.Data {
		f.Data[len(k.Data)-1-i] = v
	}
	return f
}

// Validate reports a kernel with no weights, a shape that does not match
// its data, or a weight that is NaN or infinite.
func (k Kernel) Validate() error {
	if k.W <= 0 || k.H <= 0 {
		return fmt.Errorf("kernel %q: empty (%dx%d)", k.Name, k.W, k.H)
	}
	if len(k.Data) != k.W*k.H {
		return fmt.Errorf("kernel %q: %dx%d needs %d weights, has %d", k.Name, k.W, k.H, k.W*k.H, len(k.Data))
	}
	for i, v := range k.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("kernel %q: weight %d (row %d, column %d) is %v", k.Name, i, i/k.W, i%k.W, v)
		}
	}
	return nil
}

func fromRows(name string, rows [][]float64) Kernel {
	k := Kernel{Name: name, H: len(rows), W: len(rows[0])}
	for _, r := range rows {
		k.Data = append(k.Data, r...)
	}
	return k
}

// Box returns the size x size average (all weights 1/size^2).
func Box(name string, size int) Kernel {
	k := Kernel{Name: name, W: size, H: size, Data: make([]float64, size*size)}
	for i := range k.Data {
		k.Data[i] = 1 / float64(size*size)
	}
	return k
}

// MaxGaussianSigma bounds Gaussian's sigma so the kernel stays small
// enough to build (2*ceil(3*sigma)+1 <= 301 taps a side).
const MaxGaussianSigma = 50

// Gaussian returns the normalised 2-D Gaussian with standard deviation
// sigma, size 2*ceil(3*sigma)+1, the outer product of the 1-D kernel
// OpenCV's cv2.getGaussianKernel(size, sigma) returns.
func Gaussian(sigma float64) (Kernel, error) {
	if !(sigma > 0) || sigma > MaxGaussianSigma {
		return Kernel{}, fmt.Errorf("gaussian sigma %v: must be in (0, %d]", sigma, MaxGaussianSigma)
	}
	r := int(math.Ceil(3 * sigma))
	n := 2*r + 1
	g := make([]float64, n)
	var sum float64
	for i := range g {
		x := float64(i - r)
		g[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}
	k := Kernel{Name: fmt.Sprintf("gaussian%g", sigma), W: n, H: n, Data: make([]float64, n*n)}
	for i := range n {
		for j := range n {
			k.Data[i*n+j] = g[i] * g[j]
		}
	}
	return k, nil
}

// bank holds the named kernels; gaussian is added by Named with a default sigma.
var bank = map[string]func() Kernel{
	"identity":   func() Kernel { return fromRows("identity", [][]float64{{0, 0, 0}, {0, 1, 0}, {0, 0, 0}}) },
	"blur-small": func() Kernel { return Box("blur-small", 7) },
	"blur-large": func() Kernel { return Box("blur-large", 21) },
	"sharpen":    func() Kernel { return fromRows("sharpen", [][]float64{{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}}) },
	"laplacian":  func() Kernel { return fromRows("laplacian", [][]float64{{0, 1, 0}, {1, -4, 1}, {0, 1, 0}}) },
	"sobel-x":    func() Kernel { return fromRows("sobel-x", [][]float64{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}) },
	"sobel-y":    func() Kernel { return fromRows("sobel-y", [][]float64{{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}}) },
	"emboss":     func() Kernel { return fromRows("emboss", [][]float64{{-2, -1, 0}, {-1, 1, 1}, {0, 1, 2}}) },
}

// DefaultGaussianSigma is the sigma of the bank's "gaussian" kernel.
const DefaultGaussianSigma = 2.0

// KernelNames lists the bank in a fixed teaching order.
func KernelNames() []string {
	return []string{"identity", "blur-small", "blur-large", "gaussian", "sharpen", "laplacian", "sobel-x", "sobel-y", "emboss"}
}

// Named returns a kernel of the bank. "gaussian" uses
// DefaultGaussianSigma; "gaussian:S" (e.g. "gaussian:1.5") picks sigma S.
func Named(name string) (Kernel, error) {
	if f, ok := bank[name]; ok {
		return f(), nil
	}
	if name == "gaussian" {
		k, err := Gaussian(DefaultGaussianSigma)
		k.Name = "gaussian"
		return k, err
	}
	if s, ok := strings.CutPrefix(name, "gaussian:"); ok {
		var sigma float64
		if _, err := fmt.Sscan(s, &sigma); err != nil {
			return Kernel{}, fmt.Errorf("kernel %q: sigma %q is not a number", name, s)
		}
		return Gaussian(sigma)
	}
	names := KernelNames()
	sort.Strings(names)
	return Kernel{}, fmt.Errorf("unknown kernel %q (known: %s, gaussian:SIGMA)", name, strings.Join(names, ", "))
}

// ParseKernel reads a custom kernel: rows of numbers separated by
// whitespace or commas, one row a line, or rows separated by ';' (so a
// kernel fits in a flag: "0 -1 0; -1 5 -1; 0 -1 0"). Blank lines and
// lines starting with '#' are ignored.
func ParseKernel(name string, r io.Reader) (Kernel, error) {
	rows, err := parseRows(name, r, true)
	if err != nil {
		return Kernel{}, err
	}
	k := fromRows(name, rows)
	if k.W > MaxKernelSide || k.H > MaxKernelSide {
		return Kernel{}, fmt.Errorf("%s: kernel %dx%d is larger than %dx%d", name, k.W, k.H, MaxKernelSide, MaxKernelSide)
	}
	return k, k.Validate()
}

// MaxKernelSide bounds the width and height of a parsed kernel.
const MaxKernelSide = 1025

// MaxMatrixCells bounds the size of a parsed matrix or kernel.
const MaxMatrixCells = 1 << 24

// parseRows reads whitespace-separated rows of numbers. With semicolons,
// ';' also ends a row, and commas separate numbers too.
func parseRows(name string, r io.Reader, semicolons bool) ([][]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var rows [][]float64
	cells := 0
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		parts := []string{text}
		if semicolons {
			text = strings.ReplaceAll(text, ",", " ")
			parts = strings.Split(text, ";")
		}
		for _, p := range parts {
			f := strings.Fields(p)
			if len(f) == 0 {
				continue
			}
			row := make([]float64, len(f))
			for i, s := range f {
				v, err := parseNumber(s)
				if err != nil {
					return nil, fmt.Errorf("%s: line %d: %v", name, line, err)
				}
				row[i] = v
			}
			if len(rows) > 0 && len(row) != len(rows[0]) {
				return nil, fmt.Errorf("%s: line %d: ragged matrix: row %d has %d numbers, row 1 has %d", name, line, len(rows)+1, len(row), len(rows[0]))
			}
			cells += len(row)
			if cells > MaxMatrixCells {
				return nil, fmt.Errorf("%s: more than %d numbers", name, MaxMatrixCells)
			}
			rows = append(rows, row)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty matrix (no numbers)", name)
	}
	return rows, nil
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}
