// Package metrics evaluates classifiers: scikit-learn's classification
// report (byte-identical text layout, plus a JSON form), the confusion
// matrix and accuracy.
//
// Labels are class indices 0..len(classNames)-1; every class is listed in
// the report even when it has no support and is never predicted, as
// scikit-learn does when given labels=range(n). Undefined ratios (a class
// never predicted has no precision) are 0.0, scikit-learn's zero_division
// "warn" behaviour without the warning; Report.Undefined lists them.
package metrics
