package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ConfusionMatrix counts predictions with scikit-learn's convention:
// cm[i][j] is the number of samples of true class i predicted as class j.
func ConfusionMatrix(yTrue, yPred []int, numClasses int) ([][]int, error) {
	if err := checkLabels(yTrue, yPred, numClasses); err != nil {
		return nil, err
	}
	cm := make([][]int, numClasses)
	for i := range cm {
		cm[i] = make([]int, numClasses)
	}
	for i := range yTrue {
		cm[yTrue[i]][yPred[i]]++
	}
	return cm, nil
}

// Accuracy is the fraction of predictions equal to the true label (0 for
// no samples).
func Accuracy(yTrue, yPred []int) (float64, error) {
	if len(yTrue) != len(yPred) {
		return 0, fmt.Errorf("metrics: %d true labels but %d predictions", len(yTrue), len(yPred))
	}
	ok := 0
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			ok++
		}
	}
	return ratio(ok, len(yTrue)), nil
}

// ConfusionText renders cm as a table: one row per true class, one column
// per predicted class, headed by the class names (or indices when names is
// nil), e.g.
//
//	true\pred  cats  dogs
//	     cats    48     2
//	     dogs     5    45
func ConfusionText(cm [][]int, names []string) string {
	n := len(cm)
	label := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return strconv.Itoa(i)
	}
	const corner = `true\pred`
	w0 := len(corner)
	cw := 1
	for i := range n {
		w0 = max(w0, utf8.RuneCountInString(label(i)))
		cw = max(cw, utf8.RuneCountInString(label(i)))
		for _, v := range cm[i] {
			cw = max(cw, len(strconv.Itoa(v)))
		}
	}
	var b strings.Builder
	b.WriteString(padLeft(corner, w0))
	for j := range n {
		b.WriteString("  " + padLeft(label(j), cw))
	}
	b.WriteByte('\n')
	for i := range n {
		b.WriteString(padLeft(label(i), w0))
		for _, v := range cm[i] {
			b.WriteString("  " + padLeft(strconv.Itoa(v), cw))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
