package annotate

import (
	"strings"
	"testing"
)

func TestCheckLabels(t *testing.T) {
	ok := []string{"background", "cat", "dog"}
	for _, c := range []struct {
		labels  []string
		n       int
		want    []string
		warn    string
		errWant string
	}{
		{ok, 3, ok, "", ""},
		{[]string{"cat", "dog"}, 3, ok, "taking output 0 as \"background\"", ""},
		{ok, 2, []string{"cat", "dog"}, "dropping its first line", ""},
		{nil, 3, nil, "no labels", ""},
		{[]string{"cat", "dog", "cow", "pig"}, 2, nil, "", "labels.txt has 4 labels but the model has 2 outputs"},
		{[]string{"background", "cat"}, 3, nil, "", "has 2 labels but the model has 3 outputs"},
	} {
		got, warn, err := CheckLabels(c.labels, c.n, "labels.txt")
		if c.errWant != "" {
			if err == nil || !strings.Contains(err.Error(), c.errWant) {
				t.Errorf("%v/%d: error %v, want %q", c.labels, c.n, err, c.errWant)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != strings.Join(c.want, ",") || !strings.Contains(warn, c.warn) || (c.warn == "") != (warn == "") {
			t.Errorf("%v/%d: %v %q %v", c.labels, c.n, got, warn, err)
		}
	}
}
