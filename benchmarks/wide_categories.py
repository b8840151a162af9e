"""A categorical column with thousands of categories: sparse one-hot against dense.

A frame of 30,000 training rows: two numeric columns and a ``city`` column of
2,000 categories (pandas ``str``) whose effect on the label is as large as
the numbers'. A ``HistGradientBoostingClassifier`` teacher reads the city
through an ordinal encoding (its native categories stop at 255). The student
reads ``make_student_encoder(X, numeric="scale")``, whose one-hot encoding of
a column that wide is sparse (as ``student_preprocessor="auto"`` reads it),
against the same fit reading the same encoding densely (``sparse_output=False``). Side by side in
one process, torch pinned to one thread for both: fit time, ``predict_proba``
on 30,000 held-out rows and on one row (medians), and held-out accuracy, over
--seeds seeds.

Run:  python benchmarks/wide_categories.py          (about 3 minutes on 2 cores)
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import torch
from results_log import ResultsLog
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from skdistill import DistilledClassifier, make_student_encoder


def city_rows(n_rows, n_cities, seed):
    """Two numbers and a city of ``n_cities`` categories, each city with its own effect."""
    rng = np.random.RandomState(seed)
    effect = np.random.RandomState(1000).normal(size=n_cities)  # the same cities every draw
    city = rng.randint(0, n_cities, n_rows)
    X = pd.DataFrame({"a": rng.normal(size=n_rows), "b": rng.normal(size=n_rows),
                      "city": pd.Series([f"city{c}" for c in city], dtype="str")})
    y = (X["a"] + 0.5 * X["b"] + effect[city] + 0.5 * rng.normal(size=n_rows) > 0).astype(int)
    return X, y.to_numpy()


def teacher():
    ordinal = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["city"]),
        remainder="passthrough",
    )
    return make_pipeline(ordinal, HistGradientBoostingClassifier(max_iter=200, random_state=0))


def median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--cities", type=int, default=2_000)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    log = ResultsLog("wide_categories.txt")
    log(f"{args.rows:,} training rows, a 'city' column of {args.cities:,} categories, "
        f"{args.seeds} seeds; torch threads 1")
    results = {"sparse one-hot (default)": [], "dense one-hot": []}
    for seed in range(args.seeds):
        X, y = city_rows(args.rows, args.cities, seed)
        X_test, y_test = city_rows(args.rows, args.cities, 100 + seed)
        fitted_teacher = teacher().fit(X, y)
        teacher_accuracy = fitted_teacher.score(X_test, y_test)
        sparse = make_student_encoder(X, numeric="scale")
        dense = clone(sparse).set_params(
            sparse_threshold=0.0, categorical__one_hot__sparse_output=False)
        for name, preprocessor in zip(results, (sparse, dense)):
            model = DistilledClassifier(teacher(), student_preprocessor=preprocessor,
                                        random_state=seed)
            started = time.perf_counter()
            model.fit(X, y)
            fit_seconds = time.perf_counter() - started - model.fit_times_["teacher"]
            many = median_seconds(lambda: model.predict_proba(X_test), args.repeats)
            one = median_seconds(lambda: model.predict_proba(X_test[:1]), args.repeats * 4)
            results[name].append((model.score(X_test, y_test), fit_seconds, many, one,
                                  model.n_student_features_, model.n_iter_, teacher_accuracy))
    log("\nmedians over seeds (fit: the student's part, the teacher's fit left out)")
    log(f"{'student encoding':26s} {'accuracy':>9s} {'teacher':>8s} {'features':>9s} "
        f"{'epochs':>7s} {'fit s':>7s} {'predict 30k s':>14s} {'one row ms':>11s}")
    medians = {}
    for name, runs in results.items():
        accuracy, fit, many, one, width, epochs, teacher_accuracy = (
            statistics.median(column) for column in zip(*runs))
        medians[name] = (fit, many, one)
        log(f"{name:26s} {accuracy:9.4f} {teacher_accuracy:8.4f} {width:9.0f} {epochs:7.0f} "
            f"{fit:7.2f} {many:14.3f} {one * 1e3:11.2f}")
    sparse, dense = medians.values()
    log(f"\ndense / sparse: fit {dense[0] / sparse[0]:.1f}x, predict_proba on "
        f"{args.rows:,} rows {dense[1] / sparse[1]:.1f}x, one row {dense[2] / sparse[2]:.1f}x")
    log.save()


if __name__ == "__main__":
    main()
