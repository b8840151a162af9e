"""
XGBoost, LightGBM and CatBoost teachers on a raw DataFrame
==========================================================

The gradient-boosting libraries most tabular models come from, as teachers of one small
network. The frame is as data come: a string column with missing values, a category, numbers
with missing values, and string labels. Each library reads it its own way -- XGBoost and
LightGBM read strings as pandas categories, CatBoost reads the strings themselves (a missing
one written as a string) -- and the student reads any of these forms with its ``"auto"``
encoding. XGBoost reads only class codes as labels: the distiller fits it on the codes of the
labels inside :class:`~skdistill.IntegerLabels`, so ``teacher_`` speaks the labels.

The script prints the test accuracy of each teacher, of its distilled student and of the same
student trained on the labels alone (``alpha=0``), and plots them: distillation pays only
where a teacher is ahead of that line. Needs the ``teachers`` extra
(``pip install "skdistill[teachers]"``).

Run: python examples/gradient_boosting_teachers.py
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from catboost import CatBoostClassifier
from lightgbm import LGBMClassifier
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from skdistill import DistilledClassifier


def survey(n=3000, seed=0):
    """Income, age, region (strings) and plan (a category); the answer depends on all four,
    with interactions a tree finds at once and a small network on few rows may not."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10, 0.6, n),
        "age": rng.integers(18, 80, n).astype(float),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
    })
    young = frame["age"] < 35
    rich = np.log(frame["income"]) > 10.2
    score = np.where(frame["region"].isin(["north", "east"]), young, rich).astype(float)
    score += np.where(frame["plan"] == "pro", rich & ~young, 0) - 0.5
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame.loc[rng.random(n) < 0.05, "region"] = None
    y = np.where(score + rng.normal(0, 0.4, n) > 0, "renews", "churns")
    return frame, y


frame, y = survey()
train, test = train_test_split(np.arange(len(y)), stratify=y, random_state=0)

# %%
# The teachers, each given the frame the way it reads it.
strings = ["region"]
as_categories = frame.astype({name: "category" for name in strings})
with_strings = frame.fillna({name: "missing" for name in strings})
categorical = ("region", "plan")  # CatBoost must be told of every non-numeric column
teachers = {
    "XGBoost": (XGBClassifier(enable_categorical=True, random_state=0), as_categories),
    "LightGBM": (LGBMClassifier(verbose=-1, random_state=0), as_categories),
    "CatBoost": (CatBoostClassifier(cat_features=categorical, verbose=0, random_seed=0,
                                    allow_writing_files=False), with_strings),
}

# %%
# Distil each; the labels-only student is the same call with ``alpha=0``.
scores = {}
for name, (teacher, X) in teachers.items():
    model = DistilledClassifier(teacher, random_state=0).fit(X.iloc[train], y[train])
    scores[name] = {
        "teacher": model.teacher_.score(X.iloc[test], y[test]),
        "student": model.score(X.iloc[test], y[test]),
    }
    print(f"{name:9s} teacher {scores[name]['teacher']:.4f}   "
          f"student {scores[name]['student']:.4f}   teacher_: {type(model.teacher_).__name__}")
labels_only = DistilledClassifier(teachers["LightGBM"][0], alpha=0.0, random_state=0)
labels_only.fit(as_categories.iloc[train], y[train])
only = labels_only.score(as_categories.iloc[test], y[test])
print(f"labels only (alpha=0): {only:.4f}")

# %%
# Accuracy on the test rows.
figure, ax = plt.subplots(figsize=(7, 2.8))
positions = np.arange(len(scores))
ax.bar(positions - 0.2, [s["teacher"] for s in scores.values()], 0.4, label="teacher")
ax.bar(positions + 0.2, [s["student"] for s in scores.values()], 0.4, label="student")
ax.axhline(only, color="black", linestyle="--", label="student on the labels alone")
ax.set(xticks=positions, xticklabels=list(scores), ylabel="test accuracy",
       ylim=(min(only, *(s["student"] for s in scores.values())) - 0.05, 1.0))
ax.legend(loc="lower right")
figure.tight_layout()
