"""
Grid search on a dask cluster
=============================

Grid-search T and alpha across a dask.distributed cluster.

scikit-learn's GridSearchCV runs its fits through joblib; with joblib's dask
backend they run on the cluster's workers. Each worker gets one torch thread,
so workers sharing a machine do not oversubscribe its cores.

Run:  python examples/dask_grid_search.py                      (starts a local cluster)
      python examples/dask_grid_search.py tcp://scheduler:8786 (an existing cluster)
"""

import argparse

import joblib
import torch
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier


def main():
    parser = argparse.ArgumentParser(
        description="Grid-search T and alpha across a dask.distributed cluster.")
    parser.add_argument("scheduler", nargs="?", help="address of a dask scheduler")
    args = parser.parse_args()

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    client.run(torch.set_num_threads, 1)
    print(f"cluster: {len(client.scheduler_info()['workers'])} workers")

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = make_pipeline(
        StandardScaler(),
        DistilledClassifier(RandomForestClassifier(100, random_state=0),
                            module__hidden_layer_sizes=(32,), max_epochs=60, random_state=0),
    )
    grid = {"distilledclassifier__T": [1.0, 2.0, 4.0],
            "distilledclassifier__alpha": [0.0, 0.5, 0.9]}
    with joblib.parallel_config(backend="dask"):
        search = GridSearchCV(model, grid, cv=3, n_jobs=-1).fit(X_train, y_train)
    print(f"best {search.best_params_}, cv accuracy {search.best_score_:.4f}, "
          f"test accuracy {search.score(X_test, y_test):.4f}")
    client.close()
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
