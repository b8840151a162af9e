"""How large should the default student be? 64 hidden units against 256, and two layers of 128.

The plain call, ``DistilledClassifier(teacher)`` (the ``"auto"`` encoding and alpha), with its
default student of 64 hidden units, with ``module__hidden_layer_sizes=(256,)`` and with
``(128, 128)``, each beside
the same student on the labels alone (``alpha=0``), on the public sets of
``tabular_quality.py`` (the benchmark's eight and the four kept apart; the two panel sets also
split by person or household, so that no person is in both the training and the test rows).
Per set, teacher and seed: 75 % of the rows train (``split_rows``' training and selection rows
together: ``taught_split``), 25 % test; the teacher -- ``HistGradientBoostingClassifier`` or a
300-tree ``RandomForestClassifier`` -- is fitted on the training rows and its probabilities on them
are given to each student (``"precomputed"``).

Reports, per set: the teacher's test accuracy, each student's retention (median over seeds of
student / teacher accuracy), and each distilled student's mean difference in points to the
labels-only student of its shape; then, over the sets, the median and lowest retention, the
mean and worst difference of each larger student to the default one, and the student's size
(float32 weights).

Run:  python benchmarks/student_width.py [--seeds 3] [--teachers hgb forest]
      (about 30 minutes on 2 cores)
Writes ``benchmarks/results/student_width.md``.
"""

import statistics

from results_log import ResultsLog
from tabular_quality import ALL_DATASETS, TEACHERS, seeds_and_teachers, taught_split

from skdistill import DistilledClassifier

SHAPES = {"64": (64,), "256": (256,), "128x2": (128, 128)}
"""The students, by name: their hidden layer sizes; the first is the default."""
CONTENDERS = {f"{name}{suffix}": (shape, alpha) for name, shape in SHAPES.items()
              for suffix, alpha in (("", "auto"), (" labels only", 0.0))}


def one_split(load, seed, teacher_name):
    """Teacher accuracy, and per contender its test accuracy and number of weights."""
    X_train, X_test, y_train, y_test, teacher, proba = taught_split(load, seed, teacher_name)
    row = {"teacher": teacher.score(X_test, y_test)}
    for name, (shape, alpha) in CONTENDERS.items():
        model = DistilledClassifier("precomputed", alpha=alpha, random_state=seed,
                                    module__hidden_layer_sizes=shape)
        model.fit(X_train, y_train, teacher_proba=proba)
        weights = sum(p.numel() for p in model.student_.module_.parameters())
        row[name] = (model.score(X_test, y_test), weights)
    return row


def main():
    args = seeds_and_teachers(__doc__.splitlines()[0])
    log = ResultsLog("student_width.md")
    default, *larger = SHAPES
    log(f"The plain call with its default student (one hidden layer of 64 units), with 256 "
        f"units and with two layers of 128, each beside its labels-only twin (`alpha=0`); "
        f"{args.seeds} seeds, 75 / 25 splits (the panel sets also by person or household). "
        "*Kept*: median over seeds of student / teacher test accuracy; in brackets the mean "
        "difference to the labels-only student of the same shape, in points.")
    for teacher_name in args.teachers:
        log()
        log(f"Teacher: {type(TEACHERS[teacher_name](0)).__name__}")
        log()
        log("| set | teacher | " + " | ".join(f"kept, {name}" for name in SHAPES) + " | "
            + " | ".join(f"{name} - {default} (points)" for name in larger) + " |")
        log("|---|---|" + "---|" * (len(SHAPES) + len(larger)))
        kept = {name: [] for name in SHAPES}
        weights = {name: [] for name in SHAPES}
        against_default = {name: [] for name in larger}
        for set_name, load in ALL_DATASETS.items():
            runs = [one_split(load, seed, teacher_name) for seed in range(args.seeds)]
            cells = []
            for name in SHAPES:
                share = statistics.median(run[name][0] / run["teacher"] for run in runs)
                gain = statistics.mean(
                    100 * (run[name][0] - run[f"{name} labels only"][0]) for run in runs)
                kept[name].append(share)
                weights[name].extend(run[name][1] for run in runs)
                cells.append(f"{share:.1%} ({gain:+.2f})")
            for name in larger:
                difference = statistics.mean(
                    100 * (run[name][0] - run[default][0]) for run in runs)
                against_default[name].append((difference, set_name))
                cells.append(f"{difference:+.2f}")
            teacher = statistics.mean(run["teacher"] for run in runs)
            log(f"| {set_name} | {teacher:.4f} | {' | '.join(cells)} |")
        log()
        log("| student | median kept | lowest kept | weights (float32 bytes) |")
        log("|---|---|---|---|")
        for name in SHAPES:
            low, high = min(weights[name]), max(weights[name])
            log(f"| {name} | {statistics.median(kept[name]):.1%} | {min(kept[name]):.1%} | "
                f"{low:,}-{high:,} ({4 * low / 1e3:,.0f}-{4 * high / 1e3:,.0f} kB) |")
        log()
        for name in larger:
            differences = against_default[name]
            best, worst = max(differences), min(differences)
            rest = statistics.mean(d for d, set_name in differences if set_name != best[1])
            log(f"{name} against {default}: mean "
                f"{statistics.mean(d for d, _ in differences):+.2f} points; best {best[0]:+.2f} "
                f"({best[1]}), worst {worst[0]:+.2f} ({worst[1]}); without the best set "
                f"{rest:+.2f}.")
            log()
    log.save()


if __name__ == "__main__":
    main()
