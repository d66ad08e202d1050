package imgproc

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Matrix is a small dense matrix of float64, row-major, for teaching-size
// convolutions (dlcv convolve --matrix) and pixel dumps.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// At returns the element in row i, column j.
func (m Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// ReadMatrix reads whitespace-separated rows of numbers, one row a line.
// Blank lines and '#' comments are ignored; an empty or ragged matrix is
// an error naming the line. name is used in errors.
func ReadMatrix(r io.Reader, name string) (Matrix, error) {
	rows, err := parseRows(name, r, false)
	if err != nil {
		return Matrix{}, err
	}
	m := Matrix{Rows: len(rows), Cols: len(rows[0])}
	for _, row := range rows {
		m.Data = append(m.Data, row...)
	}
	return m, nil
}

// FormatNumber prints integers without decimals and other values with
// up to 6 significant digits.
func FormatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// WriteMatrix prints m one row a line, numbers right-aligned in columns
// separated by spaces, so the output reads back with ReadMatrix.
func WriteMatrix(w io.Writer, m Matrix) error {
	cells := make([]string, len(m.Data))
	width := 1
	for i, v := range m.Data {
		cells[i] = FormatNumber(v)
		width = max(width, len(cells[i]))
	}
	var b strings.Builder
	for i := range m.Rows {
		for j := range m.Cols {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%*s", width, cells[i*m.Cols+j])
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// OutputSize returns floor((n - f + 2p)/s) + 1, the output length of a
// convolution along one axis of length n with filter size f, zero padding
// p on both sides and stride s, or an error for stride < 1, padding < 0 or
// a filter larger than the padded input.
func OutputSize(axis string, n, f, p, s int) (int, error) {
	switch {
	case s < 1:
		return 0, fmt.Errorf("stride %d: must be at least 1", s)
	case p < 0:
		return 0, fmt.Errorf("padding %d: must not be negative", p)
	case f > n+2*p:
		return 0, fmt.Errorf("kernel %s %d is larger than the padded input %s %d + 2*%d = %d", axis, f, axis, n, p, n+2*p)
	}
	return (n-f+2*p)/s + 1, nil
}

// Explain returns the output-size arithmetic for both axes, e.g.
// "output width  = floor((W - F + 2P)/S) + 1 = floor((5 - 3 + 2*1)/2) + 1 = 3".
func Explain(m Matrix, k Kernel, stride, padding int) string {
	line := func(axis, n, f string, nv, fv int) string {
		if stride < 1 || padding < 0 || fv > nv+2*padding {
			return fmt.Sprintf("output %-6s = floor((%s - %s + 2P)/S) + 1: invalid (%s=%d, %s=%d, P=%d, S=%d)\n", axis, n, f, n, nv, f, fv, padding, stride)
		}
		o := (nv-fv+2*padding)/stride + 1
		return fmt.Sprintf("output %-6s = floor((%s - %s + 2P)/S) + 1 = floor((%d - %d + 2*%d)/%d) + 1 = %d\n", axis, n, f, nv, fv, padding, stride, o)
	}
	return line("width", "W", "F", m.Cols, k.W) + line("height", "H", "F", m.Rows, k.H)
}

// ConvMatrix correlates m with k like a CNN layer: zero padding on every
// side, the kernel's top-left tap on (i*stride - padding, j*stride -
// padding), so padding 0 is a 'valid' convolution:
//
//	S(i, j) = sum_m sum_n K(m, n) I(i*stride + m - padding, j*stride + n - padding)
//
// flip rotates the kernel by 180 degrees first (true convolution).
func ConvMatrix(m Matrix, k Kernel, stride, padding int, flip bool) (Matrix, error) {
	if m.Rows <= 0 || m.Cols <= 0 || len(m.Data) != m.Rows*m.Cols {
		return Matrix{}, fmt.Errorf("matrix: empty or inconsistent (%dx%d, %d values)", m.Rows, m.Cols, len(m.Data))
	}
	if err := k.Validate(); err != nil {
		return Matrix{}, err
	}
	ow, err := OutputSize("width", m.Cols, k.W, padding, stride)
	if err != nil {
		return Matrix{}, err
	}
	oh, err := OutputSize("height", m.Rows, k.H, padding, stride)
	if err != nil {
		return Matrix{}, err
	}
	if flip {
		k = k.Flipped()
	}
	out := Matrix{Rows: oh, Cols: ow, Data: make([]float64, oh*ow)}
	for i := range oh {
		for j := range ow {
			var s float64
			for a := range k.H {
				y := i*stride + a - padding
				if y < 0 || y >= m.Rows {
					continue
				}
				for b := range k.W {
					x := j*stride + b - padding
					if x >= 0 && x < m.Cols {
						s += k.At(a, b) * m.At(y, x)
					}
				}
			}
			out.Data[i*ow+j] = s
		}
	}
	return out, nil
}

// FirstSum spells out the sum for output (0, 0) of ConvMatrix, e.g.
// "0*1 + -1*2 + ... = 7", skipping taps that fall on zero padding.
func FirstSum(m Matrix, k Kernel, padding int, flip bool) string {
	if flip {
		k = k.Flipped()
	}
	var terms []string
	var s float64
	for a := range k.H {
		for b := range k.W {
			y, x := a-padding, b-padding
			if y < 0 || x < 0 || y >= m.Rows || x >= m.Cols {
				continue
			}
			v := k.At(a, b) * m.At(y, x)
			s += v
			terms = append(terms, FormatNumber(k.At(a, b))+"*"+FormatNumber(m.At(y, x)))
		}
	}
	if len(terms) == 0 {
		return "0"
	}
	return strings.Join(terms, " + ") + " = " + FormatNumber(s)
}
