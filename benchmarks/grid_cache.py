"""Grid search without refitting the teacher: ``memory=`` versus no cache.

A GridSearchCV over T x alpha (9 candidates, 3 folds, n_jobs=2) with a 300-tree
random-forest teacher on digits, run twice side by side: without a cache, the
teacher is refitted for every candidate and fold (27 + 1 fits); with
``memory=``, once per fold plus the refit (3 + 1). Prints the teacher fits
counted and the wall-time ratio.

Run:  python benchmarks/grid_cache.py      (about 3 minutes on 2 cores)
"""

import os
import tempfile
import time

from counted_forest import CountedForest
from results_log import ResultsLog
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier

GRID = {"distilledclassifier__T": [1.0, 2.0, 4.0], "distilledclassifier__alpha": [0.3, 0.6, 0.9]}


def run(folder, use_cache):
    log = os.path.join(folder, f"fits-{use_cache}.log")
    distiller = DistilledClassifier(
        CountedForest(log_path=log),
        module__hidden_layer_sizes=(32,),
        max_epochs=50,
        random_state=0,
        memory=os.path.join(folder, "cache") if use_cache else None,
    )
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(make_pipeline(StandardScaler(), distiller), GRID, cv=3, n_jobs=2)
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    with open(log) as handle:
        fits = len(handle.readlines())
    return seconds, fits, search.best_params_, search.best_score_


def main():
    log = ResultsLog("grid_cache.txt")
    with tempfile.TemporaryDirectory() as folder:
        plain = run(folder, use_cache=False)
        cached = run(folder, use_cache=True)
    log(f"grid: {len(GRID['distilledclassifier__T']) * len(GRID['distilledclassifier__alpha'])} "
        "candidates x 3 folds, n_jobs=2, teacher RandomForestClassifier(300), digits")
    for name, (seconds, fits, best, score) in (("no cache", plain), ("memory=", cached)):
        log(f"{name:9s} teacher fits {fits:3d}   wall {seconds:7.1f} s   best {best} cv {score:.4f}")
    log(f"teacher fits: {plain[1]} -> {cached[1]};  wall-time ratio cached / uncached: "
        f"{cached[0] / plain[0]:.2f}x")
    assert plain[2] == cached[2], "the cache must not change the result"
    log.save()


if __name__ == "__main__":
    main()
