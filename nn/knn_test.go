package nn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

type sklearnKNN struct {
	KNN []struct {
		K, Classes  int
		XShape      []int `json:"x_shape"`
		QShape      []int `json:"q_shape"`
		X, Q, Proba []float32
		Y, Pred     []int
	} `json:"knn"`
	Histograms []struct {
		Shape   []int
		Bins    int
		X, Hist []float32
	}
}

func loadSklearnKNN(t *testing.T) sklearnKNN {
	t.Helper()
	raw, err := os.ReadFile("testdata/sklearn_knn.json")
	if err != nil {
		t.Fatal(err)
	}
	var f sklearnKNN
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// knnGraph is features -> KNN, fitted to the points.
func knnGraph(t *testing.T, k, classes, d int, points []float32, labels []int) (*Graph, *KNN) {
	t.Helper()
	g := NewGraph()
	x := g.Input("features", d)
	op := NewKNN(k, classes)
	g.Output(g.Apply(op, x))
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	if err := op.SetTrainingSet(points, labels); err != nil {
		t.Fatal(err)
	}
	return g, op
}

func TestKNNAgainstScikitLearn(t *testing.T) {
	f := loadSklearnKNN(t)
	if len(f.KNN) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.KNN {
		g, _ := knnGraph(t, c.K, c.Classes, c.XShape[1], c.X, c.Y)
		q, _ := tensor.FromSlice(c.Q, c.QShape...)
		y, err := g.Predict(q)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.Proba {
			if math.Abs(float64(y.Data[i]-want)) > 1e-6 {
				t.Fatalf("k=%d: proba[%d] = %v, scikit-learn %v", c.K, i, y.Data[i], want)
			}
		}
		for r, want := range c.Pred {
			if got := argmaxRow(y.Data[r*c.Classes : (r+1)*c.Classes]); got != want {
				t.Errorf("k=%d row %d: class %d, scikit-learn %d", c.K, r, got, want)
			}
		}
	}
}

func argmaxRow(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Ties: equal distances go to the stored vector that comes first, equal
// votes to the lower class; a query equal to a stored point finds it.
func TestKNNTies(t *testing.T) {
	points := []float32{0, 0, 2, 0, -2, 0, 0, 2} // distance 2 from the origin's neighbours
	g, _ := knnGraph(t, 2, 3, 2, points, []int{0, 2, 1, 1})
	q, _ := tensor.FromSlice([]float32{0, 0, 1, 0}, 2, 2)
	y, err := g.Predict(q)
	if err != nil {
		t.Fatal(err)
	}
	// Row 0: itself (class 0) and the first of three at distance 2 (class 2).
	// Row 1: (2,0) and (0,0) at distance 1 (classes 2, 0): a tie, class 0.
	want := []float32{0.5, 0, 0.5, 0.5, 0, 0.5}
	for i, w := range want {
		if y.Data[i] != w {
			t.Fatalf("votes %v, want %v", y.Data, want)
		}
	}
	if argmaxRow(y.Data[3:]) != 0 {
		t.Error("a tie in votes did not go to the lower class")
	}
}

func TestKNNSaveLoadAndErrors(t *testing.T) {
	points := []float32{0, 1, 1, 0, 3, 3}
	g, op := knnGraph(t, 1, 2, 2, points, []int{0, 1, 1})
	path := filepath.Join(t.TempDir(), "knn.safetensors")
	if err := SaveFile(path, g, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := tensor.FromSlice([]float32{0.1, 0.9, 2.5, 2.5}, 2, 2)
	y, err := m.Predict(q)
	if err != nil {
		t.Fatal(err)
	}
	if y.Data[0] != 1 || y.Data[3] != 1 {
		t.Fatalf("loaded k-NN predicts %v", y.Data)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{op.SetTrainingSet(points, []int{0, 1}), "values for 2 samples"},
		{op.SetTrainingSet(points, []int{0, 5, 1}), "not one of 2 classes"},
		{NewKNN(5, 2).SetTrainingSet(points, []int{0, 1, 1}), "before Build"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want %q", c.err, c.want)
		}
	}
	if _, err := NewKNN(0, 2).Shapes([][]int{{-1, 3}}); err == nil {
		t.Error("k = 0 accepted")
	}
	g3 := NewGraph()
	k3 := NewKNN(3, 2)
	g3.Output(g3.Apply(k3, g3.Input("f", 2)))
	if err := g3.Build(0); err != nil {
		t.Fatal(err)
	}
	if err := k3.SetTrainingSet([]float32{0, 0, 1, 1}, []int{0, 1}); err == nil || !strings.Contains(err.Error(), "k 3") {
		t.Errorf("k larger than the set: %v", err)
	}
	if _, err := g3.Predict(q); err == nil || !strings.Contains(err.Error(), "set the training set") {
		t.Errorf("predicting before the set is stored: %v", err)
	}
	if err := op.Backward(nil, nil, nil, nil, nil); err == nil {
		t.Error("KNN Backward succeeded")
	}
}

func TestColorHistogramAgainstNumPy(t *testing.T) {
	f := loadSklearnKNN(t)
	for _, c := range f.Histograms {
		op := NewColorHistogram(c.Bins)
		out, err := op.Shapes([][]int{c.Shape})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := tensor.FromSlice(c.X, c.Shape...)
		y := tensor.New(out[0]...)
		if err := op.Forward(&Call{}, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		for i, w := range c.Hist {
			if math.Abs(float64(y.Data[i]-w)) > 1e-6 {
				t.Fatalf("shape %v bins %d: cell %d = %v, numpy %v", c.Shape, c.Bins, i, y.Data[i], w)
			}
		}
	}
	if _, err := NewColorHistogram(1).Shapes([][]int{{1, 2, 2, 3}}); err == nil {
		t.Error("1 bin accepted")
	}
	if _, err := NewColorHistogram(8).Shapes([][]int{{1, 4}}); err == nil {
		t.Error("a vector input accepted")
	}
}
