"""Default fit on small data: time and accuracy against MLPClassifier(early_stopping=True).

The judge of the training defaults (``batch_size="auto"``, ``lr=3e-3``) against batches of 64
at ``lr=1e-3``. Two parts, every contender on one thread (torch and BLAS), fits interleaved:

1. A small workload: 5,000 training rows x 20 features, 4 classes
   (``make_classification``), the teacher's outputs precomputed (out-of-fold probabilities of a
   gradient-boosting teacher, so its fit is excluded), 1,250 test rows, --seeds seeds. Fit
   seconds (median) and test accuracy (mean) of the distilled student with default settings
   (``student_preprocessor="auto"``: a student per candidate encoding; ``alpha="auto"``: and a
   labels-only twin of the kept one), of the same at a fixed ``alpha=0.5``, of the same reading
   the rows as given (``student_preprocessor=None``), with batches of 64 at ``lr=1e-3`` (rows
   as given), and of ``MLPClassifier(early_stopping=True)``.
2. The public sets of ``tabular_quality.py`` (needs the ``bench`` extra), a frozen
   ``HistGradientBoostingClassifier`` teacher, standardised features: the same five
   contenders' test accuracy and fit seconds, so that a faster default is seen not to cost
   accuracy anywhere.

With ``--fresh K`` it also times the first fit in a fresh process (part 1's data, seed 0) of
the default distiller and of ``MLPClassifier``, K processes each, alternating, and the same fit
again in the same process: what a script that fits once pays, imports excluded.

Saves the table to ``benchmarks/results/defaults.md`` (``defaults_workload.md`` with
``--no-public``).

Run:  python benchmarks/defaults.py            (about 20 minutes on 2 cores)
"""

import argparse
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from results_log import machine
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdistill import DistilledClassifier

SMALL_BATCHES = dict(batch_size=64, lr=1e-3)
RESULTS = Path(__file__).parent / "results"


def contenders(teacher, seed):
    """name -> (unfitted model, extra fit arguments builder)."""
    return {
        "distilled, defaults": DistilledClassifier(teacher, random_state=seed),
        "distilled, defaults at alpha=0.5": DistilledClassifier(
            teacher, random_state=seed, alpha=0.5
        ),
        "distilled, rows as given": DistilledClassifier(
            teacher, random_state=seed, student_preprocessor=None
        ),
        "distilled, batch 64, lr 1e-3": DistilledClassifier(
            teacher, random_state=seed, student_preprocessor=None, **SMALL_BATCHES
        ),
        "MLPClassifier(early_stopping)": MLPClassifier(early_stopping=True, random_state=seed),
    }


def timed_fits(models, X_train, y_train, X_test, y_test, fit_params):
    """name -> (seconds, test accuracy); ``fit_params`` go to the distillers only."""
    scores = {}
    for name, model in models.items():
        extra = fit_params if isinstance(model, DistilledClassifier) else {}
        start = time.perf_counter()
        model.fit(X_train, y_train, **extra)
        scores[name] = (time.perf_counter() - start, float(model.score(X_test, y_test)))
    return scores


def issue_workload(seed, only=None):
    """Part 1 at ``seed``: every contender's (seconds, accuracy), or only the one named."""
    X, y = make_classification(6250, 20, n_informative=10, n_classes=4, random_state=seed)
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=1250, random_state=seed)
    proba = cross_val_predict(HistGradientBoostingClassifier(random_state=seed), X_train, y_train,
                              cv=5, method="predict_proba")
    models = contenders("precomputed", seed)
    if only is not None:
        models = {only: models[only]}
    return timed_fits(models, X_train, y_train, X_test, y_test, {"teacher_proba": proba})


FIRST_FIT = ("distilled, defaults", "MLPClassifier(early_stopping)")


def first_fit_seconds(processes):
    """name -> median seconds of (the first fit in a fresh process, the same fit again), each
    process a ``--worker``, the contenders alternating."""
    seconds = {name: [] for name in FIRST_FIT}
    for _ in range(processes):
        for name in FIRST_FIT:
            out = subprocess.run([sys.executable, __file__, "--worker", name],
                                 capture_output=True, text=True, check=True)
            seconds[name].append([float(word) for word in out.stdout.split()[-2:]])
    return {name: tuple(map(statistics.median, zip(*times))) for name, times in seconds.items()}


def public_set(load, seed):
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = (scaler.transform(a).astype(np.float32) for a in (X_train, X_test))
    teacher = HistGradientBoostingClassifier(random_state=seed).fit(X_train, y_train)
    return timed_fits(contenders(FrozenEstimator(teacher), seed), X_train, y_train, X_test,
                      y_test, {})


def summarise(title, runs):
    """Print one data set's medians and means; return its table row."""
    names = list(runs[0])
    seconds = {n: statistics.median(r[n][0] for r in runs) for n in names}
    accuracy = {n: statistics.mean(r[n][1] for r in runs) for n in names}
    mlp = seconds["MLPClassifier(early_stopping)"]
    cells = [f"{seconds[n]:.2f} s ({seconds[n] / mlp:.1f}x), {accuracy[n]:.4f}" for n in names]
    print(f"{title}: " + ";  ".join(f"{n} {c}" for n, c in zip(names, cells)), flush=True)
    return f"| {title} | " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-public", action="store_true", help="part 1 only")
    parser.add_argument("--fresh", type=int, default=0, metavar="K",
                        help="also time first fits in K fresh processes per contender")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.worker:
        with threadpool_limits(1):
            print(*(issue_workload(0, only=args.worker)[args.worker][0] for _ in range(2)))
        return
    names = list(contenders("precomputed", 0))
    lines = [
        f"Command: python3 benchmarks/defaults.py --seeds {args.seeds}"
        + (" --no-public" if args.no_public else "")
        + (f" --fresh {args.fresh}" if args.fresh else ""),
        f"Machine: {machine('one thread')}",
        f"Fit seconds (median; ratio to MLPClassifier) and test accuracy (mean) over "
        f"{args.seeds} seeds.",
        "",
        "| data | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    with threadpool_limits(1):
        lines.append(summarise("5,000 x 20, 4 classes, outputs precomputed",
                               [issue_workload(s) for s in range(args.seeds)]))
        if not args.no_public:
            from tabular_quality import DATASETS

            for name, load in DATASETS.items():
                lines.append(summarise(name, [public_set(load, s) for s in range(args.seeds)]))
    if args.fresh:
        first = first_fit_seconds(args.fresh)
        mlp = first["MLPClassifier(early_stopping)"][0]
        lines += ["", f"First fit in a fresh process, then the same fit again (5,000 x 20, seed "
                  f"0; median of {args.fresh} processes each, imports excluded): " + ";  ".join(
                      f"{name} {one:.2f} s ({one / mlp:.1f}x), again {two:.2f} s"
                      for name, (one, two) in first.items())]
        print(lines[-1], flush=True)
    out = RESULTS / ("defaults_workload.md" if args.no_public else "defaults.md")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
