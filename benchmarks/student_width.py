"""How wide should the default student be? One hidden layer of 64 units against 256.

The plain call, ``DistilledClassifier(teacher)`` (the ``"auto"`` encoding and alpha), with its
default student of 64 hidden units and with ``module__hidden_layer_sizes=(256,)``, each beside
the same student on the labels alone (``alpha=0``), on the public sets of
``tabular_quality.py`` (the benchmark's eight and the four kept apart; the two panel sets also
split by person or household, so that no person is in both the training and the test rows).
Per set, teacher and seed: 75 % of the rows train (``split_rows``' training and selection rows
together), 25 % test; the teacher -- ``HistGradientBoostingClassifier`` or a 300-tree
``RandomForestClassifier`` -- is fitted on the training rows and its probabilities on them
are given to each student (``"precomputed"``).

Reports, per set: the teacher's test accuracy, each student's retention (median over seeds of
student / teacher accuracy), and each distilled student's mean difference in points to the
labels-only student of its width; then, over the sets, the median and lowest retention, the
mean and worst difference of the wide student to the default one, and the student's size
(float32 weights).

Run:  python benchmarks/student_width.py [--seeds 3] [--teachers hgb forest]
      (about 20 minutes on 2 cores)
Writes ``benchmarks/results/student_width.md``.
"""

import argparse
import statistics
import warnings

import numpy as np
import torch
from results_log import ResultsLog
from tabular_quality import ALL_DATASETS, TEACHERS, split_rows

from skdistill import DistilledClassifier

WIDTHS = (64, 256)
CONTENDERS = {f"{width}{suffix}": (width, alpha) for width in WIDTHS
              for suffix, alpha in (("", "auto"), (" labels only", 0.0))}


def one_split(load, seed, teacher_name):
    """Teacher accuracy, and per contender its test accuracy and number of weights."""
    loaded = load()
    X, y = np.asarray(loaded[0], dtype=np.float64), np.asarray(loaded[1])
    groups = loaded[2] if len(loaded) > 2 else None
    X_train, X_select, X_test, y_train, y_select, y_test = split_rows(X, y, groups, seed=seed)
    X_train, y_train = np.vstack([X_train, X_select]), np.concatenate([y_train, y_select])
    teacher = TEACHERS[teacher_name](seed).fit(X_train, y_train)
    proba = teacher.predict_proba(X_train)
    row = {"teacher": teacher.score(X_test, y_test)}
    for name, (width, alpha) in CONTENDERS.items():
        model = DistilledClassifier("precomputed", alpha=alpha, random_state=seed,
                                    module__hidden_layer_sizes=(width,))
        model.fit(X_train, y_train, teacher_proba=proba)
        weights = sum(p.numel() for p in model.student_.module_.parameters())
        row[name] = (model.score(X_test, y_test), weights)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--teachers", nargs="+", default=["hgb", "forest"],
                        choices=["hgb", "forest"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    log = ResultsLog("student_width.md")
    log(f"The plain call with its default student (one hidden layer of 64 units) and with 256 "
        f"units, each beside its labels-only twin (`alpha=0`); {args.seeds} seeds, 75 / 25 "
        "splits (the panel sets also by person or household). *Kept*: median over seeds of "
        "student / teacher test accuracy; in brackets the mean difference to the labels-only "
        "student of the same width, in points.")
    for teacher_name in args.teachers:
        log()
        log(f"Teacher: {type(TEACHERS[teacher_name](0)).__name__}")
        log()
        log("| set | teacher | kept, 64 | kept, 256 | 256 - 64 (points) |")
        log("|---|---|---|---|---|")
        kept = {width: [] for width in WIDTHS}
        wider, weights = [], {width: [] for width in WIDTHS}
        for name, load in ALL_DATASETS.items():
            runs = [one_split(load, seed, teacher_name) for seed in range(args.seeds)]
            cells = []
            for width in WIDTHS:
                share = statistics.median(run[str(width)][0] / run["teacher"] for run in runs)
                gain = statistics.mean(
                    100 * (run[str(width)][0] - run[f"{width} labels only"][0]) for run in runs)
                kept[width].append(share)
                weights[width].extend(run[str(width)][1] for run in runs)
                cells.append(f"{share:.1%} ({gain:+.2f})")
            difference = statistics.mean(100 * (run["256"][0] - run["64"][0]) for run in runs)
            wider.append((difference, name))
            teacher = statistics.mean(run["teacher"] for run in runs)
            log(f"| {name} | {teacher:.4f} | {' | '.join(cells)} | {difference:+.2f} |")
        log()
        log("| width | median kept | lowest kept | weights (float32 bytes) |")
        log("|---|---|---|---|")
        for width in WIDTHS:
            low, high = min(weights[width]), max(weights[width])
            log(f"| {width} | {statistics.median(kept[width]):.1%} | {min(kept[width]):.1%} | "
                f"{low:,}-{high:,} ({4 * low / 1e3:,.0f}-{4 * high / 1e3:,.0f} kB) |")
        worst = min(wider)
        best = max(wider)
        log()
        log(f"256 units against 64: mean {statistics.mean(d for d, _ in wider):+.2f} points; "
            f"best {best[0]:+.2f} ({best[1]}), worst {worst[0]:+.2f} ({worst[1]}); "
            f"without the best set {statistics.mean(d for d, n in wider if n != best[1]):+.2f}.")
    log.save()


if __name__ == "__main__":
    main()
