"""The kept weights: the best epoch's alone, or averaged with the epochs early stopping waited.

Early stopping keeps, by default, the mean of the best epoch's weights and those of the epochs
trained after it (``StopEarly``'s ``average``); the contender keeps the best epoch's weights
alone (``callbacks__early_stopping__average=False``). Both are the plain call,
``DistilledClassifier("precomputed")`` with the ``"auto"`` encoding and alpha, given a teacher's
probabilities on the training rows; beside them the default student on the labels alone
(``alpha=0``). The public sets of ``tabular_quality.py`` (the benchmark's eight and the four
kept apart; the two panel sets also split by person or household), 75 % of the rows to train
(``taught_split``), 25 % to test; the teacher is ``HistGradientBoostingClassifier`` or a 300-tree
``RandomForestClassifier``.

Reports, per set: the teacher's test accuracy, each student's retention (median over seeds of
student / teacher accuracy), the mean difference of the averaged weights to the best epoch's
and of the averaged student to its labels-only twin, in points; then the mean, worst and best
of those differences over the sets.

Run:  python benchmarks/weight_averaging.py [--seeds 3] [--teachers hgb forest]
      (about 25 minutes on 2 cores)
Writes ``benchmarks/results/weight_averaging.md``.
"""

import statistics

from results_log import ResultsLog
from tabular_quality import ALL_DATASETS, TEACHERS, seeds_and_teachers, taught_split

from skdistill import DistilledClassifier

CONTENDERS = {
    "averaged (default)": {},
    "best epoch": {"callbacks__early_stopping__average": False},
    "labels only": {"alpha": 0.0},
}


def test_accuracies(load, seed, teacher_name):
    """The teacher's test accuracy and each contender's, on one split."""
    X_train, X_test, y_train, y_test, teacher, proba = taught_split(load, seed, teacher_name)
    accuracies = {"teacher": teacher.score(X_test, y_test)}
    for name, params in CONTENDERS.items():
        model = DistilledClassifier("precomputed", random_state=seed, **params)
        accuracies[name] = model.fit(X_train, y_train, teacher_proba=proba).score(X_test, y_test)
    return accuracies


def summary(differences):
    """'mean +x; worst +y (set); best +z (set)' of (points, set) pairs."""
    worst, best = min(differences), max(differences)
    return (f"mean {statistics.mean(d for d, _ in differences):+.2f}; worst {worst[0]:+.2f} "
            f"({worst[1]}); best {best[0]:+.2f} ({best[1]})")


def main():
    args = seeds_and_teachers(__doc__.splitlines()[0])
    log = ResultsLog("weight_averaging.md")
    log("The plain call keeping the mean of the best epoch's weights and those of the epochs "
        "after it (the default), against the best epoch's weights alone, and the default "
        f"student on the labels alone (`alpha=0`); {args.seeds} seeds, 75 / 25 splits (the "
        "panel sets also by person or household). *Kept*: median over seeds of student / "
        "teacher test accuracy. The differences are means over seeds, in points of test "
        "accuracy.")
    for teacher_name in args.teachers:
        log()
        log(f"Teacher: {type(TEACHERS[teacher_name](0)).__name__}")
        log()
        log("| set | teacher | " + " | ".join(f"kept, {name}" for name in CONTENDERS)
            + " | averaged - best epoch | averaged - labels only |")
        log("|---|---|" + "---|" * (len(CONTENDERS) + 2))
        kept = {name: [] for name in CONTENDERS}
        over_best, over_labels = [], []
        for set_name, load in ALL_DATASETS.items():
            runs = [test_accuracies(load, seed, teacher_name) for seed in range(args.seeds)]
            cells = []
            for name in CONTENDERS:
                share = statistics.median(run[name] / run["teacher"] for run in runs)
                kept[name].append(share)
                cells.append(f"{share:.1%}")
            for other, pairs in (("best epoch", over_best), ("labels only", over_labels)):
                points = statistics.mean(
                    100 * (run["averaged (default)"] - run[other]) for run in runs)
                pairs.append((points, set_name))
                cells.append(f"{points:+.2f}")
            teacher = statistics.mean(run["teacher"] for run in runs)
            log(f"| {set_name} | {teacher:.4f} | {' | '.join(cells)} |")
        log()
        log("| student | median kept | lowest kept |")
        log("|---|---|---|")
        for name in CONTENDERS:
            log(f"| {name} | {statistics.median(kept[name]):.1%} | {min(kept[name]):.1%} |")
        log()
        log(f"Averaged against the best epoch: {summary(over_best)}.")
        log()
        log(f"Averaged against the labels-only student: {summary(over_labels)}.")
    log.save()


if __name__ == "__main__":
    main()
