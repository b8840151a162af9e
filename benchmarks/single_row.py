"""Prediction latency and artefact size of a distilled student, side by side.

A 32-unit student distilled on digits (64 features, 10 classes) from a
200-tree random forest. Prints the pickle of the full model, of
``strip_teacher(model)`` and the student's weight bytes, then times
``predict_proba`` on one row and on 10,000 rows against calling the raw torch
module (``student_.module_``, in ``torch.inference_mode``) on the same rows
already encoded (the default ``student_preprocessor="auto"`` encodes them inside
``predict_proba``), and prints medians and the ratios (goals: one row at most 3x,
10,000 rows at most 1.2x). Threads are pinned to one for every contender.
Saves what it prints to ``benchmarks/results/single_row.txt``.

Run:  python benchmarks/single_row.py
"""

import os
import pickle
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skdistill import DistilledClassifier, strip_teacher

RESULTS = Path(__file__).parent / "results" / "single_row.txt"


def median_seconds(fn, repeats, inner):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def main():
    lines = [
        "Command: python3 benchmarks/single_row.py",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}.",
    ]

    def say(line):
        print(line, flush=True)
        lines.append(line)

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    model = DistilledClassifier(
        RandomForestClassifier(200, random_state=0),
        module__hidden_layer_sizes=(32,),
        random_state=0,
    ).fit(X, y)
    weights = sum(p.numel() * p.element_size() for p in model.student_.module_.parameters())
    say(
        f"pickle: full model {len(pickle.dumps(model)):,} bytes, strip_teacher(model) "
        f"{len(pickle.dumps(strip_teacher(model))):,} bytes, student weights {weights:,} bytes"
    )
    module = model.student_.module_.eval()
    rng = np.random.RandomState(0)
    width = model.n_student_features_
    say(f"torch {torch.__version__}, 1 thread; student reads {model.student_encoding_!r}: "
          f"64 features -> {width} -> 32 -> 10")
    for label, rows, repeats, inner in (("1 row", 1, 15, 2000), ("10,000 rows", 10_000, 15, 5)):
        batch = X[rng.randint(0, len(X), rows)]
        encoded = model.student_preprocessor_.transform(batch)
        as_tensor = torch.as_tensor(encoded, dtype=torch.float32)

        def raw():
            with torch.inference_mode():
                return torch.softmax(module(as_tensor), dim=1).numpy()

        np.testing.assert_allclose(model.predict_proba(batch), raw(), atol=1e-6)
        t_raw = median_seconds(raw, repeats, inner)
        t_est = median_seconds(lambda: model.predict_proba(batch), repeats, inner)
        say(
            f"{label:12s} raw module {t_raw * 1e6:9.1f} us   predict_proba {t_est * 1e6:9.1f} us   "
            f"ratio {t_est / t_raw:.2f}x"
        )
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
