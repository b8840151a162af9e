"""Pruning against simply training a narrower student, on digits, side by side.

A 200-tree random forest teaches a 64-unit student (T=1, alpha=0.5). Three
students per seed, all under the same distillation loss and settings:

* the 64-unit student (unpruned);
* the same, pruned with ``Pruning(amount=0.75)`` to 16 units and fine-tuned
  (defaults: one step, at most 60 epochs; also 20 epochs, and 4 steps of 30);
* a 16-unit student trained directly.

Prints test accuracy (mean over seeds), parameters, ONNX bytes, one-row
predict_proba latency and fit time.

Run:  python benchmarks/pruning.py [n_seeds]
"""

import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from results_log import ResultsLog
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, Pruning, export_onnx

CONTENDERS = {
    "64 units": dict(module__hidden_layer_sizes=(64,)),
    "64 -> 16 pruned (defaults)": dict(
        module__hidden_layer_sizes=(64,), pruning=Pruning(amount=0.75)
    ),
    "64 -> 16 pruned, 20 epochs": dict(
        module__hidden_layer_sizes=(64,), pruning=Pruning(amount=0.75, fine_tune_epochs=20)
    ),
    "64 -> 16 pruned in 4 steps": dict(
        module__hidden_layer_sizes=(64,), pruning=Pruning(amount=0.75, steps=4, fine_tune_epochs=30)
    ),
    "16 units trained directly": dict(module__hidden_layer_sizes=(16,)),
}


def one_row_ms(model, row):
    model.predict_proba(row)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(500):
            model.predict_proba(row)
        times.append((time.perf_counter() - start) / 500)
    return 1e3 * statistics.median(times)


def main(n_seeds=5):
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    log = ResultsLog("pruning.txt")
    X, y = load_digits(return_X_y=True)
    results = {name: {"accuracy": [], "fit s": []} for name in CONTENDERS}
    for seed in range(n_seeds):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed, stratify=y)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        teacher = RandomForestClassifier(200, random_state=seed).fit(X_train, y_train)
        for name, settings in CONTENDERS.items():
            start = time.perf_counter()
            model = DistilledClassifier(
                FrozenEstimator(teacher),
                student_preprocessor=None,  # X is scaled above; every student reads it alike
                batch_size=128,
                lr=3e-3,
                max_epochs=100,
                random_state=seed,
                **settings,
            ).fit(X_train, y_train)
            results[name]["fit s"].append(time.perf_counter() - start)
            results[name]["accuracy"].append(model.score(X_test, y_test))
            results[name]["model"] = model
    log(f"digits, 200-tree forest teacher, {n_seeds} seeds, 1 torch thread")
    log(
        f"{'student':28s} {'accuracy':>9s} {'params':>7s} {'ONNX bytes':>11s} {'1 row ms':>9s} {'fit s':>6s}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, result in results.items():
            model = result["model"]
            params = sum(p.numel() for p in model.student_.module_.parameters())
            path = export_onnx(model, os.path.join(folder, "m.onnx"))
            log(
                f"{name:28s} {np.mean(result['accuracy']):9.4f} {params:7,d} "
                f"{os.path.getsize(path):11,d} {one_row_ms(model, X[:1] / 16):9.4f} "
                f"{np.mean(result['fit s']):6.2f}"
            )
    log.save()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
