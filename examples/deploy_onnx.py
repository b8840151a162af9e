"""
Deployment: a DataFrame model shipped as one ONNX file
======================================================

A gradient-boosting teacher reads a DataFrame with a string column, a category column and
missing values; the distilled student reads its own encoding of the same frame. One call,
:func:`~skdistill.export_onnx`, writes the encoding and the network into one ONNX file
with one input per column; :func:`~skdistill.onnx_inputs` turns new rows of the frame into
that file's inputs. onnxruntime then runs it without Python's scikit-learn, torch or the
teacher. For a Python service, :func:`~skdistill.strip_teacher` gives a small pickle.

The script checks that the ONNX file gives ``predict_proba``'s probabilities, compares
sizes, and plots the latency of one row and of 2,000 rows through the teacher, the
student's scikit-learn API and onnxruntime.

Run: python examples/deploy_onnx.py
"""

import os
import pickle
import tempfile
import timeit

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier, export_onnx, onnx_inputs, strip_teacher

rng = np.random.default_rng(0)
n = 4000
frame = pd.DataFrame({
    "income": rng.lognormal(10, 0.6, n),
    "age": rng.integers(18, 80, n).astype(float),
    "region": rng.choice(["north", "south", "east", "west"], n),
    "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
})
frame.loc[rng.random(n) < 0.1, "income"] = np.nan          # missing values
score = (np.log(frame["income"].fillna(22000)) - 10) + (frame["age"] - 45) / 20 \
    + frame["region"].map({"north": 0.5, "south": -0.5, "east": 0.0, "west": 0.2}) \
    + frame["plan"].map({"basic": -0.6, "plus": 0.0, "pro": 0.8}).astype(float)
y = np.where(score + rng.normal(0, 0.5, n) > 0, "renews", "churns")
X_train, X_test, y_train, y_test = train_test_split(frame, y, random_state=0)

# %%
# The teacher reads the frame as it is (categories from their dtype, strings as
# categories); the student's encoding is chosen in ``fit``.
teacher = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
model = DistilledClassifier(teacher, random_state=0).fit(
    X_train.astype({"region": "category"}), y_train)
print("column kinds:", model.feature_kinds_)
teacher_score = model.teacher_.score(X_test.astype({"region": "category"}), y_test)
print(f"test accuracy: teacher {teacher_score:.4f}, student {model.score(X_test, y_test):.4f}")

# %%
# Export with the frame's columns, then run new rows through onnxruntime.
folder = tempfile.mkdtemp()
path = export_onnx(model, os.path.join(folder, "student.onnx"), X=X_train)
session = onnxruntime.InferenceSession(path)
labels, probabilities = session.run(None, onnx_inputs(session, X_test))
print("ONNX inputs:", [i.name for i in session.get_inputs()])
print("largest difference to predict_proba:",
      f"{np.abs(probabilities - model.predict_proba(X_test)).max():.2g}")
print("same labels as predict:", bool((labels == model.predict(X_test)).all()))

stripped = strip_teacher(model)
print(f"bytes: full pickle {len(pickle.dumps(model)):,}, stripped {len(pickle.dumps(stripped)):,}, "
      f"ONNX file {os.path.getsize(path):,}")

# %%
# Latency, median of repeated calls, in milliseconds. A DataFrame row through
# ``predict_proba`` takes scikit-learn's fully checked path and the encoding's
# ``ColumnTransformer`` (plain float arrays take a fast path); the ONNX file is the way to
# serve frames one row at a time.
one, many = X_test.iloc[:1], X_test.iloc[:2000]
teacher_one, teacher_many = (rows.astype({"region": "category"}) for rows in (one, many))
contenders = {
    "teacher": (lambda: model.teacher_.predict_proba(teacher_one),
                lambda: model.teacher_.predict_proba(teacher_many)),
    "student, predict_proba": (lambda: stripped.predict_proba(one),
                               lambda: stripped.predict_proba(many)),
    "student, onnxruntime": (lambda: session.run(None, onnx_inputs(session, one)),
                             lambda: session.run(None, onnx_inputs(session, many))),
}
milliseconds = {name: [1e3 * np.median(timeit.repeat(call, number=1, repeat=30)) for call in calls]
                for name, calls in contenders.items()}
for name, (single, batch) in milliseconds.items():
    print(f"{name:24s} one row {single:7.3f} ms   2,000 rows {batch:7.2f} ms")

figure, axes = plt.subplots(1, 2, figsize=(10, 2.8))
for ax, at, title in zip(axes, (0, 1), ("one row", "2,000 rows")):
    ax.barh(list(milliseconds), [m[at] for m in milliseconds.values()])
    ax.set(title=title, xlabel="milliseconds (median)")
figure.tight_layout()
