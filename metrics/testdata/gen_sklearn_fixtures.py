#!/usr/bin/python3
"""Writes sklearn_reports.json: scikit-learn classification reports and
confusion matrices for fixed predictions, which metrics' tests must match
byte for byte. Run from this directory: /usr/bin/python3 gen_sklearn_fixtures.py
(made with scikit-learn 1.2.1, numpy 1.x)."""
import json
import warnings

import numpy as np
import sklearn
from sklearn.metrics import classification_report, confusion_matrix

warnings.simplefilter("ignore")  # zero_division warnings are expected
rng = np.random.RandomState(7)


def noisy(y, n, err):
    """Copies y, replacing a fraction err of labels by random ones."""
    p = y.copy()
    m = rng.rand(len(y)) < err
    p[m] = rng.randint(0, n, m.sum())
    return p


cases = []


def add(name, y_true, y_pred, names, digits):
    y_true = [int(v) for v in y_true]
    y_pred = [int(v) for v in y_pred]
    labels = list(range(len(names)))
    text = classification_report(y_true, y_pred, labels=labels, target_names=names, digits=digits)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    cases.append({"name": name, "yTrue": y_true, "yPred": y_pred, "names": names,
                  "digits": digits, "report": text, "confusion": cm.tolist()})


# two classes, as in the smile detector
y = rng.randint(0, 2, 300)
add("binary", y, noisy(y, 2, 0.2), ["not_smiling", "smiling"], 2)
add("binary_4digits", y, noisy(y, 2, 0.3), ["neg", "pos"], 4)

# ten classes with long and short names
names10 = ["0", "one", "a_very_long_class_name", "three", "4", "five", "six", "7", "eight", "nine"]
y = rng.randint(0, 10, 500)
add("ten_mixed_names", y, noisy(y, 10, 0.25), names10, 2)
add("ten_mixed_names_4digits", y, noisy(y, 10, 0.4), names10, 4)
add("mnist_digits", y, noisy(y, 10, 0.05), [str(i) for i in range(10)], 4)

# a class never predicted (precision 0/0) and a class never true (recall 0/0)
y = rng.randint(0, 4, 120)
p = noisy(y, 4, 0.3)
p[p == 2] = 1
add("never_predicted", y, p, ["cats", "dogs", "panda", "birds"], 2)
y2 = y.copy()
y2[y2 == 3] = 0
add("never_true", y2, noisy(y2, 4, 0.3), ["cats", "dogs", "panda", "birds"], 3)

# short names only: width set by "weighted avg"; many digits
add("short_names_6digits", y, noisy(y, 4, 0.5), ["a", "b", "c", "d"], 6)

# more than 128 classes exercises numpy's recursive pairwise summation
y = rng.randint(0, 140, 2000)
add("many_classes", y, noisy(y, 140, 0.6), ["c%03d" % i for i in range(140)], 4)

# numpy float64 sums of various lengths, to check the summation order
sums = []
for n in [1, 5, 7, 8, 9, 15, 16, 17, 100, 128, 129, 200, 300, 1000]:
    a = rng.rand(n) * 10 ** rng.uniform(-3, 3, n)
    sums.append({"values": a.tolist(), "sum": float(np.sum(a))})

with open("sklearn_reports.json", "w") as f:
    json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__,
               "cases": cases, "sums": sums}, f)
