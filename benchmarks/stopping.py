"""Early stopping at T != 1: the calibrated held-out loss against the raw one.

At a temperature other than 1 the distillers stop on ``valid_calibrated_loss`` (the held-out
labels' cross-entropy after temperature scaling). The contender stops on the raw
``valid_label_loss`` (skorch's ``EarlyStopping`` on it, best epoch restored, patience 10,
as the distillers did at every temperature before). Everything else is the same: a frozen
gradient-boosting teacher, the default student and encoding, ``alpha=0.7``, T = 2 and 4,
the public sets of ``tabular_quality.py`` (needs the ``bench`` extra), --seeds splits;
then the harder image task of ``images.py`` at T = 4. Test accuracy (mean) and epochs.

Saves the table to ``benchmarks/results/stopping.md``.

Run:  python benchmarks/stopping.py            (about 15 minutes on 2 cores)
"""

import argparse
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch
from image_tasks import ConvNet, shifted_digits, train_on_labels
from results_log import machine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from skorch.callbacks import EarlyStopping

from skdistill import DistilledClassifier

RESULTS = Path(__file__).parent / "results" / "stopping.md"


def contenders(T):
    raw = EarlyStopping(monitor="valid_label_loss", patience=10, load_best=True)
    return {
        "calibrated (default)": dict(T=T),
        "raw label loss": dict(T=T, n_iter_no_change=None, callbacks=[("raw", raw)]),
    }


def tabular_runs(load, T, seed):
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y)
    teacher = FrozenEstimator(HistGradientBoostingClassifier(random_state=seed).fit(X_train,
                                                                                      y_train))
    out = {}
    for name, params in contenders(T).items():
        clf = DistilledClassifier(teacher, alpha=0.7, random_state=seed, **params)
        clf.fit(X_train, y_train)
        out[name] = (clf.score(X_test, y_test), clf.n_iter_)
    return out


def image_runs(T, seed):
    X_train, X_test, y_train, y_test = shifted_digits(seed=seed)
    teacher = train_on_labels(X_train, y_train, widths=(32, 64, 64), epochs=30, seed=seed)
    out = {}
    for name, params in contenders(T).items():
        clf = DistilledClassifier(teacher, student_module=ConvNet, module__widths=(4, 8, 16),
                                  alpha=0.7, random_state=seed, **params)
        clf.fit(X_train, y_train)
        out[name] = (clf.score(X_test, y_test), clf.n_iter_)
    return out


def row(title, runs):
    cells = []
    for name in runs[0]:
        acc = statistics.mean(r[name][0] for r in runs)
        epochs = statistics.mean(r[name][1] for r in runs)
        cells.append(f"{acc:.4f} ({epochs:.0f} epochs)")
    line = f"| {title} | " + " | ".join(cells) + " |"
    print(line, flush=True)
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--image-seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    from tabular_quality import DATASETS

    names = list(contenders(2.0))
    lines = [
        f"Command: python3 benchmarks/stopping.py --seeds {args.seeds} --image-seeds "
        f"{args.image_seeds}",
        f"Machine: {machine('one thread')}",
        "Test accuracy (mean) and epochs trained (mean), alpha=0.7.",
        "",
        "| data, T | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for T in (2.0, 4.0):
        for name, load in DATASETS.items():
            lines.append(row(f"{name}, T={T:g}",
                             [tabular_runs(load, T, s) for s in range(args.seeds)]))
    lines.append(row("shifted digits (16x16 images), T=4",
                     [image_runs(4.0, s) for s in range(args.image_seeds)]))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
