"""One row through ``predict_proba`` on a machine whose cores are busy, against a quiet one.

A row is computed padded to 16 rows (the same bits alone as in a batch). torch may split that
small product over its OpenMP threads, and a thread that waits for a busy core stalls the call;
``predict_proba`` therefore computes a call of at most 16 rows on one OpenMP thread of the
calling thread (``skdistill/_openmp.py``). This benchmark shows what that buys, with torch's
default thread count (as a user's process has it, unlike ``single_row.py``, which pins one
thread for every contender):

* ``predict_proba`` on one digits row (the 32-unit student of ``single_row.py``, once reading
  ``"scale"`` and once ``"both"``), as shipped;
* the student's raw module on the padded 16-row encoded tile, on torch's default threads (what
  the forward pass costs without the one-thread limit);
* the same raw call inside ``one_openmp_thread()``.

Each is timed quiet, then beside a second process that runs 512 x 512 float32 products on
torch's default threads for the whole measurement; the contenders take turns, --rounds rounds
of --calls calls. Prints the median, the mean and the slowest call of each.

Run:  python benchmarks/busy_row.py            (about two minutes on 2 cores)
Writes ``benchmarks/results/busy_row.txt``.
"""

import argparse
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from results_log import ResultsLog
from single_row import fitted
from sklearn.datasets import load_digits

from skdistill._inputs import ROW_TILE
from skdistill._openmp import one_openmp_thread

BUSY = """
import time, torch
x = torch.rand(512, 512)
end = time.time() + {seconds}
while time.time() < end:
    x @ x
"""


def timed(call, calls):
    """The seconds of each of ``calls`` calls of ``call``."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def contenders(model, row):
    module = model.student_.module_.eval()
    tile = np.zeros((ROW_TILE, model.n_student_features_), np.float32)
    tile[:1] = model.student_preprocessor_.transform(row)
    tile = torch.from_numpy(tile)

    def raw():
        with torch.inference_mode():
            return module(tile)

    def raw_one_thread():
        with torch.inference_mode(), one_openmp_thread():
            return module(tile)

    return {
        "predict_proba, one row": lambda: model.predict_proba(row),
        "raw module, 16-row tile, default threads": raw,
        "raw module, 16-row tile, one OpenMP thread": raw_one_thread,
    }


def measure(calls_by_name, rounds, calls):
    """name -> (median, mean, slowest) call in microseconds, over every round's calls."""
    times = {name: [] for name in calls_by_name}
    for _ in range(rounds):
        for name, call in calls_by_name.items():
            call()
            times[name] += timed(call, calls)
    return {name: tuple(1e6 * f(times[name]) for f in (statistics.median, statistics.mean, max))
            for name in calls_by_name}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    log = ResultsLog("busy_row.txt")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    log(f"torch's default threads: {torch.get_num_threads()}; {args.rounds} rounds of "
        f"{args.calls} calls each, the contenders taking turns; microseconds")
    for encoding in ("scale", "both"):
        model = fitted(encoding, X, y)
        calls_by_name = contenders(model, X[:1])
        quiet = measure(calls_by_name, args.rounds, args.calls)
        busy_process = subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=600)])
        try:
            time.sleep(2)  # the busy process has started its products
            busy = measure(calls_by_name, args.rounds, args.calls)
        finally:
            busy_process.kill()
        log("")
        log(f"student reads {encoding!r} ({model.n_student_features_} encoded inputs -> 32 -> 10)")
        log(f"{'':44s} {'quiet: median':>13s} {'mean':>7s} {'slowest':>8s}   "
            f"{'busy: median':>12s} {'mean':>7s} {'slowest':>8s}")
        for name in calls_by_name:
            log(f"{name:44s} {quiet[name][0]:13.1f} {quiet[name][1]:7.1f} {quiet[name][2]:8.0f}   "
                f"{busy[name][0]:12.1f} {busy[name][1]:7.1f} {busy[name][2]:8.0f}")
        default, limited = (busy[name][1] for name in list(calls_by_name)[1:])
        log(f"busy: the tile's forward on one OpenMP thread takes {limited / default:.2f}x the "
            "mean time on torch's default threads")
    log.save()


if __name__ == "__main__":
    main()
