"""Seeded fits in threads reproduce the same fits run one after another."""

from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from conftest import make_fast, rng_data
from sklearn.model_selection import GridSearchCV

X, Y = rng_data(n=120)


def fitted_proba(seed, dropout):
    clf = make_fast(random_state=seed, module__dropout=dropout, max_epochs=5, batch_size=16)
    return clf.fit(X, Y).predict_proba(X)


@pytest.mark.parametrize("dropout", [0.3, 0.0])  # autograd steps; numpy steps
def test_seeded_fits_in_threads_match_sequential_fits(dropout):
    seeds = list(range(6))
    sequential = [fitted_proba(seed, dropout) for seed in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fitted_proba, seeds, [dropout] * len(seeds)))
    for one, other in zip(sequential, threaded):
        np.testing.assert_array_equal(one, other)


def test_grid_search_with_the_threading_backend_matches_the_sequential_one():
    grid = {"alpha": [0.0, 0.5, 1.0], "module__dropout": [0.2]}
    model = make_fast(max_epochs=4, batch_size=16)
    sequential = GridSearchCV(model, grid, cv=2).fit(X, Y).cv_results_["mean_test_score"]
    with joblib.parallel_config(backend="threading", n_jobs=2):
        threaded = (
            GridSearchCV(model, grid, cv=2, n_jobs=2).fit(X, Y).cv_results_["mean_test_score"]
        )
    np.testing.assert_array_equal(sequential, threaded)


def test_a_few_rows_are_computed_on_one_openmp_thread_of_the_calling_thread_only():
    import threading

    import torch

    from skdistill._openmp import one_openmp_thread

    before = torch.get_num_threads()
    if before < 2:
        pytest.skip("torch runs on one thread here")
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        seen["other"] = torch.get_num_threads()
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with one_openmp_thread():
        seen["inside"] = torch.get_num_threads()
        inside.set()
        done.wait(5)
    worker.join()
    assert seen == {"inside": 1, "other": before} and torch.get_num_threads() == before

    model = make_fast(max_epochs=2).fit(X, Y)
    calls = []
    model.student_.module_.register_forward_hook(
        lambda module, args, out: calls.append(torch.get_num_threads()))
    one_row, many = model.predict_proba(X[:1]), model.predict_proba(np.tile(X, (20, 1)))
    assert calls == [1, before] and torch.get_num_threads() == before  # few rows, then many
    np.testing.assert_array_equal(one_row, many[:1])  # the same bits either way
