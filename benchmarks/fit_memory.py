"""Many rows in memory: extra peak memory and rows per second of a whole fit, against MLPClassifier.

The workload of a user with a few million rows on a laptop: 50 features, 3 classes, the
teacher's logits precomputed (its own fit excluded), a 64-unit student, batch 512, 4 epochs
(no early stopping, the default 10 % validation split for DistilledClassifier), torch and
BLAS on one thread. Each contender fits in a fresh process, which first builds the data in
chunks (no temporary copies) and runs a small warm-up fit, so that what the libraries
allocate once is not counted. Reported per contender:

* **extra peak**: the process's peak resident memory during ``fit`` above what it held just
  before (the kernel's high-water mark, reset before the fit), as a multiple of the size of
  ``X`` as the caller holds it;
* **rows/s**: rows times epochs over the whole fit's wall time, setup included;
* **setup** (DistilledClassifier): the fit's wall time less its epochs' median duration times
  the number of epochs -- what it costs before (and around) the kept student's training
  steps: the students that choose alpha and, for ``"auto"``, the encoding (on a sample), and
  the encoding itself -- per million rows;
* **predict_proba**: the peak memory of ``predict_proba`` over all the rows, above what the
  process held before and the returned probabilities, as a multiple of the data (0 where the
  output reused memory freed during the call).

Contenders: ``DistilledClassifier`` reading the rows as given (``student_preprocessor=None``)
on float32 rows and on float64 rows; ``DistilledClassifier`` with its default
``student_preprocessor="auto"`` on float32 rows (a student per candidate encoding, the second
racing the first; the encoding fitted on at most 100,000 rows and computed by torch a batch at
a time as the students train, with no encoded copy of the rows); each with its default
``alpha="auto"``, which trains the kept student's labels-only twin as well -- on these many rows
the students that make both choices train on a sample of 100,000 rows, and only the kept one on
every row; and
``MLPClassifier`` (adam, same width, batch and learning rate, no early stopping) on float32
rows.

Run:  python benchmarks/fit_memory.py                 (about 4 minutes on 2 cores)
      python benchmarks/fit_memory.py --rows 1000000  (one size)
Saves the table to ``benchmarks/results/fit_memory.txt``.
"""

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

N_FEATURES = 50
N_CLASSES = 3
HIDDEN = (64,)
BATCH = 512
EPOCHS = 4
CONTENDERS = (
    "distilled float32", "distilled float64", "distilled auto float32", "MLPClassifier float32"
)
RESULTS = Path(__file__).parent / "results" / "fit_memory.txt"


def make_data(n_rows, dtype, seed=0, chunk=250_000):
    """Rows, labels and teacher logits, built chunk by chunk (no full-size temporaries)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_CLASSES, N_FEATURES)).astype(dtype)
    X = np.empty((n_rows, N_FEATURES), dtype=dtype)
    y = rng.integers(N_CLASSES, size=n_rows)
    logits = np.empty((n_rows, N_CLASSES), dtype=np.float32)
    for start in range(0, n_rows, chunk):
        part = slice(start, min(start + chunk, n_rows))
        X[part] = rng.normal(size=(part.stop - part.start, N_FEATURES)) + centres[y[part]]
        logits[part] = 3 * np.eye(N_CLASSES)[y[part]] + rng.normal(size=(len(y[part]), N_CLASSES))
    return X, y, logits


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes():
    """The high-water mark of resident memory (Linux: VmHWM; elsewhere ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak():
    """Reset the high-water mark to the current resident size; False where the OS cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def model_for(contender, n_epochs):
    from sklearn.neural_network import MLPClassifier

    from skdistill import DistilledClassifier

    if contender.startswith("MLPClassifier"):
        return MLPClassifier(
            HIDDEN, batch_size=BATCH, learning_rate_init=1e-3, max_iter=n_epochs, tol=0.0,
            n_iter_no_change=10**6, random_state=0,
        )
    return DistilledClassifier(
        "precomputed", module__hidden_layer_sizes=HIDDEN, batch_size=BATCH, lr=1e-3,
        max_epochs=n_epochs, n_iter_no_change=None, random_state=0,
        student_preprocessor="auto" if "auto" in contender else None,
    )


def fit(model, X, y, logits):
    if type(model).__name__ == "MLPClassifier":
        return model.fit(X, y)
    return model.fit(X, y, teacher_logits=logits)


def worker(contender, n_rows):
    """Fit one contender in this (fresh) process; print its figures as one JSON line."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    dtype = np.float64 if "float64" in contender else np.float32
    X, y, logits = make_data(n_rows, dtype)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(model_for(contender, 2), *make_data(4096, dtype, seed=1))  # warm-up
        model = model_for(contender, EPOCHS)
        gc.collect()
        exact = reset_peak()
        before = resident_bytes()
        start = time.perf_counter()
        fit(model, X, y, logits)
        seconds = time.perf_counter() - start
    extra = peak_resident_bytes() - before
    gc.collect()
    reset_peak()
    before = resident_bytes()
    proba = model.predict_proba(X)
    predict_extra = peak_resident_bytes() - before - proba.nbytes
    result = {
        "contender": contender, "rows": n_rows, "data_bytes": X.nbytes,
        "extra_bytes": extra, "exact_peak": exact, "seconds": seconds,
        "rows_per_second": n_rows * EPOCHS / seconds, "predict_extra_bytes": predict_extra,
    }
    if hasattr(model, "student_"):
        epochs = [row["dur"] for row in model.student_.history]
        result["setup_seconds"] = seconds - EPOCHS * statistics.median(epochs)
    print(json.dumps(result))


def run_fresh(contender, n_rows):
    out = subprocess.run(
        [sys.executable, __file__, "--worker", contender, "--rows", str(n_rows)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results):
    from results_log import machine  # here: it imports torch, which workers import late

    lines = [
        f"Fit memory and speed: {N_FEATURES} features, {N_CLASSES} classes, precomputed teacher, "
        f"{HIDDEN[0]}-unit student, batch {BATCH}, {EPOCHS} epochs, one thread, a fresh process "
        "per contender.",
        f"Machine: {machine()}",
        "",
        "| rows | contender | data | fit: extra peak | extra / data | rows/s "
        "| rows/s vs MLPClassifier | setup s per M rows | predict_proba: extra / data |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n_rows in sorted({r["rows"] for r in results}):
        group = [r for r in results if r["rows"] == n_rows]
        mlp = next((r for r in group if r["contender"].startswith("MLP")), None)
        for r in group:
            speed = "" if mlp is None else f"{r['rows_per_second'] / mlp['rows_per_second']:.2f}x"
            setup = r.get("setup_seconds")
            setup = "" if setup is None else f"{setup / (n_rows / 1e6):.2f}"
            lines.append(
                f"| {n_rows:,} | {r['contender']} | {r['data_bytes'] / 1e6:,.0f} MB "
                f"| {r['extra_bytes'] / 1e6:,.0f} MB | {r['extra_bytes'] / r['data_bytes']:.2f}x "
                f"| {r['rows_per_second'] / 1e3:,.0f} k | {speed} | {setup} "
                f"| {max(0, r['predict_extra_bytes']) / r['data_bytes']:.2f}x |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--worker", choices=CONTENDERS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.rows[0])
    results = []
    for n_rows in args.rows:
        for contender in CONTENDERS:
            results.append(run_fresh(contender, n_rows))
            print(json.dumps(results[-1]), flush=True)
    text = table(results)
    print(text)
    if args.rows == parser.get_default("rows"):
        RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
