"""Many candidates at once: DistillerGridSearchCV against GridSearchCV(n_jobs=2, memory=).

A T x alpha x width grid (3 x 4 x 2 = 24 candidates) on 5,000 rows x 20 features, 4 classes,
3 folds, a gradient-boosting teacher. ``DistillerGridSearchCV`` fits the teacher once per fold
and trains each width's 12 candidates side by side as one stacked model, in one process on one
thread; ``GridSearchCV`` fits candidate by candidate on 2 worker processes (one torch thread
each), with the teacher cached per fold by ``memory=``. Both refit the best candidate on all
rows. Prints wall seconds, the ratio, and whether both chose the same candidate, with the
default ``student_preprocessor="auto"``, with X read as given, and with ``solver="torch"``
(the stacked candidates step through torch's autograd, as they do on a GPU; each separate fit
trains through skorch's loop).

Run:  python benchmarks/grid_speed.py            (about 5 minutes on 2 cores)
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one torch thread here and in the workers

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from results_log import ResultsLog  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skdistill import DistilledClassifier, DistillerGridSearchCV  # noqa: E402

GRID = {"T": [1.0, 2.0, 4.0], "alpha": [0.3, 0.5, 0.7, 0.9],
        "module__hidden_layer_sizes": [(32,), (64,)]}


def compare(log, X, y, estimator):
    """Time DistillerGridSearchCV and GridSearchCV on the same grid; log both and the ratio."""
    start = time.perf_counter()
    side_by_side = DistillerGridSearchCV(estimator, GRID, cv=3).fit(X, y)
    ours = time.perf_counter() - start
    log(f"DistillerGridSearchCV (1 process, 1 thread)   {ours:6.1f} s  "
        f"best {side_by_side.best_params_}  cv {side_by_side.best_score_:.4f}")
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        search = GridSearchCV(estimator.set_params(memory=cache), GRID, cv=3, n_jobs=2).fit(X, y)
        theirs = time.perf_counter() - start
    log(f"GridSearchCV(n_jobs=2, memory=)              {theirs:6.1f} s  "
        f"best {search.best_params_}  cv {search.best_score_:.4f}")
    same = side_by_side.best_params_ == search.best_params_
    largest = np.max(np.abs(side_by_side.cv_results_["mean_test_score"]
                            - search.cv_results_["mean_test_score"]))
    log(f"wall-time ratio DistillerGridSearchCV / GridSearchCV: {ours / theirs:.2f}x;  "
        f"same choice: {same};  largest difference in a mean cv score: {largest:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    log = ResultsLog("grid_speed.txt")
    X, y = make_classification(args.rows, 20, n_informative=10, n_classes=4, random_state=0)
    X = X.astype(np.float32)
    n_candidates = int(np.prod([len(v) for v in GRID.values()]))
    log(f"torch {torch.__version__}; {args.rows} x 20, 4 classes, {n_candidates} candidates "
        "x 3 folds, HistGradientBoostingClassifier teacher, default training settings")

    settings = {
        "student_preprocessor='auto' (the default: each candidate also trains a student per "
        "encoding)": {},
        "student_preprocessor=None (X read as given)": {"student_preprocessor": None},
        "solver='torch' (the torch engine, as on a GPU)": {"solver": "torch"},
    }
    for title, params in settings.items():
        log(f"\n{title}")
        compare(log, X, y, DistilledClassifier(HistGradientBoostingClassifier(random_state=0),
                                               random_state=0, **params))
    log.save()


if __name__ == "__main__":
    main()
