"""The AutoGluon side of ``benchmarks/peers.py``, run in AutoGluon's own virtual environment.

AutoGluon 1.6 needs pandas < 2.4, so it cannot share the project's environment; this script
imports nothing of skdistill. It reads one split from an ``.npz`` file (``X_train``,
``y_train``, ``X_test``), fits ``TabularPredictor`` (the teacher ensemble), distils it with
``TabularPredictor.distill`` (FAST-DAD: the ensemble labels augmented rows, single models
learn its outputs), distils it once more into its neural network alone (``NN_TORCH``), and
writes, to another ``.npz`` file: the ensemble's probabilities on the training and test rows;
for the best distilled model (best by AutoGluon's own validation score) and for the distilled
network, their test probabilities, names, bytes on disk once cloned for deployment and one-row
and 10,000-row latency through ``predict_proba``; and the seconds spent fitting and
distilling.

Run by peers.py:  <venv>/bin/python benchmarks/peers_autogluon.py SPLIT.npz OUT.npz SECONDS
"""

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def frame(X):
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


def median_seconds(call, repeats):
    """The median seconds of ``repeats`` calls after one warm-up call (peers.py uses it too)."""
    call()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def folder_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def student_figures(predictor, model, X_test, folder, prefix):
    """A distilled model's test probabilities, deployed bytes and latency, keyed by ``prefix``."""
    deployed = predictor.clone_for_deployment(folder, model=model)
    one_row, many = X_test.iloc[:1], X_test.sample(10_000, replace=True, random_state=0)
    return {
        f"{prefix}_test": predictor.predict_proba(X_test, model=model, as_pandas=False),
        f"{prefix}_name": np.asarray(model),
        f"{prefix}_bytes": folder_bytes(deployed),
        f"{prefix}_one_row_seconds": median_seconds(
            lambda: predictor.predict_proba(one_row, model=model), 30),
        f"{prefix}_many_rows_seconds": median_seconds(
            lambda: predictor.predict_proba(many, model=model), 3),
    }


def main(split_path, out_path, seconds):
    from autogluon.tabular import TabularPredictor  # only in AutoGluon's environment

    split = np.load(split_path)
    train = frame(split["X_train"]).assign(label=split["y_train"])
    X_test = frame(split["X_test"])
    work = tempfile.mkdtemp()
    try:
        started = time.perf_counter()
        predictor = TabularPredictor(label="label", path=f"{work}/teacher", verbosity=0).fit(
            train, time_limit=seconds, presets="medium_quality")
        fitted_at = time.perf_counter()
        distilled = predictor.distill(time_limit=seconds)
        distilled_at = time.perf_counter()
        network = predictor.distill(  # its neural network alone, distilled the same way
            time_limit=seconds, hyperparameters={"NN_TORCH": {}}, models_name_suffix="NN")
        network_at = time.perf_counter()
        board = predictor.leaderboard(silent=True).set_index("model")
        best = board.loc[distilled, "score_val"].idxmax()
        figures = student_figures(predictor, best, X_test, f"{work}/deployed", "student")
        if network:  # none where the time limit stopped it before a model was trained
            figures.update(student_figures(
                predictor, network[0], X_test, f"{work}/network", "network"))
            figures["network_distill_seconds"] = network_at - distilled_at
        np.savez(
            out_path,
            classes=np.asarray(predictor.class_labels),
            teacher_train=predictor.predict_proba(train, as_pandas=False),
            teacher_test=predictor.predict_proba(X_test, as_pandas=False),
            fit_seconds=fitted_at - started,
            distill_seconds=distilled_at - fitted_at,
            **figures,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
