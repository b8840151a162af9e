"""memory=: a grid search fits the teacher once per training fold, also with n_jobs=2."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from conftest import make_fast
from countingteacher import FileCountingTree, count_fits

GRID = {"T": [1.0, 2.0, 4.0], "alpha": [0.3, 0.9]}  # 6 candidates


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_fits_the_teacher_once_per_fold(iris, tmp_path, n_jobs):
    X, y = iris
    log = tmp_path / "fits.log"
    clf = make_fast(teacher=FileCountingTree(str(log)), max_epochs=2, memory=str(tmp_path / "cache"))
    search = GridSearchCV(clf, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    assert count_fits(log) == 3 + 1  # one per fold, plus the refit on all rows
    cached_scores = search.cv_results_["mean_test_score"]

    log.unlink()
    uncached = GridSearchCV(make_fast(teacher=FileCountingTree(str(log)), max_epochs=2), GRID, cv=3)
    uncached.fit(X, y)
    assert count_fits(log) == 6 * 3 + 1
    np.testing.assert_array_equal(uncached.cv_results_["mean_test_score"], cached_scores)


def test_memory_object_and_cache_hits_give_identical_models(iris, tmp_path):
    X, y = iris
    log = tmp_path / "fits.log"
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    first = make_fast(teacher=FileCountingTree(str(log)), memory=memory).fit(X, y)
    second = make_fast(teacher=FileCountingTree(str(log)), memory=memory).fit(X, y)
    assert count_fits(log) == 1
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    make_fast(teacher=FileCountingTree(str(log), max_depth=2), memory=memory).fit(X, y)
    assert count_fits(log) == 2  # other teacher parameters: a new entry


def test_bad_memory_is_a_clear_error(iris):
    X, y = iris
    with pytest.raises(ValueError, match="'memory' parameter"):
        make_fast(memory=3).fit(X, y)


def test_an_unhashable_teacher_falls_back_to_no_cache_with_a_warning(iris, tmp_path):
    X, y = iris

    class LocalTree(FileCountingTree):  # a class pickle cannot find by name
        pass

    log = tmp_path / "fits.log"
    clf = make_fast(teacher=LocalTree(str(log)), max_epochs=2, memory=str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="cannot be hashed.*without the cache"):
        clf.fit(X, y)
    assert count_fits(log) == 1 and clf.score(X, y) > 0.5
