"""
Unlabelled rows: in memory and as a dask array
==============================================

Labels are expensive; rows are not. The teacher labels rows the student has no labels
for, and those rows enter the teacher term only. Two ways to pass them:

* in the training set, marked by ``unlabeled_label=-1`` (scikit-learn's semi-supervised
  convention);
* as ``transfer_set``: an array, a DataFrame, or a dask array or DataFrame whose
  partitions the teacher labels where they live and the student streams one at a time.
  Here dask runs on local threads; with a ``distributed.Client`` the same call runs on a
  cluster.

The teacher was trained elsewhere on 3,000 labelled rows; the student gets 300 labelled
rows of its own and 20,000 unlabelled ones.

Run: python examples/unlabelled_dask.py
"""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from skdistill import DistilledClassifier

X, y = make_classification(n_samples=28_300, n_features=20, n_informative=10, n_classes=3,
                           n_clusters_per_class=2, random_state=0)
X = X.astype(np.float32)
X_teacher, y_teacher = X[:3000], y[:3000]
X_labelled, y_labelled = X[3000:3300], y[3000:3300]
X_unlabelled = X[3300:23_300]
X_test, y_test = X[23_300:], y[23_300:]

teacher = FrozenEstimator(HistGradientBoostingClassifier(random_state=0).fit(X_teacher, y_teacher))
# One batch size for every student: the automatic one is a sixteenth of the training rows,
# which would differ between the two ways of passing the unlabelled rows.
student = dict(module__hidden_layer_sizes=(64,), batch_size=64, random_state=0)

# %%
# The student on its 300 labels alone, then distilled on the same rows.
alone = DistilledClassifier(teacher, alpha=0.0, **student).fit(X_labelled, y_labelled)
distilled = DistilledClassifier(teacher, alpha=0.5, **student).fit(X_labelled, y_labelled)

# %%
# Unlabelled rows in the training set, marked -1.
X_marked = np.concatenate([X_labelled, X_unlabelled])
y_marked = np.concatenate([y_labelled, np.full(len(X_unlabelled), -1)])
marked = DistilledClassifier(teacher, alpha=0.9, unlabeled_label=-1, **student)
marked.fit(X_marked, y_marked)

# %%
# The same rows as a dask array of 8 partitions, streamed to the student.
rows = da.from_array(X_unlabelled, chunks=2500)
streamed = DistilledClassifier(teacher, alpha=0.9, transfer_set=rows, **student)
streamed.fit(X_labelled, y_labelled)
lazy = streamed.predict(da.from_array(X_test, chunks=1000))   # a lazy dask array

accuracies = {
    "teacher (3,000 labels)": teacher.score(X_test, y_test),
    "student, 300 labels alone": alone.score(X_test, y_test),
    "distilled, 300 rows": distilled.score(X_test, y_test),
    "+ 20,000 unlabelled rows, marked -1": marked.score(X_test, y_test),
    "+ 20,000 unlabelled rows, dask array": float((lazy.compute() == y_test).mean()),
}
for name, accuracy in accuracies.items():
    print(f"{name:38s} test accuracy {accuracy:.4f}")

# %%
figure, ax = plt.subplots(figsize=(7, 2.8))
ax.barh(list(accuracies)[::-1], list(accuracies.values())[::-1])
ax.set(xlim=(0.5, 1.0), xlabel="test accuracy")
figure.tight_layout()
