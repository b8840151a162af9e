"""Sparse input at TF-IDF scale: peak memory and time per epoch, and sparse vs densified batches.

Builds a 200,000 x 100,000 TF-IDF-like CSR matrix at 0.05 % density (50 stored
values per row; as dense float32 it would take 80 GB), labels it by a planted
linear rule, fits a ``LogisticRegression`` teacher on 20,000 of its rows, and
distils it (frozen, reading the whole matrix sparse) into a 64-unit
``MLPStudent`` for one epoch. Prints the process's peak resident memory after
building the data and after the fit, and the epoch time.

Then, side by side on the first 20,000 rows, one epoch each (medians of
--repeats runs): ``MLPStudent`` given sparse batches (``accepts_sparse``: a
sparse-dense product in the first layer) against the same network given each
batch densified (what a student without ``accepts_sparse`` receives).

Run:  python benchmarks/sparse_memory.py          (about 3 minutes on 2 cores)
"""

import argparse
import resource
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from results_log import ResultsLog
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skdistill import DistilledClassifier, MLPStudent


class DensifiedMLPStudent(MLPStudent):
    """MLPStudent that asks for dense batches, as any student without accepts_sparse."""

    accepts_sparse = False


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux


def tfidf_like(n_rows, n_columns, per_row, n_classes, seed=0):
    """CSR rows with ``per_row`` random non-negative, L2-normalised values; planted labels."""
    rng = np.random.RandomState(seed)
    columns = rng.randint(0, n_columns, n_rows * per_row).astype(np.int32)
    values = rng.exponential(size=n_rows * per_row).astype(np.float32)
    X = sp.csr_matrix(
        (values, columns, np.arange(0, n_rows * per_row + 1, per_row)), shape=(n_rows, n_columns)
    )
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = sp.diags(1 / norms).astype(np.float32) @ X
    weights = rng.normal(size=(n_columns, n_classes)).astype(np.float32)
    y = np.asarray(X @ weights).argmax(axis=1)
    return X.tocsr(), y


def distiller(teacher, module, seed, epochs=1):
    return DistilledClassifier(
        teacher,
        module,
        module__hidden_layer_sizes=(64,),
        max_epochs=epochs,
        batch_size=256,
        lr=3e-3,
        n_iter_no_change=None,
        random_state=seed,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=100_000)
    parser.add_argument("--per-row", type=int, default=50)
    parser.add_argument("--compare-rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    log = ResultsLog("sparse_memory.txt")
    log(f"torch {torch.__version__}, threads {torch.get_num_threads()}")

    X, y = tfidf_like(args.rows, args.columns, args.per_row, n_classes=4)
    stored = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e9
    dense = args.rows * args.columns * 4 / 1e9
    log(
        f"X: {args.rows:,} x {args.columns:,}, {X.nnz:,} stored values "
        f"({X.nnz / (args.rows * args.columns):.3%}); CSR {stored:.2f} GB, dense float32 "
        f"would be {dense:,.0f} GB"
    )
    log(f"peak resident memory after building X: {peak_rss_gb():.2f} GB")
    teacher = FrozenEstimator(LogisticRegression(max_iter=200).fit(X[:20_000], y[:20_000]))
    start = time.perf_counter()
    model = distiller(teacher, MLPStudent, seed=0).fit(X, y)
    seconds = time.perf_counter() - start
    epoch = model.student_.history[-1, "dur"]
    log(
        f"fit (teacher labels every row, 1 student epoch): {seconds:.1f} s, of which the epoch "
        f"{epoch:.1f} s; accuracy on 20,000 training rows {model.score(X[:20_000], y[:20_000]):.3f}"
    )
    log(f"peak resident memory after the fit:    {peak_rss_gb():.2f} GB")

    subset, labels = X[: args.compare_rows], y[: args.compare_rows]
    times = {"sparse batches (accepts_sparse)": [], "densified batches": []}
    for repeat in range(args.repeats):
        for name, module in zip(times, (MLPStudent, DensifiedMLPStudent)):
            fitted = distiller(teacher, module, seed=repeat).fit(subset, labels)
            times[name].append(fitted.student_.history[-1, "dur"])
    log(f"\none epoch on {args.compare_rows:,} rows, median of {args.repeats}:")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        log(f"  {name:34s} {value:8.2f} s")
    ratio = medians["densified batches"] / medians["sparse batches (accepts_sparse)"]
    log(f"ratio densified / sparse: {ratio:.1f}x")
    log.save()


if __name__ == "__main__":
    main()
