"""More rows than memory: 20,000,000 x 50 float32 rows (4 GB) labelled on a dask cluster, streamed.

A histogram-gradient-boosting teacher is fitted on 50,000 labelled rows and
frozen. The unlabelled rows are generated lazily by dask (never materialised
on the client): the teacher labels them partition by partition on a
``LocalCluster`` of two single-threaded worker processes, its outputs stay
persisted on the workers, and the student (64 hidden units, batch 512) trains
one epoch on them, streamed a partition at a time.

Prints:

* the client's peak resident memory during that fit (goal: under 2 GB) and
  each worker's peak;
* the time the fit spent labelling and training (``fit_times_``), and the
  student's and the teacher's accuracy on 100,000 fresh rows;
* teacher-labelling throughput on the same ``--label-rows`` rows with one and
  with two workers;
* student-training throughput, streamed (the 20 M rows above) against the
  in-memory path (``transfer_set`` given as a 1,000,000-row array), one epoch
  each, the same student and batch size (goal: at least 0.7x).

Torch uses one thread on the client, as do the workers.

Run:  python benchmarks/dask_rows.py            (about 10 minutes on 2 cores)
      python benchmarks/dask_rows.py --rows 2000000 --label-rows 1000000   (a quick look)
      python benchmarks/dask_rows.py --scheduler tcp://host:8786   (the same code on a running
                                  cluster: the 20 M-row fit only, on its workers)
"""

import argparse
import resource
import threading
import time
import warnings

import dask
import dask.array as da
import numpy as np
import psutil
import torch
from distributed import Client, LocalCluster
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from skdistill import DistilledClassifier
from skdistill.teachers._adapters import as_teacher

N_FEATURES = 50
WEIGHTS = np.random.RandomState(42).normal(size=N_FEATURES)


def labels(X):
    """The planted rule: a sum of sines of five features and a linear term, thresholded."""
    score = np.sin(2 * X[:, :5]).sum(axis=1) + 0.2 * X @ WEIGHTS
    return (score > 0).astype(np.int64) + (score > 1.5)


def labelled_rows(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    return X, labels(X + 0.3 * rng.normal(size=X.shape))


def lazy_rows(n, chunk, seed):
    """``n`` rows generated on the workers (a dask graph; nothing is held anywhere yet)."""
    return da.random.RandomState(seed).standard_normal(
        size=(n, N_FEATURES), chunks=(chunk, N_FEATURES)
    ).astype(np.float32)


class PeakRSS:
    """Sample this process's resident memory every 20 ms; ``peak`` in GB."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        process = psutil.Process()
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, process.memory_info().rss / 1e9)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def worker_peaks_gb(client):
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)
    return sorted(peaks.values())


def student(teacher, transfer_set, seed=0):
    return DistilledClassifier(
        teacher, transfer_set=transfer_set, max_epochs=1, batch_size=512, lr=2e-3,
        module__hidden_layer_sizes=(64,), random_state=seed,
    )


def labelling_seconds(model, teacher, rows):
    """Seconds the teacher takes to label ``rows`` on the current cluster (outputs persisted)."""
    start = time.perf_counter()
    chunks = model._dask_transfer_chunks(as_teacher(teacher), rows, None)
    seconds = time.perf_counter() - start
    del chunks
    return seconds


def streamed_fit(client, teacher, X, y, X_test, y_test, args):
    """The student's fit over the lazily generated rows on ``client``'s workers; print figures."""
    client.run(torch.set_num_threads, 1)
    model = student(teacher, lazy_rows(args.rows, args.chunk, seed=2))
    with PeakRSS() as client_memory:
        model.fit(X, y)
    times = model.fit_times_
    streamed = (args.rows + len(y) * 0.9) / times["student"]
    since_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"\n{len(client.scheduler_info()['workers'])} workers, one epoch over "
          f"{args.rows:,} streamed rows:")
    print(f"  client peak RSS during the fit: {client_memory.peak:.2f} GB "
          f"({'under' if client_memory.peak < 2 else 'OVER'} the 2 GB goal); process peak "
          f"since start {since_start:.2f} GB")
    print("  worker peak RSS: " + ", ".join(f"{p:.2f} GB" for p in worker_peaks_gb(client)))
    print(f"  labelling {times['transfer_set']:.1f} s, training {times['student']:.1f} s "
          f"({streamed:,.0f} rows/s)")
    print(f"  accuracy on 100,000 fresh rows: student {model.score(X_test, y_test):.4f}, "
          f"teacher {teacher.score(X_test, y_test):.4f}")
    return model, streamed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--label-rows", type=int, default=4_000_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--scheduler", help="address of a running dask scheduler")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")

    X, y = labelled_rows(50_000, seed=0)
    X_test, y_test = labelled_rows(100_000, seed=1)
    teacher = FrozenEstimator(HistGradientBoostingClassifier(random_state=0).fit(X, y))
    gb = args.rows * N_FEATURES * 4 / 1e9
    print(f"rows: {args.rows:,} x {N_FEATURES} float32 ({gb:.1f} GB), partitions of "
          f"{args.chunk:,} rows; teacher: HistGradientBoostingClassifier fitted on 50,000 rows")

    if args.scheduler:
        with Client(args.scheduler) as client:
            streamed_fit(client, teacher, X, y, X_test, y_test, args)
        return
    throughput = {}
    for n_workers in (2, 1):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None, memory_limit="10GB") as cluster, \
                Client(cluster) as client:
            if n_workers == 2:
                model, streamed = streamed_fit(client, teacher, X, y, X_test, y_test, args)
            label_rows = lazy_rows(args.label_rows, args.chunk, seed=3)
            seconds = labelling_seconds(model, teacher, label_rows)
            throughput[n_workers] = args.label_rows / seconds
    print(f"\nteacher labelling of {args.label_rows:,} generated rows (generation included):")
    for n_workers in (1, 2):
        print(f"  {n_workers} worker(s): {throughput[n_workers]:,.0f} rows/s")
    print(f"  2 workers / 1 worker: {throughput[2] / throughput[1]:.2f}x")

    rng = np.random.RandomState(4)
    in_memory = rng.standard_normal(size=(args.memory_rows, N_FEATURES)).astype(np.float32)
    with dask.config.set(scheduler="threads"):
        local = student(teacher, in_memory).fit(X, y)
    resident = (args.memory_rows + len(y) * 0.9) / local.fit_times_["student"]
    print("\nstudent training, one epoch, batch 512, torch on 1 thread:")
    print(f"  in memory ({args.memory_rows:,} rows): {resident:,.0f} rows/s")
    print(f"  streamed from the cluster ({args.rows:,} rows): {streamed:,.0f} rows/s")
    print(f"  streamed / in memory: {streamed / resident:.2f}x (goal: at least 0.7x)")


if __name__ == "__main__":
    main()
