"""Distil or compile? The teacher compiled for inference against the distilled student.

Digits (64 features, 10 classes; 75/25 split), a 200-tree random forest
teacher and a 32-unit student distilled from it. Each contender predicts
probabilities on one row and on 10,000 rows (medians, one thread for every
contender: scikit-learn with n_jobs=1, torch and onnxruntime pinned to one
thread):

* the forest through scikit-learn's ``predict_proba``;
* the forest compiled by skl2onnx and run by onnxruntime;
* the forest compiled to tensors by hummingbird (torch backend), when installed;
* the student through ``predict_proba``;
* the student's ONNX file (``export_onnx``) run by onnxruntime.

Also prints each artefact's bytes (pickle or ONNX file) and test accuracy.

Run:  python -m pip install -c constraints.txt -e ".[export,bench]"
      python benchmarks/distil_or_compile.py      (about 2 minutes)
"""

import os
import pickle
import tempfile
import warnings

import numpy as np
import onnxruntime
import skl2onnx
import torch
from single_row import median_seconds  # benchmarks/ is the script's folder
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier, export_onnx, strip_teacher


def session(model_bytes):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    forest = RandomForestClassifier(200, random_state=0, n_jobs=1).fit(X_train, y_train)
    student = DistilledClassifier(FrozenEstimator(forest), module__hidden_layer_sizes=(32,),
                                  random_state=0).fit(X_train, y_train)

    forest_onnx = skl2onnx.to_onnx(forest, X_train[:1], options={id(forest): {"zipmap": False}})
    forest_session = session(forest_onnx.SerializeToString())
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(student, os.path.join(folder, "student.onnx"))
        student_bytes = open(path, "rb").read()
    student_session = session(student_bytes)

    contenders = {
        "forest, scikit-learn": (forest.predict_proba, len(pickle.dumps(forest)), "pickle"),
        "forest, skl2onnx + onnxruntime": (
            lambda rows: forest_session.run(["probabilities"], {"X": rows})[0],
            len(forest_onnx.SerializeToString()), "ONNX"),
    }
    try:
        import hummingbird.ml

        compiled = hummingbird.ml.convert(forest, "torch")
        weights = sum(t.numel() * t.element_size() for t in compiled.model.state_dict().values())
        contenders["forest, hummingbird (torch)"] = (compiled.predict_proba, weights, "tensors")
    except ImportError:
        print("hummingbird-ml is not installed: its row is left out")
    contenders["student, predict_proba"] = (
        student.predict_proba, len(pickle.dumps(strip_teacher(student))), "pickle, stripped")
    contenders["student, ONNX + onnxruntime"] = (
        lambda rows: student_session.run(None, {"X": rows})[1], len(student_bytes), "ONNX")

    rng = np.random.RandomState(0)
    one, many = X_test[:1], X_test[rng.randint(0, len(X_test), 10_000)]
    print(f"digits, {len(X_train)} training rows; one thread for every contender\n")
    print("| contender | 1 row (ms) | 10,000 rows (ms) | bytes | test accuracy |")
    print("|---|---|---|---|---|")
    for name, (predict, size, kind) in contenders.items():
        proba = np.asarray(predict(X_test))
        accuracy = float(np.mean(proba.argmax(axis=1) == y_test))
        single = median_seconds(lambda: predict(one), repeats=15, inner=200)
        batch = median_seconds(lambda: predict(many), repeats=7, inner=1)
        print(f"| {name} | {1e3 * single:.3f} | {1e3 * batch:.1f} | {size:,} ({kind}) | "
              f"{accuracy:.4f} |")


if __name__ == "__main__":
    main()
