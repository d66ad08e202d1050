package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scores are precision, recall, F1 and support of one class or one average.
type Scores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1-score"`
	Support   int     `json:"support"`
}

// ClassScores are the scores of one class.
type ClassScores struct {
	Name string `json:"name"`
	Scores
}

// Report is the data behind a classification report; it encodes to JSON.
type Report struct {
	Classes  []ClassScores `json:"classes"`
	Accuracy float64       `json:"accuracy"`
	// Micro is the micro average; it equals accuracy (its F1 is the number
	// scikit-learn prints on the "accuracy" row).
	Micro    Scores `json:"micro_avg"`
	Macro    Scores `json:"macro_avg"`
	Weighted Scores `json:"weighted_avg"`
	// Undefined names the ratios that were 0/0 and reported as 0.0,
	// e.g. "precision of class cat (never predicted)".
	Undefined []string `json:"undefined,omitempty"`
}

func checkLabels(yTrue, yPred []int, n int) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("metrics: %d true labels but %d predictions", len(yTrue), len(yPred))
	}
	if n == 0 {
		return fmt.Errorf("metrics: no class names")
	}
	for i := range yTrue {
		if yTrue[i] < 0 || yTrue[i] >= n {
			return fmt.Errorf("metrics: true label %d at index %d is outside 0..%d", yTrue[i], i, n-1)
		}
		if yPred[i] < 0 || yPred[i] >= n {
			return fmt.Errorf("metrics: predicted label %d at index %d is outside 0..%d", yPred[i], i, n-1)
		}
	}
	return nil
}

// NewReport computes per-class and averaged scores with scikit-learn's
// formulas and floating-point operation order (precision_recall_fscore_support
// and numpy's pairwise summation), so printed digits match exactly.
func NewReport(yTrue, yPred []int, classNames []string) (*Report, error) {
	n := len(classNames)
	if err := checkLabels(yTrue, yPred, n); err != nil {
		return nil, err
	}
	tp := make([]int, n)
	predSum := make([]int, n)
	trueSum := make([]int, n)
	for i := range yTrue {
		trueSum[yTrue[i]]++
		predSum[yPred[i]]++
		if yTrue[i] == yPred[i] {
			tp[yTrue[i]]++
		}
	}
	r := &Report{Classes: make([]ClassScores, n)}
	p := make([]float64, n)
	rc := make([]float64, n)
	f := make([]float64, n)
	w := make([]float64, n)
	total := 0
	for c := range n {
		p[c] = ratio(tp[c], predSum[c])
		rc[c] = ratio(tp[c], trueSum[c])
		f[c] = f1(p[c], rc[c])
		if predSum[c] == 0 {
			r.Undefined = append(r.Undefined, fmt.Sprintf("precision of class %s (never predicted)", classNames[c]))
		}
		if trueSum[c] == 0 {
			r.Undefined = append(r.Undefined, fmt.Sprintf("recall of class %s (no true samples)", classNames[c]))
		}
		w[c] = float64(trueSum[c])
		total += trueSum[c]
		r.Classes[c] = ClassScores{Name: classNames[c], Scores: Scores{p[c], rc[c], f[c], trueSum[c]}}
	}
	sumTP, sumPred, sumTrue := 0, 0, 0
	for c := range n {
		sumTP += tp[c]
		sumPred += predSum[c]
		sumTrue += trueSum[c]
	}
	mp, mr := ratio(sumTP, sumPred), ratio(sumTP, sumTrue)
	r.Micro = Scores{mp, mr, f1(mp, mr), total}
	r.Accuracy = ratio(sumTP, len(yTrue))
	fn := float64(n)
	r.Macro = Scores{pairwiseSum(p) / fn, pairwiseSum(rc) / fn, pairwiseSum(f) / fn, total}
	if total > 0 {
		wsum := pairwiseSum(w)
		r.Weighted = Scores{weighted(p, w) / wsum, weighted(rc, w) / wsum, weighted(f, w) / wsum, total}
	}
	return r, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// f1 follows scikit-learn 1.2: (1+β²)·p·r / (β²·p + r) with a zero
// denominator replaced by 1.
func f1(p, r float64) float64 {
	d := p + r
	if d == 0 {
		d = 1
	}
	return 2 * p * r / d
}

func weighted(v, w []float64) float64 {
	m := make([]float64, len(v))
	for i := range v {
		m[i] = v[i] * w[i]
	}
	return pairwiseSum(m)
}

// pairwiseSum reproduces numpy's float64 add.reduce on a contiguous array:
// a plain loop below 8 values, 8 interleaved partial sums up to 128, and
// recursive halving above, so averages round exactly as numpy's do.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0 // numpy starts from -0.0, which is the same for these sums
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		s := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

// Text renders the report in scikit-learn's classification_report layout
// with the given number of decimal digits.
func (r *Report) Text(digits int) string {
	const lastHeading = "weighted avg"
	width := len(lastHeading)
	for _, c := range r.Classes {
		width = max(width, utf8.RuneCountInString(c.Name))
	}
	width = max(width, digits)
	var b strings.Builder
	// Python pads by code points; so does padLeft.
	fmt.Fprintf(&b, "%s  %9s %9s %9s %9s\n\n", padLeft("", width), "precision", "recall", "f1-score", "support")
	row := func(name string, s Scores) {
		fmt.Fprintf(&b, "%s  %9s %9s %9s %9d\n", padLeft(name, width), ff(s.Precision, digits), ff(s.Recall, digits), ff(s.F1, digits), s.Support)
	}
	for _, c := range r.Classes {
		row(c.Name, c.Scores)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s  %9s %9s %9s %9d\n", padLeft("accuracy", width), "", "", ff(r.Micro.F1, digits), r.Micro.Support)
	row("macro avg", r.Macro)
	row("weighted avg", r.Weighted)
	return b.String()
}

func padLeft(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return strings.Repeat(" ", width-n) + s
	}
	return s
}

func ff(v float64, digits int) string { return strconv.FormatFloat(v, 'f', digits, 64) }

// ClassificationReport returns scikit-learn's classification_report text
// for labels 0..len(classNames)-1, byte for byte.
func ClassificationReport(yTrue, yPred []int, classNames []string, digits int) (string, error) {
	if digits < 0 {
		return "", fmt.Errorf("metrics: negative digits %d", digits)
	}
	r, err := NewReport(yTrue, yPred, classNames)
	if err != nil {
		return "", err
	}
	return r.Text(digits), nil
}
