"""
Regression: a boosting teacher distilled into a small network
=============================================================

:class:`~skdistill.DistilledRegressor` trains its student on
``alpha * MSE(student, teacher) + (1 - alpha) * MSE(student, y)``, with targets and
teacher predictions standardised internally. Here the target is a sum of steps and a
smooth term, which trees fit well and a small network on the targets alone fits less
well; the teacher also labels rows whose target is unknown (``NaN``).

The script compares, on held-out rows, the teacher, the same student trained on the
targets alone (``alpha=0``), the distilled student, and the distilled student with
unlabelled rows, then plots each model's predictions against the truth.

Run: python examples/regression.py
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from skdistill import DistilledRegressor


def make_data(n_rows, seed):
    """Steps along the first two features, a smooth wave along the third, noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_rows, 6))
    y = (2.0 * (X[:, 0] > 0.3) - 1.5 * (X[:, 1] < -0.2) * (X[:, 0] < 0.5)
         + np.sin(3 * X[:, 2]) + 0.2 * rng.normal(size=n_rows))
    return X.astype(np.float32), y


X, y = make_data(6000, seed=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# The teacher is fitted once, on every training row, and frozen. The students see only
# 600 of those rows with their targets.
teacher = FrozenEstimator(HistGradientBoostingRegressor(random_state=0).fit(X_train, y_train))
X_few, y_few = X_train[:600], y_train[:600]
student = dict(module__hidden_layer_sizes=(32,), max_epochs=400, random_state=0)

alone = DistilledRegressor(teacher, alpha=0.0, **student).fit(X_few, y_few)
distilled = DistilledRegressor(teacher, alpha=0.5, **student).fit(X_few, y_few)

# The other training rows, with their targets hidden: NaN marks an unlabelled row,
# which enters the teacher term only.
y_hidden = np.concatenate([y_few, np.full(len(y_train) - 600, np.nan)])
with_unlabelled = DistilledRegressor(teacher, alpha=0.5, **student).fit(X_train, y_hidden)

models = {"teacher (boosting)": teacher, "student, targets alone": alone,
          "student, distilled": distilled, "distilled + unlabelled rows": with_unlabelled}
for name, model in models.items():
    print(f"{name:30s} test R2 {r2_score(y_test, model.predict(X_test)):.4f}")

# %%
# Predictions against the truth on the test rows.
figure, axes = plt.subplots(1, len(models), figsize=(14, 3.4), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    ax.scatter(y_test, model.predict(X_test), s=3, alpha=0.4)
    ax.plot([-3, 4], [-3, 4], color="black", linewidth=0.8)
    ax.set(title=name, xlabel="true target")
axes[0].set_ylabel("prediction")
figure.tight_layout()
