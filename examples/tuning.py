"""
Tuning T and alpha: GridSearchCV and DistillerGridSearchCV
==========================================================

``GridSearchCV`` tunes a distiller like any estimator; with ``memory=`` the teacher is
fitted once per fold instead of once per candidate and fold.
:class:`~skdistill.DistillerGridSearchCV` goes further: per fold it fits the teacher once
and trains every candidate side by side as one stacked model, then refits the best. Both
make the same choice, with the same cross-validation scores.

The grid includes ``alpha=0``, the student on the labels alone: the baseline that
distillation has to beat.

Run: python examples/tuning.py
"""

import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, train_test_split

from skdistill import DistilledClassifier, DistillerGridSearchCV

X, y = make_classification(n_samples=1000, n_features=20, n_informative=8, n_classes=4,
                           n_clusters_per_class=2, flip_y=0.05, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
grid = {"T": [1.0, 4.0], "alpha": [0.0, 0.5, 0.9]}

# %%
# Side by side: one teacher fit per fold, the six candidates trained together.
model = DistilledClassifier(HistGradientBoostingClassifier(random_state=0),
                            module__hidden_layer_sizes=(32,), random_state=0)
start = time.perf_counter()
side_by_side = DistillerGridSearchCV(model, grid, cv=3).fit(X_train, y_train)
side_by_side_seconds = time.perf_counter() - start

# %%
# The same search through GridSearchCV, the teacher cached per fold.
with tempfile.TemporaryDirectory() as cache:
    start = time.perf_counter()
    search = GridSearchCV(model.set_params(memory=cache), grid, cv=3).fit(X_train, y_train)
    grid_seconds = time.perf_counter() - start

for name, fitted, seconds in [("DistillerGridSearchCV", side_by_side, side_by_side_seconds),
                              ("GridSearchCV, memory=", search, grid_seconds)]:
    print(f"{name:22s} {seconds:5.1f} s  best {fitted.best_params_}  "
          f"cv {fitted.best_score_:.4f}  test {fitted.score(X_test, y_test):.4f}")
largest = np.max(np.abs(side_by_side.cv_results_["mean_test_score"]
                        - search.cv_results_["mean_test_score"]))
print(f"largest difference between their mean cv scores: {largest:.2g}")

# %%
# Mean cross-validation accuracy over the grid: the first column is the student on the
# labels alone.
scores = side_by_side.cv_results_["mean_test_score"].reshape(len(grid["T"]), len(grid["alpha"]))
figure, ax = plt.subplots(figsize=(6, 2.8))
image = ax.imshow(scores, cmap="viridis", aspect="auto")
ax.set(xticks=range(len(grid["alpha"])), xticklabels=grid["alpha"], xlabel="alpha",
       yticks=range(len(grid["T"])), yticklabels=grid["T"], ylabel="T",
       title="mean 3-fold CV accuracy")
for (row, column), score in np.ndenumerate(scores):
    ax.text(column, row, f"{score:.3f}", ha="center", va="center", color="white", fontsize=8)
figure.colorbar(image)
figure.tight_layout()
