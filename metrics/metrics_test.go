package metrics

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name      string   `json:"name"`
		YTrue     []int    `json:"yTrue"`
		YPred     []int    `json:"yPred"`
		Names     []string `json:"names"`
		Digits    int      `json:"digits"`
		Report    string   `json:"report"`
		Confusion [][]int  `json:"confusion"`
	} `json:"cases"`
	Sums []struct {
		Values []float64 `json:"values"`
		Sum    float64   `json:"sum"`
	} `json:"sums"`
}

func loadFixture(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn_reports.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 8 {
		t.Fatalf("fixture has %d cases", len(f.Cases))
	}
	return f
}

func TestClassificationReportMatchesSklearn(t *testing.T) {
	for _, c := range loadFixture(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := ClassificationReport(c.YTrue, c.YPred, c.Names, c.Digits)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.Report {
				t.Errorf("report differs from scikit-learn\n--- got\n%s\n--- want\n%s", got, c.Report)
			}
		})
	}
}

func TestConfusionMatrixMatchesSklearn(t *testing.T) {
	for _, c := range loadFixture(t).Cases {
		cm, err := ConfusionMatrix(c.YTrue, c.YPred, len(c.Names))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cm, c.Confusion) {
			t.Errorf("%s: confusion matrix differs from scikit-learn", c.Name)
		}
		acc, err := Accuracy(c.YTrue, c.YPred)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := NewReport(c.YTrue, c.YPred, c.Names)
		if acc != r.Accuracy {
			t.Errorf("%s: Accuracy %v, report accuracy %v", c.Name, acc, r.Accuracy)
		}
	}
}

func TestPairwiseSumMatchesNumpy(t *testing.T) {
	for _, s := range loadFixture(t).Sums {
		if got := pairwiseSum(s.Values); got != s.Sum {
			t.Errorf("n=%d: sum %v, numpy %v", len(s.Values), got, s.Sum)
		}
	}
}

func TestReportUndefinedAndJSON(t *testing.T) {
	// class 2 is never predicted and never true.
	r, err := NewReport([]int{0, 0, 1, 1}, []int{0, 1, 1, 1}, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Classes[2].Precision != 0 || r.Classes[2].Recall != 0 || len(r.Undefined) != 2 {
		t.Errorf("undefined class: %+v, undefined %q", r.Classes[2], r.Undefined)
	}
	if r.Accuracy != 0.75 || r.Classes[1].Precision != 2.0/3 || r.Classes[0].Recall != 0.5 {
		t.Errorf("scores: %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"precision"`, `"f1-score"`, `"support":2`, `"macro_avg"`, `"weighted_avg"`, `"accuracy":0.75`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON round trip: %v\n%+v\n%+v", err, back, *r)
	}
}

func TestBadLabels(t *testing.T) {
	if _, err := ClassificationReport([]int{0, 3}, []int{0, 1}, []string{"a", "b"}, 2); err == nil || !strings.Contains(err.Error(), "true label 3") {
		t.Errorf("out-of-range label: %v", err)
	}
	if _, err := ConfusionMatrix([]int{0}, []int{0, 1}, 2); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := ClassificationReport([]int{0}, []int{0}, []string{"a"}, -1); err == nil {
		t.Error("negative digits accepted")
	}
}

func TestConfusionText(t *testing.T) {
	got := ConfusionText([][]int{{48, 2}, {5, 145}}, []string{"cats", "dogs"})
	want := "true\\pred  cats  dogs\n" +
		"     cats    48     2\n" +
		"     dogs     5   145\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
