package metrics_test

import (
	"fmt"

	"github.com/dlcv-go/dlcv/metrics"
)

// The same predictions through scikit-learn's classification_report give
// the same text, byte for byte.
func ExampleClassificationReport() {
	names := []string{"cats", "dogs", "panda"}
	yTrue := []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}
	yPred := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1}
	report, err := metrics.ClassificationReport(yTrue, yPred, names, 2)
	if err != nil {
		panic(err)
	}
	fmt.Print(report)
	cm, _ := metrics.ConfusionMatrix(yTrue, yPred, len(names))
	fmt.Print("\n", metrics.ConfusionText(cm, names))
	// Output:
	//               precision    recall  f1-score   support
	//
	//         cats       0.70      0.70      0.70        10
	//         dogs       0.67      0.60      0.63        10
	//        panda       0.82      0.90      0.86        10
	//
	//     accuracy                           0.73        30
	//    macro avg       0.73      0.73      0.73        30
	// weighted avg       0.73      0.73      0.73        30
	//
	// true\pred   cats   dogs  panda
	//      cats      7      2      1
	//      dogs      3      6      1
	//     panda      0      1      9
}
