"""GridSearchCV across a real dask.distributed cluster gives the local result."""

import joblib
import numpy as np
import pytest
import torch
from conftest import make_fast
from sklearn.model_selection import GridSearchCV

distributed = pytest.importorskip("distributed")

GRID = {"T": [1.0, 3.0], "alpha": [0.2, 0.8]}


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster_matches_the_local_run(iris):
    X, y = iris
    estimator = make_fast(max_epochs=5)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as on each worker: the same arithmetic, the same result
    try:
        local = GridSearchCV(estimator, GRID, cv=3).fit(X, y)
    finally:
        torch.set_num_threads(threads)

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        client.run(torch.set_num_threads, 1)  # the recipe: one torch thread per worker
        assert set(client.run(torch.get_num_threads).values()) == {1}
        with distributed.get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            remote = GridSearchCV(estimator, GRID, cv=3, n_jobs=-1).fit(X, y)
        workers_used = {task["worker"] for task in tasks.data}
    assert len(workers_used) == 2  # both worker processes trained students
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
